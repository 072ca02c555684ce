import logging

from celery import shared_task

from config.jobs import MAIL_FAULTS, MailTask

from . import digests, reminders, services

log = logging.getLogger(__name__)



@shared_task(bind=True, base=MailTask, name="review.send_reminder")
def send_reminder(self, reminder_id: int):
    """Send one claimed reminder (review/reminders.py: 催报 by hand or automatic, upload reminders). A transient mail
    fault escapes to be retried by Celery (MailTask); a permanent one, the last retry, or any fault when run
    in-process (no broker) marks the reminder failed instead."""
    last_attempt = self.request.is_eager or self.request.retries >= self.max_retries
    try:
        reminders.send(reminder_id, last_attempt=last_attempt)
    except reminders.MAIL_FAULTS as exc:
        log.warning(
            "reminder %s failed (%s: %s); retry %s of %s",
            reminder_id, exc.__class__.__name__, exc, self.request.retries + 1, self.max_retries,
        )
        raise


@shared_task(bind=True, base=MailTask, name="review.send_decision_email")
def send_decision_email(self, transition_id: int):
    """Tell the filer of a review decision (approve, return, quality return); sent once per decision."""
    try:
        services.send_decision_notice(transition_id)
    except MAIL_FAULTS as exc:
        log.warning(
            "decision e-mail for transition %s failed (%s: %s); retry %s of %s",
            transition_id, exc.__class__.__name__, exc, self.request.retries + 1, self.max_retries,
        )
        raise  # retried by Celery (MailTask: autoretry_for, retry_backoff)


@shared_task(name="review.send_deadline_reminders")
def send_deadline_reminders():
    """Daily (beat): remind every institution not yet submitted at 30, 7 and 1 days before the deadline, each point
    at most once (a unique row per institution, year and point)."""
    claimed = services.plan_automatic_reminders()  # each claimed reminder is sent on commit
    log.info("automatic reminders queued: %s", len(claimed))
    return len(claimed)


@shared_task(name="review.resend_pending_mail")
def resend_pending_mail():
    """Every few minutes (beat): reminders and digests still 待发送, and decision e-mails whose message was lost, are
    sent again."""
    sent = reminders.resend_pending() + services.resend_lost_decision_notices()
    if sent:
        log.warning("pending e-mails sent again: %s", sent)
    return sent


@shared_task(name="review.send_weekly_digests")
def send_weekly_digests():
    """Weekly (beat, Monday morning): each officer's 待办摘要 of this ISO week, once (review/digests.py)."""
    queued = digests.send_weekly()
    log.info("weekly digests queued: %s", len(queued))
    return len(queued)


@shared_task(bind=True, base=MailTask, name="review.send_digest")
def send_digest(self, digest_id: int):
    """Send one claimed 待办摘要 (weekly or on demand); retried as the reminders are."""
    last_attempt = self.request.is_eager or self.request.retries >= self.max_retries
    digests.send(digest_id, last_attempt=last_attempt)
