import logging

from celery import shared_task

from config.jobs import MAIL_FAULTS, MailTask

from . import extensions

log = logging.getLogger(__name__)


@shared_task(bind=True, base=MailTask, name="filings.send_extension_request_notice")
def send_extension_request_notice(self, request_id: int, event: str):
    """Tell who should hear of one step of an extension request (filings.extensions); a mail fault is retried."""
    try:
        extensions.send_extension_request_notice(request_id, event)
    except MAIL_FAULTS as exc:
        log.warning("extension request %s (%s) e-mail failed (%s); retry %s of %s", request_id, event,
                    exc.__class__.__name__, self.request.retries + 1, self.max_retries)
        raise
