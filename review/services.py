"""Review decisions (through the filing state machine, with field comments and the filer's e-mail), the chasing log,
and what manual and automatic 催报 e-mails say and whom they go to (sent through review/reminders.py)."""
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts import permissions
from accounts.scoping import visible_to
from config.refusals import DomainRefusal
from filings import services as filing_services, workflow
from filings.models import Filing, FilingTransition, ReportingYear
from filings.selectors import filing_deadline
from institutions.models import Institution

from . import reminders, selectors
from .models import ChasingRecord, DecisionNotice, FieldComment, Reminder

log = logging.getLogger(__name__)


class FieldCommentRefused(DomainRefusal):
    """A field comment of a return that cannot be recorded (unknown field, empty, too long, chosen twice)."""


def _check_chaser(actor, institution):
    if not permissions.can_chase(actor, institution):
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


def filing_reminder_letter(institution, *, year: int, deadline, note: str) -> reminders.Letter:
    """The 催报 e-mail asking `institution` to file `year` by `deadline`; `note` goes into its 催报记录 once sent."""
    context = {"institution": institution, "year": year, "deadline": deadline, "site_name": "质检统计直报"}
    return reminders.Letter(
        subject=f"【质检统计直报】请于{deadline:%Y年%m月%d日}前完成{year}年度统计填报",
        body=render_to_string("review/email/reminder.txt", context),
        chasing_year=year, chasing_note=note,
    )


def request_reminders(institutions, *, actor, year: int, deadline, deadlines=None) -> dict:
    """Claim and send one 催报 e-mail per institution (review/reminders.py): those without an e-mail address are
    recorded and named, not mailed, and so are those already reminded by hand today (a double click, or the city and
    the province both pressing send: the database's constraint decides). `deadlines` ({institution id: date}) gives
    an institution's own deadline (an extension, a correction due date) where it differs from `deadline`."""
    deadlines = deadlines or {}
    for institution in institutions:
        _check_chaser(actor, institution)
    claimed = reminders.claim(
        institutions, reason=Reminder.Reason.CHASE, key=str(year), sent_by=actor,
        compose=lambda institution: filing_reminder_letter(
            institution, year=year, deadline=deadlines.get(institution.pk, deadline),
            note=f"已发送催报邮件至 {institution.contact_email}",
        ),
    )
    return {"queued": claimed.queued, "without_email": claimed.without_email, "already_today": claimed.already_today}


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
    from .tasks import send_decision_email  # tasks.py imports this module

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
            raise FieldCommentRefused("字段意见所指的字段不存在，请重新选择。")
        if not text:
            raise FieldCommentRefused(f"请填写对“{choices[key]}”的意见，或清除该字段选择。")
        if len(text) > 2000:
            raise FieldCommentRefused("每条字段意见不能超过 2000 字。")
        if any(key == other for other, _, _ in cleaned):
            raise FieldCommentRefused(f"“{choices[key]}”选择了两次，请合并为一条意见。")
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
    for email in institution.users.filers().exclude(email="").values_list("email", flat=True):
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
    # A return states the filing's one deadline (filings.selectors.filing_deadline), as the filer's pages do.
    deadline = filing_deadline(filing) if row.action != "approve" else None
    due = timezone.localtime(deadline.at) if deadline else None
    context = {
        "filing": filing, "institution": filing.institution, "transition": row, "due": due,
        "field_comments": list(row.field_comments.order_by("pk")), "site_name": "质检统计直报",
    }
    subject = DECISION_SUBJECTS[row.action].format(
        year=filing.year.year, due=f"{due:%Y年%m月%d日 %H:%M}" if due else ""
    )
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
    """Claim one reminder per not-submitted institution for each year's due point (review/reminders.py; the database
    holds each point once ever, so a second run claims nothing) and return the ids of the rows claimed. Those with an
    address are sent when the claim commits; the send skips an institution that has handed in by then."""
    today = today or timezone.localdate()
    claimed = []
    for year in ReportingYear.objects.all():
        point = due_reminder_point(year, today)
        if point is None:
            continue
        key = f"{year.year}/{point}"
        already = Reminder.objects.filter(reason=Reminder.Reason.DEADLINE, key=key).values("institution_id")
        pending = selectors.with_year_filing(
            not_submitted(year).exclude(pk__in=already), year).select_related("city").order_by("pk")

        def compose(institution, year=year, point=point):
            # The institution's own deadline: an extension may lie beyond the window's close.
            deadline = timezone.localtime(selectors.late_filer_deadline(institution, year).at).date()
            note = f"系统自动催报（截止前{point}天），已发送邮件至 {institution.contact_email}"
            return filing_reminder_letter(institution, year=year.year, deadline=deadline, note=note)

        result = reminders.claim(pending, reason=Reminder.Reason.DEADLINE, key=key, compose=compose, day=today)
        claimed += [row.pk for row in result.rows]
    return claimed
