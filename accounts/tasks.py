import logging

from celery import shared_task

from config.jobs import MAIL_FAULTS, MailTask

from . import services

log = logging.getLogger(__name__)


@shared_task(bind=True, base=MailTask, name="accounts.send_password_reset")
def send_password_reset(self, user_id: int, domain: str, protocol: str):
    """Send one password-reset link (忘记密码); a mail fault is retried by Celery (MailTask)."""
    try:
        services.send_password_reset(user_id, domain=domain, protocol=protocol)
    except MAIL_FAULTS as exc:
        log.warning("password reset e-mail for user %s failed (%s); retry %s of %s",
                    user_id, exc.__class__.__name__, self.request.retries + 1, self.max_retries)
        raise
