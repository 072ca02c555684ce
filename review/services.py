"""Review decisions (through the filing state machine, with field comments and the filer's e-mail), the chasing log,
manual and automatic reminder e-mails."""
import logging

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Role
from accounts.scoping import visible_to
from filings import services as filing_services
from filings import workflow
from filings.models import Filing, FilingTransition, ReportingYear
from institutions.models import Institution

from .models import AutoReminder, ChasingRecord, DecisionNotice, FieldComment

log = logging.getLogger(__name__)

CHASERS = (Role.CITY_OFFICER, Role.PROVINCIAL_REVIEWER, Role.ADMIN)


class ReminderRefused(Exception):
    """A reminder that cannot be sent (e.g. no e-mail address); the message is for the officer."""


def _check_chaser(actor, institution):
    if actor.role not in CHASERS or not visible_to(actor, Institution).filter(pk=institution.pk).exists():
        raise PermissionDenied("您无权对该机构催报。")


def log_chasing(institution, *, actor, year: int, channel: str, note: str, contacted_on=None) -> ChasingRecord:
    _check_chaser(actor, institution)
    record = ChasingRecord(
        institution=institution, year=year, channel=channel, note=note, recorded_by=actor,
        contacted_on=contacted_on or timezone.localdate(),
    )
    record.full_clean()
    record.save()
    return record


def request_reminders(institutions, *, actor, year: int, deadline) -> dict:
    """Queue one reminder e-mail per institution; those without an e-mail address are reported, not sent, and so are
    those already reminded by hand today (a double click, or the city and the province both pressing send)."""
    queued, without_email, already_today = [], [], []
    today = timezone.localdate().isoformat()
    for institution in institutions:
        _check_chaser(actor, institution)
        if not institution.contact_email:
            without_email.append(institution)
            continue
        # Atomic in the shared cache (Redis): only the first request of the day for an institution gets through.
        if not cache.add(f"review:manual-reminder:{year}:{institution.pk}:{today}", actor.pk, timeout=24 * 3600):
            already_today.append(institution)
            continue
        queued.append(institution)
    from .tasks import send_reminder_email

    for institution in queued:
        transaction.on_commit(
            lambda pk=institution.pk: send_reminder_email.delay(pk, year, deadline.isoformat(), actor.pk)
        )
    return {"queued": queued, "without_email": without_email, "already_today": already_today}


def send_reminder(institution_id: int, *, year: int, deadline, actor_id: int | None, automatic_note: str = ""):
    """Send the e-mail (raises on a mail-server failure, so the task retries) and then log it as chased."""
    institution = Institution.objects.select_related("city").get(pk=institution_id)
    if not institution.contact_email:
        raise ReminderRefused(f"{institution.name} 未登记电子邮箱，无法发送催报邮件。")
    context = {"institution": institution, "year": year, "deadline": deadline, "site_name": "质检统计直报"}
    subject = f"【质检统计直报】请于{deadline:%Y年%m月%d日}前完成{year}年度统计填报"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("review/email/reminder.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[institution.contact_email],
    )
    message.send(fail_silently=False)
    note = automatic_note or f"已发送催报邮件至 {institution.contact_email}"
    return ChasingRecord.objects.create(
        institution=institution, year=year, channel=ChasingRecord.Channel.EMAIL, note=note, recorded_by_id=actor_id,
    )


# --- review decisions --------------------------------------------------------------------------------------------

def _check_authority(filing, actor, name):
    """A reviewer outside the filing's authority or region may not act at all (403), whatever its state."""
    if not visible_to(actor, Filing).filter(pk=filing.pk).exists() or not workflow.TRANSITIONS[name].may(actor, filing):
        raise PermissionDenied("该填报不属于您的审核范围，您不能对其作出审核决定。")


def start_review(filing, *, actor) -> Filing:
    """The reviewer takes a submitted filing into review by POST (the filer can no longer withdraw it); a reviewer
    outside the filing's authority is refused with 403, a wrong state or a closed review with a message."""
    _check_authority(filing, actor, "start_review")
    return filing_services.start_review(filing, actor=actor)


def _notify_on_commit(transition_row):
    from .tasks import send_decision_email

    transaction.on_commit(lambda pk=transition_row.pk: send_decision_email.delay(pk))


def _last_transition(filing) -> FilingTransition:
    return filing.transitions.order_by("-at", "-pk").first()


def approve(filing, *, actor, expected_version, comment="") -> Filing:
    _check_authority(filing, actor, "approve")
    with transaction.atomic():
        filing = filing_services.approve_filing(filing, actor=actor, expected_version=expected_version, comment=comment)
        _notify_on_commit(_last_transition(filing))
    return filing


def _clean_field_comments(field_comments, choices: dict) -> list[tuple[str, str, str]]:
    cleaned = []
    for key, text in field_comments:
        text = (text or "").strip()
        if not key and not text:
            continue
        if key not in choices:
            raise workflow.TransitionRefused("字段意见所指的字段不存在，请重新选择。")
        if not text:
            raise workflow.TransitionRefused(f"请填写对“{choices[key]}”的意见，或清除该字段选择。")
        if len(text) > 2000:
            raise workflow.TransitionRefused("每条字段意见不能超过 2000 字。")
        if any(key == other for other, _, _ in cleaned):
            raise workflow.TransitionRefused(f"“{choices[key]}”选择了两次，请合并为一条意见。")
        cleaned.append((key, choices[key], text))
    return cleaned


def _return(name, service, filing, *, actor, expected_version, comment, due, field_comments=(), field_labels=None):
    _check_authority(filing, actor, name)
    cleaned = _clean_field_comments(field_comments, field_labels or {})
    with transaction.atomic():
        filing = service(filing, actor=actor, expected_version=expected_version, comment=comment, due=due)
        row = _last_transition(filing)
        FieldComment.objects.bulk_create([
            FieldComment(filing=filing, transition=row, field=key, label=label[:200], text=text, created_by=actor)
            for key, label, text in cleaned
        ])
        _notify_on_commit(row)
    return filing


def return_for_correction(filing, *, actor, expected_version, comment, due, field_comments=(), field_labels=None):
    """Return with a general comment, optional (field key, comment) pairs and a correction due date, which reopens
    editing for this filing until then. `field_labels` maps the field keys the filing has to their names."""
    return _return(
        "return_for_correction", filing_services.return_filing, filing, actor=actor, expected_version=expected_version,
        comment=comment, due=due, field_comments=field_comments, field_labels=field_labels,
    )


def quality_return(filing, *, actor, expected_version, comment, due, field_comments=(), field_labels=None):
    """SAMR's quality review: return an approved filing of any province, with the same mechanics."""
    return _return(
        "quality_return", filing_services.quality_return_filing, filing, actor=actor,
        expected_version=expected_version, comment=comment, due=due, field_comments=field_comments,
        field_labels=field_labels,
    )


def _filer_addresses(filing) -> list[str]:
    institution = filing.institution
    addresses = [institution.contact_email] if institution.contact_email else []
    for email in institution.users.filter(role=Role.FILER, is_active=True).exclude(email="").values_list("email", flat=True):
        if email.lower() not in {a.lower() for a in addresses}:
            addresses.append(email)
    return addresses


DECISION_SUBJECTS = {
    "approve": "【质检统计直报】您单位{year}年度统计填报已审核通过",
    "return_for_correction": "【质检统计直报】您单位{year}年度统计填报已被退回，请于{due}前更正",
    "quality_return": "【质检统计直报】您单位{year}年度统计填报经质量审查退回，请于{due}前更正",
}


def send_decision_notice(transition_id: int) -> DecisionNotice | None:
    """E-mail the filer about one decision, once (raises on a mail-server fault so the task retries)."""
    row = FilingTransition.objects.select_related("filing__institution__city", "filing__year", "actor").get(
        pk=transition_id
    )
    if row.action not in DECISION_SUBJECTS:
        return None
    notice, _ = DecisionNotice.objects.get_or_create(transition=row)
    if notice.sent_at:
        return notice
    filing = row.filing
    recipients = _filer_addresses(filing)
    if not recipients:
        log.warning("decision on filing %s not e-mailed: the institution has no e-mail address", filing.pk)
        notice.recipients = "（未登记电子邮箱）"
        notice.save(update_fields=["recipients"])
        return notice
    due = timezone.localtime(row.due) if row.due else None
    context = {
        "filing": filing, "institution": filing.institution, "transition": row, "due": due,
        "field_comments": list(row.field_comments.order_by("pk")), "site_name": "质检统计直报",
    }
    subject = DECISION_SUBJECTS[row.action].format(year=filing.year.year, due=f"{due:%Y年%m月%d日 %H:%M}" if due else "")
    EmailMultiAlternatives(
        subject=subject, body=render_to_string("review/email/decision.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL, to=recipients,
    ).send(fail_silently=False)
    notice.recipients = ", ".join(recipients)[:500]
    notice.sent_at = timezone.now()
    notice.save(update_fields=["recipients", "sent_at"])
    return notice


# --- automatic reminders -----------------------------------------------------------------------------------------

REMINDER_POINTS = (30, 7, 1)  # days before the filing deadline


def due_reminder_point(year, today=None) -> int | None:
    """The latest point reached (e.g. 7 when 5 days are left), or None before 30 days or after the deadline. A day
    missed by the beat is caught up the next day, but an earlier point is never sent late once a later one is due."""
    today = today or timezone.localdate()
    left = (timezone.localtime(year.closes_at).date() - today).days
    if left < 0 or timezone.localtime(year.opens_at).date() > today:
        return None
    reached = [point for point in REMINDER_POINTS if left <= point]
    return min(reached) if reached else None


def not_submitted(year):
    """Institutions not handed in (filings.progress) whose deadline is the window's close: no filing or a draft.
    Returned filings are not handed in either, but their deadline is the correction due date the reviewer set and
    the return itself told the filer, so the window's deadline reminders leave them out."""
    started = Filing.objects.filter(year=year).exclude(status=Filing.Status.DRAFT).values("institution_id")
    return Institution.objects.exclude(pk__in=started)


def plan_automatic_reminders(today=None) -> list[int]:
    """Claim one AutoReminder row per not-submitted institution for each year's due point (the unique row makes a
    second run a no-op) and return the ids of the newly claimed rows to send."""
    today = today or timezone.localdate()
    claimed = []
    for year in ReportingYear.objects.all():
        point = due_reminder_point(year, today)
        if point is None:
            continue
        already = AutoReminder.objects.filter(year=year, days_before=point).values("institution_id")
        pending = not_submitted(year).exclude(pk__in=already).values_list("pk", flat=True)
        rows = [AutoReminder(institution_id=pk, year=year, days_before=point) for pk in pending]
        with transaction.atomic():
            created = AutoReminder.objects.bulk_create(rows, ignore_conflicts=True)
        # ignore_conflicts leaves pk unset on PostgreSQL for skipped rows; read back the rows this run claimed.
        ids = AutoReminder.objects.filter(
            year=year, days_before=point, institution_id__in=[r.institution_id for r in created], sent_at__isnull=True,
            outcome="",
        ).values_list("pk", flat=True)
        claimed += list(ids)
    return claimed


def send_automatic_reminder(reminder_id: int):
    """Send one claimed automatic reminder (raises on a mail fault so the task retries); record it only once sent."""
    with transaction.atomic():
        reminder = AutoReminder.objects.select_for_update().select_related("year").get(pk=reminder_id)
        if reminder.sent_at or reminder.outcome:
            return reminder
        institution = Institution.objects.select_related("city").get(pk=reminder.institution_id)
        if not institution.contact_email:
            reminder.outcome = "未登记电子邮箱，未发送"
            reminder.save(update_fields=["outcome"])
            log.warning("automatic reminder not sent: %s has no e-mail address", institution.name)
            return reminder
        if Filing.objects.filter(institution=institution, year=reminder.year).exclude(status=Filing.Status.DRAFT).exists():
            reminder.outcome = "发送前已提交，未发送"
            reminder.save(update_fields=["outcome"])
            return reminder
        deadline = timezone.localtime(reminder.year.closes_at).date()
        send_reminder(
            institution.pk, year=reminder.year.year, deadline=deadline, actor_id=None,
            automatic_note=f"系统自动催报（截止前{reminder.days_before}天），已发送邮件至 {institution.contact_email}",
        )
        reminder.sent_at = timezone.now()
        reminder.outcome = "已发送"
        reminder.save(update_fields=["sent_at", "outcome"])
    return reminder
