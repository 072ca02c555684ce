"""The job sweeper (`jobs.sweep_jobs`, Celery beat every minute): it finds the jobs no worker will finish by itself.

- Queued, its message lost: the broker was down when the job was started (`config.jobs.send_task` kept the job), or
  Redis restarted empty. A queued job with no sign of life for RESEND_AFTER is sent again (and stamped, so at most
  once per RESEND_AFTER). Every step is idempotent — a job another run holds or finished is left alone — so a message
  that was merely slow still runs the job once.
- Running, its worker gone (killed, out of memory, the host restarted): a job with no sign of life for STALE_AFTER is
  marked 已中断 (failed, with a message its owner reads next to 重试). Nothing it half wrote was kept: each step writes
  its rows in one transaction and its files under temporary names.

Each kind registers how it is sent, from its app's tasks.py: `register(model, send, queued=…)`.
"""
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config import jobs

log = logging.getLogger(__name__)

RESEND_AFTER = timedelta(minutes=2)
INTERRUPTED = "已中断：处理进程意外停止（如服务器重启），未保存任何结果；请点击“重试”重新处理"


@dataclass(frozen=True)
class Kind:
    model: type
    send: object  # send(job) -> bool: False when the broker is unreachable
    queued: tuple  # statuses in which the job waits for a message (the rest of ACTIVE are running)


_KINDS: list[Kind] = []


def register(model, send, *, queued) -> None:
    if not any(kind.model is model for kind in _KINDS):
        _KINDS.append(Kind(model, send, tuple(queued)))


def _quiet_since(moment):
    """No sign of life since `moment`: the stale rule's newest-first signs of life (heartbeat, start, queueing)."""
    return (Q(heartbeat_at__lt=moment) | Q(heartbeat_at__isnull=True, started_at__lt=moment)
            | Q(heartbeat_at__isnull=True, started_at__isnull=True, created_at__lt=moment))


def sweep(now=None) -> dict:
    """Send lost queued jobs again and mark interrupted running ones; returns the counts per kind."""
    now = now or timezone.now()
    counts = {}
    for kind in _KINDS:
        model = kind.model
        running = [status for status in model.ACTIVE if status not in kind.queued]
        with transaction.atomic():
            # A job whose row another transaction holds is alive (a register import writes under its lock).
            lost = list(model.objects.select_for_update(skip_locked=True)
                        .filter(_quiet_since(now - RESEND_AFTER), status__in=kind.queued).values_list("pk", flat=True))
            model.objects.filter(pk__in=lost).update(heartbeat_at=now)
            dead = list(model.objects.select_for_update(skip_locked=True)
                        .filter(_quiet_since(now - jobs.STALE_AFTER), status__in=running).values_list("pk", flat=True))
        for pk in dead:
            model.mark_failed(pk, INTERRUPTED)
        resent = sum(1 for pk in lost if kind.send(model.objects.get(pk=pk)))
        if lost or dead:
            log.warning("%s: sent %s lost queued job(s) again, marked %s interrupted", model.__name__, resent,
                        len(dead))
        counts[model._meta.label] = {"resent": resent, "interrupted": len(dead)}
    return counts
