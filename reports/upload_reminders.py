"""Upload reminders: officers remind the institutions of their area with no upload for a quarter, through the one
reminder mechanism of the review app (review/reminders.py, ADR 0019)."""
import logging

from django.core.exceptions import PermissionDenied

from accounts import permissions
from accounts.scoping import visible_to
from institutions.models import Institution
from review import reminders
from review.models import Reminder

from .quarters import Quarter
from .uploads import check_quarter

log = logging.getLogger(__name__)


def upload_reminder_letter(institution, quarter: Quarter) -> reminders.Letter:
    """The e-mail asking `institution` to upload the numbers of `quarter` (not a 催报: no 催报记录 entry)."""
    return reminders.Letter(
        subject=f"【质检统计直报】请上传{quarter.label}检验检测报告编号",
        body=(
            f"{institution.name}：\n\n系统显示贵单位尚未上传{quarter.label}出具的检验检测报告编号。"
            f"按规定应于{quarter.due_by:%Y年%m月%d日}前上传，请登录质检统计直报系统（报告编号 → 上传）尽快上传。\n"
        ),
    )


def remind_missing(institutions, *, actor, quarter: Quarter) -> dict:
    """Send each institution (with no upload for `quarter`) a reminder e-mail through the one reminder mechanism
    (review/reminders.py): those without an address are recorded and named; one reminded today already is skipped.
    Returns {"sent": [...], "without_email": [...], "already_today": [...]}."""
    if not permissions.can_send_reminders(actor):
        raise PermissionDenied("您无权发送上传提醒。")
    check_quarter(quarter)
    ids = [institution.pk for institution in institutions]
    allowed = set(visible_to(actor, Institution).filter(pk__in=ids).values_list("pk", flat=True))
    if allowed != set(ids):
        raise PermissionDenied("只能提醒本辖区的机构。")
    claimed = reminders.claim(
        institutions, reason=Reminder.Reason.UPLOAD, key=quarter.code, sent_by=actor,
        compose=lambda institution: upload_reminder_letter(institution, quarter),
    )
    for institution in claimed.without_email:
        log.info("upload reminder for %s (%s): no e-mail address, recorded only", institution.pk, quarter.code)
    return {"sent": claimed.queued, "without_email": claimed.without_email, "already_today": claimed.already_today}
