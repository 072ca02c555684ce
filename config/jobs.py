"""Running a background job's step inside a Celery task, the same way for every kind of job (imports, uploads,
exports), and the one rule for when a job counts as stuck.

A transient fault (the database connection lost or refused, a locked SQLite database, a network or disk hiccup) is
retried by Celery's own `autoretry_for` / `retry_backoff` (JobTask) when a worker runs the task; any other error —
and a transient one after the last retry — marks the job failed at once with a Chinese message its owner sees, next
to a 重试 button, so that no job is left hanging as running. A task run in-process (no broker: the embedded default)
never raises Celery's `Retry` into the web request that sent it: a transient fault fails the job there too, to be
retried by hand.
"""
import errno
import logging
import smtplib
from datetime import timedelta

from celery import Task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

log = logging.getLogger(__name__)

# A job that shows no sign of life (queued and never started, or running without progress) for this long is taken as
# lost — its queue message vanished or its worker died — and may be retried by its owner.
STALE_AFTER = timedelta(minutes=15)

# SQLSTATE classes and codes of faults that pass by themselves: connection exceptions, insufficient resources,
# transaction rollbacks (serialization failure, deadlock), administrator shutdown, cannot connect now, lock timeouts.
_TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "40")
_TRANSIENT_SQLSTATES = ("57P01", "57P02", "57P03", "55P03")
# SQLite result codes: SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN (primary codes).
_TRANSIENT_SQLITE_CODES = (5, 6, 10, 13, 14)
# Without a code, the driver's own words for a lost or refused connection or a busy database.
_TRANSIENT_WORDS = (
    "database is locked", "database table is locked", "disk i/o error", "database or disk is full",
    "unable to open database", "connection", "could not connect", "server closed", "terminating", "timeout",
    "timed out", "ssl syscall",
)
_TRANSIENT_ERRNOS = (errno.EAGAIN, errno.EBUSY, errno.EIO, errno.ENOSPC, errno.EINTR)


def _redis_errors():
    try:
        from redis.exceptions import BusyLoadingError, ConnectionError, TimeoutError
    except ImportError:  # Redis is only used when REDIS_URL is set
        return ()
    return (ConnectionError, TimeoutError, BusyLoadingError)


def is_transient(exc: BaseException) -> bool:
    """True for a fault that may pass if the step is run again later; False for one that would repeat (bad SQL, a
    function the database lacks, a broken constraint, a missing file, a bug)."""
    if isinstance(exc, InterfaceError):  # the connection is already closed
        return True
    if isinstance(exc, OperationalError):
        cause = exc.__cause__
        code = getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)
        if code:
            return code[:2] in _TRANSIENT_SQLSTATE_CLASSES or code in _TRANSIENT_SQLSTATES
        sqlite_code = getattr(cause, "sqlite_errorcode", None)
        if sqlite_code is not None:
            return sqlite_code & 0xFF in _TRANSIENT_SQLITE_CODES
        return any(word in str(exc).lower() for word in _TRANSIENT_WORDS)
    if isinstance(exc, (ConnectionError, TimeoutError, *_redis_errors())):
        return True
    if isinstance(exc, OSError):
        return exc.errno in _TRANSIENT_ERRNOS
    return False


def is_stale(active: bool, *signs_of_life) -> bool:
    """The stale rule of every kind of job: `active` (queued or running) and its latest sign of life — the first
    of `signs_of_life` that is set, newest kind first (heartbeat, start, queueing) — older than STALE_AFTER."""
    last = next((moment for moment in signs_of_life if moment), None)
    return bool(active and last and timezone.now() - last > STALE_AFTER)


def _broker_errors():
    from kombu.exceptions import OperationalError as BrokerUnreachable

    return (BrokerUnreachable, ConnectionError, TimeoutError, *_redis_errors())


def send_task(task, *args) -> bool:
    """Send `task` to the broker now; False (logged) when the broker cannot be reached, so the request that started
    it does not fail for a queue that is down for a while. A job stays 排队中 in the database and the sweeper
    (jobs/sweeper.py) sends it again once the broker is back; a claimed reminder or digest, or a decision's e-mail,
    is sent again by review.resend_pending_mail; other e-mails are only logged."""
    try:
        task.delay(*args)
    except _broker_errors() as exc:
        log.warning("%s%s not sent, the broker is unreachable (%s); the sweeper sends it later", task.name, args, exc)
        return False
    return True


class JobTask(Task):
    """The base of every job's task (`@shared_task(bind=True, base=JobTask)`): the retry policy is Celery's own.
    `run_job_step` lets only a transient fault escape, and only when a worker runs the task; Celery's autoretry then
    queues it again after 5, 10, 20 s. In-process nothing escapes, so Celery's Retry never reaches a request."""

    autoretry_for = (Exception,)
    retry_backoff = 5
    retry_backoff_max = 600
    retry_jitter = False
    max_retries = 3
    acks_late = True


# A mail server that is down or refuses for a while: try again later rather than lose the e-mail.
MAIL_FAULTS = (smtplib.SMTPException, ConnectionError, TimeoutError, OSError)


class MailTask(Task):
    """The base of every e-mail task: a mail fault is retried by Celery after 1, 2, 4, 8, 16 minutes."""

    autoretry_for = MAIL_FAULTS
    retry_backoff = 60
    retry_backoff_max = 60 * 2**5
    retry_jitter = False
    max_retries = 5
    acks_late = True


# What the owner reads when the server's disk (or its temporary directory) is full, instead of the OS's English words.
DISK_FULL = "服务器磁盘空间已满，未保存任何文件；请联系系统管理员清理磁盘后重试"


def is_disk_full(exc: BaseException) -> bool:
    """ENOSPC anywhere in the chain: writers wrap it (XlsxWriter raises FileCreateError from the OSError)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return True
        wrapped = next((arg for arg in getattr(exc, "args", ()) if isinstance(arg, BaseException)), None)
        exc = exc.__cause__ or wrapped or exc.__context__
    return False


def _describe(exc: BaseException) -> str:
    return DISK_FULL if is_disk_full(exc) else f"{exc.__class__.__name__}: {exc}"


def run_job_step(task, step, job_id: int, *, mark_failed, failure: str, advice: str = "", release=None) -> None:
    """Run `step(job_id)` for the bound Celery `task` (a JobTask); `failure` starts the message (e.g. "生成失败").

    `release(job_id)`, if given, is called before a transient fault is retried, so that the retried run may take the
    job up again (a step that refuses a job another run holds needs it)."""
    try:
        step(job_id)
    except Exception as exc:
        if not is_transient(exc):
            log.exception("%s %s failed", task.name, job_id)
            mark_failed(job_id, f"{failure}：{_describe(exc)}"[:450] + advice)
            return
        if task.request.is_eager:
            # In-process (no broker): waiting and retrying would hold up the web request, and Celery's Retry would
            # escape into it. The owner retries by hand.
            log.warning("%s %s: %s; in-process, marked failed", task.name, job_id, exc)
            message = f"{failure}：暂时故障（{_describe(exc)}"[:400]
            mark_failed(job_id, message + "），请稍后重试" + advice)
            return
        if task.request.retries >= task.max_retries:
            message = f"{failure}（已重试 {task.max_retries} 次）：{_describe(exc)}"[:450]
            mark_failed(job_id, message + advice)
            return
        log.warning("%s %s: %s; retrying", task.name, job_id, exc)
        if release is not None:
            release(job_id)
        raise  # retried by the task's autoretry_for / retry_backoff (JobTask)
