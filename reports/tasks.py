from celery import shared_task

from config.jobs import JobTask, MailTask, run_job_step, send_task
from jobs import sweeper

from . import complaints, uploads
from .models import ReportNumberBatch


@shared_task(bind=True, base=JobTask, name="reports.ingest_report_numbers")
def ingest_report_numbers(self, batch_id: int):
    """Ingest one uploaded batch (idempotent: a finished batch is left alone; the ingest is one transaction)."""
    run_job_step(self, uploads.run_upload, batch_id, mark_failed=uploads.mark_failed, failure="处理失败",
                 advice="，请稍后重新上传或联系系统管理员。")


@shared_task(bind=True, base=MailTask, name="reports.notify_complaint")
def notify_complaint(self, complaint_id: int):
    return complaints.send_complaint_notice(complaint_id)


sweeper.register(ReportNumberBatch, lambda batch: send_task(ingest_report_numbers, batch.pk),
                 queued=[ReportNumberBatch.Status.PENDING])
