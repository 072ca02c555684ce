import logging
import smtplib
from datetime import date

from celery import shared_task

from . import services

log = logging.getLogger(__name__)

# A mail server that is down or refuses for a while: try again later rather than lose the reminder.
MAIL_FAULTS = (smtplib.SMTPException, ConnectionError, TimeoutError, OSError)


@shared_task(bind=True, name="review.send_reminder_email", acks_late=True, max_retries=5)
def send_reminder_email(self, institution_id: int, year: int, deadline: str, actor_id: int | None):
    try:
        services.send_reminder(institution_id, year=year, deadline=date.fromisoformat(deadline), actor_id=actor_id)
    except services.ReminderRefused as refusal:
        log.warning("reminder not sent: %s", refusal)
    except MAIL_FAULTS as exc:
        log.warning(
            "reminder to institution %s failed (%s: %s); retry %s of %s",
            institution_id, exc.__class__.__name__, exc, self.request.retries + 1, self.max_retries,
        )
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries)


@shared_task(bind=True, name="review.send_decision_email", acks_late=True, max_retries=5)
def send_decision_email(self, transition_id: int):
    """Tell the filer of a review decision (approve, return, quality return); sent once per decision."""
    try:
        services.send_decision_notice(transition_id)
    except MAIL_FAULTS as exc:
        log.warning(
            "decision e-mail for transition %s failed (%s: %s); retry %s of %s",
            transition_id, exc.__class__.__name__, exc, self.request.retries + 1, self.max_retries,
        )
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries)


@shared_task(bind=True, name="review.send_automatic_reminder", acks_late=True, max_retries=5)
def send_automatic_reminder(self, reminder_id: int):
    try:
        services.send_automatic_reminder(reminder_id)
    except MAIL_FAULTS as exc:
        log.warning(
            "automatic reminder %s failed (%s: %s); retry %s of %s",
            reminder_id, exc.__class__.__name__, exc, self.request.retries + 1, self.max_retries,
        )
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries)


@shared_task(name="review.send_deadline_reminders")
def send_deadline_reminders():
    """Daily (beat): remind every institution not yet submitted at 30, 7 and 1 days before the deadline, each point
    at most once (a unique row per institution, year and point)."""
    claimed = services.plan_automatic_reminders()
    for reminder_id in claimed:
        send_automatic_reminder.delay(reminder_id)
    log.info("automatic reminders queued: %s", len(claimed))
    return len(claimed)
