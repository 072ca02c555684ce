import functools

from celery import shared_task

from config.jobs import JobTask, run_job_step, send_task
from jobs import sweeper

from . import services
from .models import ExportJob


@shared_task(bind=True, base=JobTask, name="summaries.build_export")
def build_export(self, job_id: int):
    # Redelivered: the run that took the job died (a killed pool process), so this one builds it though it looks busy.
    redelivered = (self.request.delivery_info or {}).get("redelivered")
    step = functools.partial(services.run_export, take_over=True) if redelivered else services.run_export
    run_job_step(self, step, job_id, mark_failed=services.mark_failed, failure="生成失败",
                 release=services.release_for_retry)


@shared_task(name="summaries.purge_expired_exports")
def purge_expired_exports():
    services.purge_abandoned_files()
    return services.purge_expired_exports()


sweeper.register(ExportJob, lambda job: send_task(build_export, job.pk), queued=[ExportJob.Status.PENDING])
