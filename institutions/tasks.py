from celery import shared_task

from config.jobs import JobTask, run_job_step, send_task
from jobs import sweeper

from . import register_import
from .models import ImportJob


def _run(task, step, job_id):
    run_job_step(task, step, job_id, mark_failed=register_import.mark_import_failed, failure="处理失败")


@shared_task(bind=True, base=JobTask, name="institutions.validate_import")
def validate_import(self, job_id: int):
    _run(self, register_import.run_validation, job_id)


@shared_task(bind=True, base=JobTask, name="institutions.run_import")
def run_import(self, job_id: int):
    _run(self, register_import.run_import, job_id)


@shared_task(name="institutions.purge_old_import_files")
def purge_old_import_files():
    return register_import.purge_old_import_files()


# Waiting to be checked, or confirmed and waiting to be written (a write is one transaction: run again, it is whole).
sweeper.register(
    ImportJob, lambda job: send_task(validate_import if job.status == ImportJob.Status.PENDING else run_import, job.pk),
    queued=[ImportJob.Status.PENDING, ImportJob.Status.IMPORTING],
)
