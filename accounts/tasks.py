import logging

from celery import shared_task

from config.jobs import MAIL_FAULTS, MailTask

from . import institution_accounts, registration, services

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


def _send(self, what: str, send, object_id: int, base_url: str):
    try:
        send(object_id, base_url)
    except MAIL_FAULTS as exc:
        log.warning("%s e-mail for %s failed (%s); retry %s of %s", what, object_id, exc.__class__.__name__,
                    self.request.retries + 1, self.max_retries)
        raise


@shared_task(bind=True, base=MailTask, name="accounts.send_registration_confirmation")
def send_registration_confirmation(self, request_id: int, base_url: str):
    """The link that confirms a registration request's e-mail address (机构注册)."""
    _send(self, "registration confirmation", registration.send_confirmation_mail, request_id, base_url)


@shared_task(bind=True, base=MailTask, name="accounts.send_registration_decision")
def send_registration_decision(self, request_id: int, base_url: str):
    """The city officer's decision on a registration request, to the applicant."""
    _send(self, "registration decision", registration.send_decision_mail, request_id, base_url)


@shared_task(bind=True, base=MailTask, name="accounts.send_invitation")
def send_invitation(self, user_id: int, base_url: str):
    """A new account's set-password link (invited filers, imported officers)."""
    _send(self, "invitation", institution_accounts.send_invitation_mail, user_id, base_url)
