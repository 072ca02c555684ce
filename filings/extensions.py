"""延期申请: a filer asks for an extension before its deadline, the city officer may comment, the reviewing authority
grants (through `services.grant_extension`, the one way an extension exists) or refuses. Each step locks the request
row, is recorded on it (who, when, what) and shows on the filing's timeline; e-mails go out on commit."""
import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts import permissions
from config.jobs import send_task
from config.refusals import DomainRefusal

from . import selectors, services
from .models import ExtensionRequest, Filing

# The latest date a filer may ask for: this long after the year's window closes.
MAX_EXTENSION = datetime.timedelta(days=90)
NEEDS_NO_EXTENSION = (Filing.Status.SUBMITTED, Filing.Status.IN_REVIEW, Filing.Status.APPROVED)
Status = ExtensionRequest.Status


class ExtensionRequestRefused(DomainRefusal):
    """An extension request that cannot be made, commented, withdrawn or decided as asked."""


def _when(moment) -> str:
    return f"{timezone.localtime(moment):%Y年%m月%d日 %H:%M}"


def _text(value, label, *, missing=None) -> str:
    """A reason or comment, stripped: refused when empty (if `missing` says so) or longer than 500 characters."""
    value = (value or "").strip()
    if missing and not value:
        raise ExtensionRequestRefused(missing)
    if len(value) > 500:
        raise ExtensionRequestRefused(f"{label}不能超过500字。")
    return value


def request_extension(filing, *, actor, until, reason) -> ExtensionRequest:
    """The filer asks to file until `until`: before the deadline that applies now, for a filing still to be handed
    in, to a date after that deadline and at most MAX_EXTENSION after the window closes; one pending request a
    filing (the database's constraint decides between two tabs)."""
    if not permissions.can_request_extension(actor, filing):
        raise PermissionDenied("只有本机构的填报人可以申请延期。")
    reason = _text(reason, "延期原因", missing="请填写延期原因。")
    now = timezone.now()
    with transaction.atomic():
        locked = Filing.objects.select_for_update().select_related("institution__city", "year").get(pk=filing.pk)
        if locked.status in NEEDS_NO_EXTENSION:
            raise ExtensionRequestRefused(f"填报当前为“{locked.get_status_display()}”，无需申请延期。")
        deadline = selectors.editing_deadline(locked).at
        if now > deadline:
            raise ExtensionRequestRefused(f"填报已于{_when(deadline)}截止，不能再申请延期；请联系审核部门。")
        if until is None or until <= deadline:
            raise ExtensionRequestRefused(f"申请延期的时间必须晚于当前截止时间（{_when(deadline)}）。")
        latest = locked.year.closes_at + MAX_EXTENSION
        if until > latest:
            raise ExtensionRequestRefused(
                f"申请延期的时间不能晚于{_when(latest)}（填报截止后{MAX_EXTENSION.days}天）。"
            )
        if locked.extension_requests.filter(status=Status.PENDING).exists():
            raise ExtensionRequestRefused("本填报已有待审核的延期申请，请等待审核结果或先撤回该申请。")
        try:
            with transaction.atomic():
                request = ExtensionRequest.objects.create(
                    filing=locked, requested_until=until, reason=reason, requested_by=actor, requested_at=now
                )
        except IntegrityError:
            raise ExtensionRequestRefused("本填报已有待审核的延期申请，请等待审核结果或先撤回该申请。") from None
        _notify_on_commit(request, "requested")
    return request


def _pending(request, message_when_done) -> ExtensionRequest:
    """The request row, locked; refused unless still pending (a second decision, a decision on a withdrawal)."""
    locked = ExtensionRequest.objects.select_for_update().select_related(
        "filing__institution__city", "filing__year").get(pk=request.pk)
    if locked.status != Status.PENDING:
        raise ExtensionRequestRefused(
            f"该延期申请已{locked.get_status_display().removeprefix('已')}，{message_when_done}", status=409
        )
    return locked


def withdraw_extension_request(request, *, actor) -> ExtensionRequest:
    if not permissions.can_request_extension(actor, request.filing):
        raise PermissionDenied("只有本机构的填报人可以撤回延期申请。")
    with transaction.atomic():
        locked = _pending(request, "不能撤回。")
        locked.status = Status.WITHDRAWN
        locked.decided_by, locked.decided_at = actor, timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        _notify_on_commit(locked, "withdrawn")
    return locked


def comment_extension_request(request, *, actor, comment) -> ExtensionRequest:
    """The city officer's opinion for the reviewer (a later one replaces it while the request is pending)."""
    if not permissions.can_comment_extension_request(actor, request.filing):
        raise PermissionDenied("只有该机构所在市州的市场监管局人员可以填写意见。")
    comment = _text(comment, "意见", missing="请填写意见。")
    with transaction.atomic():
        locked = _pending(request, "不能再填写意见。")
        locked.officer_comment, locked.officer_comment_by, locked.officer_comment_at = comment, actor, timezone.now()
        locked.save(update_fields=["officer_comment", "officer_comment_by", "officer_comment_at"])
        _notify_on_commit(locked, "commented")
    return locked


def _check_decider(actor, request):
    if not permissions.can_decide_extension_request(actor, request.filing):
        raise PermissionDenied("只有该机构的审核部门可以审批延期申请。")


def grant_extension_request(request, *, actor, until=None, comment="") -> ExtensionRequest:
    """Grant until `until` (the requested date when not given; an earlier one is allowed, not a later one): the
    extension itself is written by services.grant_extension, as a direct grant is."""
    _check_decider(actor, request)
    comment = _text(comment, "审核意见")
    with transaction.atomic():
        locked = _pending(request, "不能再审批。")
        until = until or locked.requested_until
        if until > locked.requested_until:
            raise ExtensionRequestRefused(f"批准的延期时间不能晚于申请的时间（{_when(locked.requested_until)}）。")
        if until <= timezone.now():
            raise ExtensionRequestRefused("批准的延期时间必须晚于当前时间。")
        deadline = selectors.editing_deadline(locked.filing).at
        if until <= deadline:
            raise ExtensionRequestRefused(f"批准的延期时间必须晚于当前截止时间（{_when(deadline)}）。")
        filing = locked.filing
        extension = services.grant_extension(
            filing.institution, filing.year, actor=actor, until=until, reason=f"延期申请：{locked.reason}"
        )
        locked.status, locked.granted_until, locked.extension = Status.GRANTED, until, extension
        locked.decision_comment, locked.decided_by, locked.decided_at = comment, actor, timezone.now()
        locked.save(update_fields=["status", "granted_until", "extension", "decision_comment", "decided_by",
                                   "decided_at"])
        _notify_on_commit(locked, "granted")
    return locked


def refuse_extension_request(request, *, actor, comment) -> ExtensionRequest:
    _check_decider(actor, request)
    comment = _text(comment, "审核意见", missing="拒绝延期申请必须填写意见。")
    with transaction.atomic():
        locked = _pending(request, "不能再审批。")
        locked.status, locked.decision_comment = Status.REFUSED, comment
        locked.decided_by, locked.decided_at = actor, timezone.now()
        locked.save(update_fields=["status", "decision_comment", "decided_by", "decided_at"])
        _notify_on_commit(locked, "refused")
    return locked


# --- e-mail -----------------------------------------------------------------------------------------------------------

SUBJECTS = {
    "requested": "【质检统计直报】{institution}申请延期填报，请审核",
    "withdrawn": "【质检统计直报】{institution}已撤回延期申请",
    "commented": "【质检统计直报】市州局对{institution}的延期申请填写了意见",
    "granted": "【质检统计直报】{institution}{year}年度填报延期申请已批准",
    "refused": "【质检统计直报】{institution}{year}年度填报延期申请未获批准",
}
# Who is told: the officers and reviewers of the institution of what the filer and the officer did, the filers
# (and the city officers) of the decision.
TO_FILERS = {"granted", "refused"}


def _notify_on_commit(request, event):
    from .tasks import send_extension_request_notice  # tasks.py imports this module

    transaction.on_commit(lambda: send_task(send_extension_request_notice, request.pk, event))


def recipients(request, event) -> list[str]:
    institution = request.filing.institution
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    if event in TO_FILERS:
        addresses = [institution.contact_email] if institution.contact_email else []
        addresses += institution.users.filers().exclude(email="").values_list("email", flat=True)
        addresses += users.filter(permissions.extension_request_handlers_q(institution),
                                  region_id=institution.city_id).values_list("email", flat=True)
    else:
        addresses = list(users.filter(permissions.extension_request_handlers_q(institution))
                         .values_list("email", flat=True))
    return list(dict.fromkeys(a.strip().lower() for a in addresses if a))


def send_extension_request_notice(request_id: int, event: str) -> int:
    """E-mail who should hear of one step of an extension request; the number of addresses (0: nobody to tell)."""
    request = ExtensionRequest.objects.select_related(
        "filing__institution__city", "filing__year", "requested_by", "decided_by", "officer_comment_by"
    ).get(pk=request_id)
    to = recipients(request, event)
    if not to:
        return 0
    filing = request.filing
    context = {"request": request, "event": event, "filing": filing, "institution": filing.institution,
               "deadline": selectors.filing_deadline(filing), "site_name": "质检统计直报"}
    subject = SUBJECTS[event].format(institution=filing.institution.name, year=filing.year.year)
    send_mail(subject, render_to_string("filings/email/extension_request.txt", context), None, to)
    return len(to)
