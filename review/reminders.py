"""The one reminder mechanism: 催报 e-mails (by hand and the automatic 30/7/1-day ones) and report-number upload
reminders all go through here (ADR 0019).

1. `claim()` inserts one `Reminder` row per institution. The database decides who gets through: its constraint allows
   one row a day per institution, reason and key (and one ever per automatic point), so a double click, two tabs or
   the city and the province pressing send at once give one row, and the others are told "already today". Redis
   (`cache.add`) is only a fast path in front of the insert; it never refuses on its own.
2. An institution without an e-mail address gets a `no_address` row and is named to the user; nothing is sent.
3. Each claimed row is sent on commit by one Celery task (`review.tasks.send_reminder`), which marks it `sent` only
   once the mail server accepted the message, and only then writes the 催报记录 entry of a filing reminder. Transient
   faults are retried by Celery with back-off; a permanent refusal (a 5xx answer), or the last retry, marks it
   `failed`. A failed row, or a no-address row whose institution has an address by now, may be claimed again that day.

Other apps that remind (reports) call this module; review imports nothing from them.
"""
import logging
import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.jobs import MAIL_FAULTS, send_task  # what a mail server may raise; is_transient sorts them
from filings.models import Filing

from .models import ChasingRecord, Reminder

log = logging.getLogger(__name__)

Reason = Reminder.Reason
Status = Reminder.Status

# The fast-path key names the day; a little over a day covers it from any hour.
FAST_PATH_SECONDS = 26 * 3600


@dataclass(frozen=True)
class Letter:
    """What one institution is sent. `chasing_year` (with `chasing_note`) for the reminders that belong in the
    institution's 催报记录 once sent; None for the others."""

    subject: str
    body: str
    chasing_year: int | None = None
    chasing_note: str = ""


@dataclass
class Claimed:
    """The outcome of one press of send, for the user, and the rows it claimed (sent on commit unless no address)."""

    queued: list = field(default_factory=list)
    without_email: list = field(default_factory=list)
    already_today: list = field(default_factory=list)
    rows: list = field(default_factory=list)


def claim(institutions: Iterable, *, reason: str, key: str, compose: Callable[..., Letter], sent_by=None,
          day=None) -> Claimed:
    """Claim today's reminder for `reason` and `key` for each institution, in one transaction, and send the claimed
    ones once it commits. `compose(institution)` gives the Letter of an institution that has an address."""
    day = day or timezone.localdate()
    outcome = Claimed()
    with transaction.atomic():
        for institution in institutions:
            row, claimed = _claim_one(institution, reason=reason, key=key, day=day, sent_by=sent_by, compose=compose)
            if claimed:
                outcome.rows.append(row)
            if row.status == Status.NO_ADDRESS:
                outcome.without_email.append(institution)
            elif claimed:
                outcome.queued.append(institution)
            else:
                outcome.already_today.append(institution)
        queued = [row.pk for row in outcome.rows if row.status == Status.PENDING]
        if queued:
            from .tasks import send_reminder  # tasks.py imports this module

            for pk in queued:
                transaction.on_commit(lambda pk=pk: send_task(send_reminder, pk))
    return outcome


def _fast_key(institution, reason, key, day) -> str:
    return f"reminders:{reason}:{key}:{institution.pk}:{day.isoformat()}"


def _claim_one(institution, *, reason, key, day, sent_by, compose) -> tuple[Reminder, bool]:
    """(row, True) when this call claimed it; (the row that holds the day, False) otherwise."""
    email = institution.contact_email
    fields = {"status": Status.PENDING if email else Status.NO_ADDRESS, "email": email, "sent_by": sent_by}
    if email:
        letter = compose(institution)
        fields.update(subject=letter.subject[:200], body=letter.body, chasing_year=letter.chasing_year,
                      chasing_note=letter.chasing_note[:300])
    lookup = {"institution": institution, "reason": reason, "key": key, "day": day}
    # Fast path: the first press of the day goes straight to the insert. A key already there (a second press, or a
    # claim whose transaction rolled back) sends us to the database, which answers either way.
    if cache.add(_fast_key(institution, reason, key, day), 1, FAST_PATH_SECONDS):
        row = _insert(lookup, fields)
        if row is not None:
            return row, True
    existing = _holding_row(lookup)
    if existing is None:
        row = _insert(lookup, fields)
        if row is not None:
            return row, True
        existing = _holding_row(lookup)
    # A failed send, or a missing address since added, does not use up the day: claim the same row again.
    if existing.day == day and (existing.status == Status.FAILED or (existing.status == Status.NO_ADDRESS and email)):
        for name, value in {**fields, "created_at": timezone.now(), "sent_at": None, "error": ""}.items():
            setattr(existing, name, value)
        existing.save()
        return existing, True
    return existing, False


def _insert(lookup, fields) -> Reminder | None:
    """The new row, or None when the constraint says another claim holds the day (or the automatic point)."""
    try:
        with transaction.atomic():  # a savepoint: the conflict must not spoil the caller's transaction
            return Reminder.objects.create(**lookup, **fields)
    except IntegrityError:
        return None


def _holding_row(lookup) -> Reminder | None:
    rows = Reminder.objects.select_for_update().filter(
        institution=lookup["institution"], reason=lookup["reason"], key=lookup["key"]
    )
    if lookup["reason"] != Reason.DEADLINE:  # an automatic point is held for ever, not for a day
        rows = rows.filter(day=lookup["day"])
    return rows.first()


# E-mails claimed while the broker was down, or whose message Redis lost on a restart, are still 待发送 after this:
# `resend_pending` sends them again. Sending is idempotent (the row's lock and status), so a message that was merely
# slow still sends once. Rows older than RESEND_WITHIN are left alone: a week-old 催报 would mislead.
RESEND_AFTER = timedelta(minutes=5)
RESEND_WITHIN = timedelta(days=7)


def resend_pending(now=None) -> int:
    """Send again every claimed reminder and 待办摘要 still pending after RESEND_AFTER; the number sent (beat)."""
    from .models import Digest
    from .tasks import send_digest, send_reminder  # tasks.py imports this module

    now = now or timezone.now()
    sent = 0
    for model, task in ((Reminder, send_reminder), (Digest, send_digest)):
        stuck = model.objects.filter(
            status=model.Status.PENDING, created_at__range=(now - RESEND_WITHIN, now - RESEND_AFTER)
        ).values_list("pk", flat=True)
        sent += sum(1 for pk in stuck if send_task(task, pk))
    return sent


# --- sending ---------------------------------------------------------------------------------------------------------

def is_transient(exc: BaseException) -> bool:
    """A dropped or refused connection, a timeout, a 4xx answer: the same message may go through later. A 5xx answer
    (unknown mailbox, sender or message refused, authentication) would be given again."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return any(code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code < 500
    return True


def send(reminder_id: int, *, last_attempt: bool = False) -> Reminder:
    """Send one claimed reminder and record it as sent (and in 催报记录) only once the mail server accepted it.

    A transient mail fault is raised for the caller (the task) to retry, unless `last_attempt`; a permanent one, or a
    transient one on the last attempt, marks the row failed. A row no longer pending is left alone, so a duplicate
    delivery of the task sends nothing."""
    try:
        return _send(reminder_id)
    except MAIL_FAULTS as exc:
        if is_transient(exc) and not last_attempt:
            raise
        return _mark_failed(reminder_id, exc)


def _no_longer_needed(row: Reminder) -> bool:
    # An automatic 催报 to an institution that handed in since it was claimed (drafts are not handed in).
    if row.reason != Reason.DEADLINE:
        return False
    return Filing.objects.filter(institution_id=row.institution_id, year__year=row.chasing_year).exclude(
        status=Filing.Status.DRAFT
    ).exists()


def _send(reminder_id: int) -> Reminder:
    with transaction.atomic():
        # The lock makes a duplicate delivery wait for this one, then find the row sent.
        row = Reminder.objects.select_for_update().get(pk=reminder_id)
        if row.status != Status.PENDING:
            return row
        if not row.email:
            row.status = Status.NO_ADDRESS
        elif _no_longer_needed(row):
            row.status = Status.NOT_NEEDED
        else:
            EmailMultiAlternatives(
                subject=row.subject, body=row.body, from_email=settings.DEFAULT_FROM_EMAIL, to=[row.email],
            ).send(fail_silently=False)
            row.status, row.sent_at, row.error = Status.SENT, timezone.now(), ""
            if row.chasing_year is not None:
                ChasingRecord.objects.create(
                    institution_id=row.institution_id, year=row.chasing_year, channel=ChasingRecord.Channel.EMAIL,
                    note=row.chasing_note or f"已发送提醒邮件至 {row.email}", recorded_by_id=row.sent_by_id,
                )
        row.save(update_fields=["status", "sent_at", "error"])
    return row


def _mark_failed(reminder_id: int, exc: BaseException) -> Reminder:
    log.warning("reminder %s not sent: %s: %s", reminder_id, exc.__class__.__name__, exc)
    with transaction.atomic():
        row = Reminder.objects.select_for_update().get(pk=reminder_id)
        if row.status == Status.PENDING:
            row.status, row.error = Status.FAILED, f"{exc.__class__.__name__}: {exc}"[:500]
            row.save(update_fields=["status", "error"])
    return row
