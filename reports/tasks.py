from celery import shared_task

from config.jobs import run_job_step

from . import services


@shared_task(bind=True, name="reports.ingest_report_numbers", acks_late=True, max_retries=3)
def ingest_report_numbers(self, batch_id: int):
    """Ingest one uploaded batch (idempotent: a finished batch is left alone; the ingest is one transaction)."""
    run_job_step(self, services.run_upload, batch_id, mark_failed=services.mark_failed, failure="处理失败",
                 advice="，请稍后重新上传或联系系统管理员。")


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
