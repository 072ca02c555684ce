import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services

log = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError, OSError)


def _run(task, step, job_id):
    try:
        step(job_id)
    except TRANSIENT as exc:
        if task.request.retries < task.max_retries:
            log.warning("register import %s: %s; retrying", job_id, exc)
            raise task.retry(exc=exc, countdown=5 * 2**task.request.retries)
        services.mark_import_failed(job_id, f"处理失败（已重试 {task.max_retries} 次）：{exc.__class__.__name__}")
    except Exception as exc:
        log.exception("register import %s failed", job_id)
        services.mark_import_failed(job_id, f"处理失败：{exc.__class__.__name__}: {exc}"[:500])


@shared_task(bind=True, name="institutions.validate_import", acks_late=True, max_retries=3)
def validate_import(self, job_id: int):
    _run(self, services.run_validation, job_id)


@shared_task(bind=True, name="institutions.run_import", acks_late=True, max_retries=3)
def run_import(self, job_id: int):
    _run(self, services.run_import, job_id)


@shared_task(name="institutions.purge_old_import_files")
def purge_old_import_files():
    return services.purge_old_import_files()
