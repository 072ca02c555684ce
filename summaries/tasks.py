import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services

log = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError, OSError)


@shared_task(bind=True, name="summaries.build_export", acks_late=True, max_retries=3)
def build_export(self, job_id: int):
    try:
        services.run_export(job_id)
    except TRANSIENT as exc:
        if self.request.retries < self.max_retries:
            log.warning("export %s failed (%s); retrying", job_id, exc)
            raise self.retry(exc=exc, countdown=5 * 2**self.request.retries)
        services.mark_failed(job_id, f"生成失败（已重试 {self.max_retries} 次）：{exc.__class__.__name__}")
    except Exception as exc:
        log.exception("export %s failed", job_id)
        services.mark_failed(job_id, f"生成失败：{exc.__class__.__name__}: {exc}"[:500])


@shared_task(name="summaries.purge_expired_exports")
def purge_expired_exports():
    return services.purge_expired_exports()
