"""Review decisions (through the filing state machine, with field comments and the filer's e-mail), the chasing log,
and what manual and automatic 催报 e-mails say and whom they go to (sent through review/reminders.py)."""
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts import permissions
from accounts.scoping import visible_to
from config.jobs import send_task
from config.refusals import DomainRefusal
from filings import services as filing_services, workflow
from filings.models import Filing, FilingTransition, ReportingYear
from filings.selectors import decision_authority_names, filing_deadline
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

    transaction.on_commit(lambda pk=transition_row.pk: send_task(send_decision_email, pk))


def _last_transition(filing) -> FilingTransition:
    return filing.transitions.order_by("-at", "-pk").first()


def approve(filing, *, actor, expected_version, comment="") -> Filing:
    _check_authority(filing, actor, "approve")
    with transaction.atomic():
        filing = filing_services.approve_filing(filing, actor=actor, expected_version=expected_version, comment=comment)
        _notify_on_commit(_last_transition(filing))
    return filing


# --- decisions in bulk ------------------------------------------------------------------------------------------

BULK_LIMIT = 500  # filings approved by one press of 批量审核通过


class BulkRefused(DomainRefusal):
    """A bulk request refused as a whole (nothing chosen, too many, more than were confirmed): nothing changed."""


@dataclass
class BulkApproval:
    """What one press of 批量审核通过 did, filing by filing: every filing asked for is counted exactly once."""

    approved: int = 0
    handled_by_others: int = 0  # its state or version changed since the reviewer saw it
    not_allowed: int = 0  # outside the reviewer's scope or authority, or not awaiting review
    unexplained: int = 0  # its latest submission carries a warning without an explanation
    refused: Counter = field(default_factory=Counter)  # the state machine's refusal (e.g. review closed): count

    @property
    def message(self) -> str:
        """The counts that are not zero, in Chinese: 审核通过 23 份；2 份已被他人处理，未改动。"""
        parts = [f"审核通过 {self.approved} 份"] if self.approved else []
        if self.handled_by_others:
            parts.append(f"{self.handled_by_others} 份已被他人处理，未改动")
        if self.not_allowed:
            parts.append(f"{self.not_allowed} 份不在您的审核范围内或不在待审核状态，未改动")
        if self.unexplained:
            parts.append(f"{self.unexplained} 份有未说明的预警，已跳过")
        parts += [f"{n} 份未通过：{reason.rstrip('。')}" for reason, n in self.refused.items()]
        return "；".join(parts or ["没有审核通过任何填报"]) + "。"


def approve_in_bulk(seen: dict[int, int], *, actor, confirmed: int | None = None) -> BulkApproval:
    """Approve each filing of `seen` ({id: the version the reviewer saw}) on its own, through the state machine and
    in its own transaction, so that one refusal leaves the others approved. A filing is re-read first: outside the
    reviewer's scope or authority (posted ids are never trusted), changed since it was seen, or with an unexplained
    warning, it is counted and left alone; a submitted one is taken into review and approved. `confirmed` is how
    many 全部 stood for when the reviewer confirmed: more now is refused, fewer were handled by others meanwhile."""
    if not permissions.can_decide_filings(actor):
        raise PermissionDenied("只有审核人员可以审核通过填报。")
    if not seen:
        raise BulkRefused("请先勾选要审核通过的填报。")
    if len(seen) > BULK_LIMIT:
        raise BulkRefused(
            f"一次最多批量审核通过 {BULK_LIMIT} 份，所选 {len(seen)} 份，请缩小范围后分批操作。未作任何改动。"
        )
    if confirmed is not None and len(seen) > confirmed:
        raise BulkRefused(
            f"符合条件的填报已由 {confirmed} 份增至 {len(seen)} 份，未作任何改动，请刷新页面核对后重试。"
        )
    outcome = BulkApproval(handled_by_others=max((confirmed or 0) - len(seen), 0))
    in_scope = visible_to(actor, Filing).filter(pk__in=list(seen)).select_related("institution__city", "year")
    filings = {filing.pk: filing for filing in in_scope}
    for pk, version in seen.items():
        filing = filings.get(pk)
        if filing is None or not permissions.can_decide(actor, filing):
            outcome.not_allowed += 1
            continue
        try:
            result = _approve_one(filing, version, actor=actor)
        except workflow.TransitionRefused as refusal:
            outcome.refused[refusal.message] += 1
            continue
        setattr(outcome, result, getattr(outcome, result) + 1)
    return outcome


def _approve_one(filing, version: int, *, actor) -> str:
    """Approve one filing if it is as the reviewer saw it; the name of the count it goes to."""
    with transaction.atomic():
        locked = Filing.objects.select_for_update().select_related("institution__city", "year").get(pk=filing.pk)
        if locked.version != version:
            return "handled_by_others"
        if locked.status not in selectors.QUEUE_STATES:
            return "not_allowed"
        if selectors.unexplained_warning_ids(Filing.objects.filter(pk=locked.pk)):
            return "unexplained"
        if locked.status == Filing.Status.SUBMITTED:
            locked = start_review(locked, actor=actor)
        approve(locked, actor=actor, expected_version=locked.version, comment="批量审核通过")
    return "approved"


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
    # The row is kept even when the mail server fails: it says the task ran (resend_lost_decision_notices).
    notice, _ = DecisionNotice.objects.get_or_create(transition=row)
    with transaction.atomic():
        # The lock makes a duplicate delivery (a retry and a resend at once) wait for this one, then find it sent.
        notice = DecisionNotice.objects.select_for_update().get(pk=notice.pk)
        if notice.sent_at:
            return notice
        return _send_decision_notice(row, notice)


def _send_decision_notice(row, notice) -> DecisionNotice:
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
        "authority": decision_authority_names(filing, [row])[0],
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


def resend_lost_decision_notices(now=None) -> int:
    """Decisions whose e-mail task never ran (its message was lost while the broker was down) are queued again, as
    pending reminders are (reminders.RESEND_AFTER, RESEND_WITHIN); a task that ran keeps a DecisionNotice row and its
    mail faults are Celery's to retry."""
    from .tasks import send_decision_email  # tasks.py imports this module

    now = now or timezone.now()
    lost = FilingTransition.objects.filter(
        action__in=DECISION_SUBJECTS, notice__isnull=True,
        at__range=(now - reminders.RESEND_WITHIN, now - reminders.RESEND_AFTER),
    ).values_list("pk", flat=True)
    return sum(1 for pk in lost if send_task(send_decision_email, pk))


# --- automatic reminders -----------------------------------------------------------------------------------------

REMINDER_POINTS = (30, 7, 1)  # days before the filing deadline


def reminder_point(deadline_day, opens_day, today) -> int | None:
    """The latest point reached before `deadline_day` (e.g. 7 when 5 days are left), or None before 30 days, before
    the window opens or after the deadline. A day missed by the beat is caught up the next day, but an earlier point
    is never sent late once a later one is due."""
    left = (deadline_day - today).days
    if left < 0 or opens_day > today:
        return None
    reached = [point for point in REMINDER_POINTS if left <= point]
    return min(reached) if reached else None


def due_reminder_point(year, today=None) -> int | None:
    """The point reached before the window's close (institutions without an extension)."""
    today = today or timezone.localdate()
    return reminder_point(timezone.localtime(year.closes_at).date(), timezone.localtime(year.opens_at).date(), today)


def not_submitted(year):
    """Institutions not handed in (filings.progress) whose deadline is the window's close or their extension: no
    filing or a draft. Returned filings are not handed in either, but their deadline is the correction due date the
    reviewer set and the return itself told the filer, so the deadline reminders leave them out."""
    started = Filing.objects.filter(year=year).exclude(status=Filing.Status.DRAFT).values("institution_id")
    return Institution.objects.exclude(pk__in=started)


def plan_automatic_reminders(today=None) -> list[int]:
    """Claim one reminder per not-submitted institution for each point due before its own deadline — the window's
    close, or the extension granted to it — (review/reminders.py; the database holds each point once ever, so a second
    run claims nothing) and return the ids of the rows claimed. Those with an address are sent when the claim commits;
    the send skips an institution that has handed in by then. A point before an extended deadline has its own key
    (`2025/7/2026-05-31`), so an extension brings its own 30/7/1-day reminders."""
    today = today or timezone.localdate()
    claimed = []
    for year in ReportingYear.objects.all():
        window_day = timezone.localtime(year.closes_at).date()
        opens_day = timezone.localtime(year.opens_at).date()
        pending = selectors.with_year_filing(not_submitted(year), year).select_related("city").order_by("pk")
        if reminder_point(window_day, opens_day, today) is None:
            pending = pending.filter(extension_until__gt=year.closes_at)  # only extended deadlines can be due
        due = defaultdict(list)  # key -> (institution, deadline day)
        for institution in pending:
            deadline_day = timezone.localtime(selectors.late_filer_deadline(institution, year).at).date()
            point = reminder_point(deadline_day, opens_day, today)
            if point is not None:
                extended = "" if deadline_day == window_day else f"/{deadline_day.isoformat()}"
                due[f"{year.year}/{point}{extended}"].append(institution)
        sent = set(Reminder.objects.filter(reason=Reminder.Reason.DEADLINE, key__in=list(due))
                   .values_list("institution_id", "key"))
        for key, institutions in due.items():
            point = int(key.split("/")[1])

            def compose(institution, year=year, point=point):
                deadline = timezone.localtime(selectors.late_filer_deadline(institution, year).at).date()
                note = f"系统自动催报（截止前{point}天），已发送邮件至 {institution.contact_email}"
                return filing_reminder_letter(institution, year=year.year, deadline=deadline, note=note)

            todo = [institution for institution in institutions if (institution.pk, key) not in sent]
            result = reminders.claim(todo, reason=Reminder.Reason.DEADLINE, key=key, compose=compose, day=today)
            claimed += [row.pk for row in result.rows]
    return claimed
