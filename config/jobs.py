"""Running a background job's step inside a Celery task, the same way for every kind of job (imports, uploads,
exports): transient faults (database or file system) are retried with back-off; after the last retry, or on any other
error, the job is marked failed with a Chinese message its owner sees, so that no job is left hanging as running."""
import logging

from django.db import InterfaceError, OperationalError

log = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError, OSError)


def run_job_step(task, step, job_id: int, *, mark_failed, failure: str, advice: str = "") -> None:
    """Run `step(job_id)` for the bound Celery `task`; `failure` starts the message (e.g. "生成失败")."""
    try:
        step(job_id)
    except TRANSIENT as exc:
        if task.request.retries < task.max_retries:
            log.warning("%s %s: %s; retrying", task.name, job_id, exc)
            raise task.retry(exc=exc, countdown=5 * 2**task.request.retries)
        mark_failed(job_id, f"{failure}（已重试 {task.max_retries} 次）：{exc.__class__.__name__}{advice}")
    except Exception as exc:
        log.exception("%s %s failed", task.name, job_id)
        mark_failed(job_id, f"{failure}：{exc.__class__.__name__}: {exc}"[:450] + advice)
