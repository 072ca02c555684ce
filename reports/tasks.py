import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services

log = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError, OSError)


@shared_task(bind=True, name="reports.ingest_report_numbers", acks_late=True, max_retries=3)
def ingest_report_numbers(self, batch_id: int):
    """Ingest one uploaded batch (idempotent: a finished batch is left alone; the ingest is one transaction)."""
    try:
        services.run_upload(batch_id)
    except TRANSIENT as exc:
        if self.request.retries < self.max_retries:
            log.warning("report-number batch %s failed (%s); retrying", batch_id, exc)
            raise self.retry(exc=exc, countdown=5 * 2**self.request.retries)
        services.mark_failed(batch_id, f"处理失败（已重试 {self.max_retries} 次），请稍后重新上传。")
    except Exception as exc:
        log.exception("report-number batch %s failed", batch_id)
        services.mark_failed(batch_id, f"处理失败：{exc.__class__.__name__}，请稍后重新上传或联系系统管理员。")


@shared_task(bind=True, name="reports.notify_complaint", acks_late=True, max_retries=5)
def notify_complaint(self, complaint_id: int):
    try:
        return services.send_complaint_notice(complaint_id)
    except Exception as exc:
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries)


@shared_task(bind=True, name="reports.send_upload_reminder", acks_late=True, max_retries=5)
def send_upload_reminder(self, institution_id: int, year: int, quarter: int):
    try:
        services.send_upload_reminder(institution_id, year, quarter)
    except Exception as exc:
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries)
