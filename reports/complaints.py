"""Complaints about a report number from the public verification page: filed, routed to the officers of the
institution's city (an e-mail on commit), and handled by them."""
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from accounts import permissions
from accounts.models import User
from config.jobs import send_task
from config.refusals import DomainRefusal
from institutions.models import Institution, Region

from .models import Complaint

log = logging.getLogger(__name__)


class ComplaintRefused(DomainRefusal):
    """A complaint that cannot be filed or handled as asked; the message is for the visitor or the officer."""


def find_institution(text: str):
    """The institution whose full name or unified social credit code is exactly `text`, if exactly one."""
    text = (text or "").strip()
    if not text:
        return None
    matches = list(Institution.objects.filter(credit_code=text.upper()).select_related("city")[:2])
    if not matches:
        matches = list(Institution.objects.filter(name=text).select_related("city")[:2])
    return matches[0] if len(matches) == 1 else None


def file_complaint(*, report_number: str, institution_text: str, description: str, contact: str, city=None,
                   client_address: str | None = None) -> Complaint:
    """Record a visitor's complaint and route it to the officers of the institution's city (or of the city the
    visitor chose when the institution is not in the register)."""
    institution = find_institution(institution_text)
    if institution is not None:
        city = institution.city
    if city is None:
        raise ComplaintRefused("未在名录中找到该机构：请核对机构全称或统一社会信用代码，或选择机构所在市州。")
    if city.level != Region.Level.CITY:
        raise ComplaintRefused("请选择机构所在的市州。")
    with transaction.atomic():
        complaint = Complaint.objects.create(
            report_number=report_number.strip()[:64], institution=institution,
            institution_text=institution_text.strip()[:200], city=city, description=description.strip()[:2000],
            contact=contact.strip()[:100], client_address=client_address,
        )
        transaction.on_commit(lambda: _queue_notice(complaint.pk))
    return complaint


def complaint_recipients(complaint: Complaint) -> list[str]:
    return list(
        User.objects.complaint_handlers(complaint.city_id)
        .exclude(email="").order_by("pk").values_list("email", flat=True)
    )


def send_complaint_notice(complaint_id: int) -> int:
    complaint = Complaint.objects.select_related("city").get(pk=complaint_id)
    recipients = complaint_recipients(complaint)
    if not recipients:
        log.warning("complaint %s: no city officer of %s has an e-mail address", complaint.pk, complaint.city)
        return 0
    send_mail(
        subject=f"【质检统计直报】报告编号投诉：{complaint.report_number}",
        message=(
            f"{complaint.city.name}市场监管部门：\n\n公众对以下检验检测报告提出投诉，请登录质检统计直报系统"
            f"（报告编号 → 投诉处理）查看并处理。\n\n报告编号：{complaint.report_number}\n"
            f"机构：{complaint.institution_text}\n提交时间：{timezone.localtime(complaint.created_at):%Y-%m-%d %H:%M}\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=recipients, fail_silently=False,
    )
    return len(recipients)


def handle_complaint(complaint: Complaint, *, actor, note: str) -> Complaint:
    if not permissions.can_handle_complaint(actor, complaint):
        raise PermissionDenied("只有受理市州的市州局人员可以处理该投诉。")
    note = (note or "").strip()
    if not note:
        raise ComplaintRefused("请填写处理情况。")
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
        if complaint.status == Complaint.Status.HANDLED:
            raise ComplaintRefused("该投诉已处理。")
        complaint.status, complaint.handled_by, complaint.handled_at = Complaint.Status.HANDLED, actor, timezone.now()
        complaint.handling_note = note[:2000]
        complaint.save(update_fields=["status", "handled_by", "handled_at", "handling_note"])
    return complaint



def _queue_notice(complaint_id: int) -> None:
    from .tasks import notify_complaint  # tasks.py imports this module

    send_task(notify_complaint, complaint_id)
