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
