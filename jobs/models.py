"""The one abstract background job: status, progress, stage, heartbeat, attempts, error, and the one stale rule.

`ExportJob` (summaries), `ImportJob` (institutions) and `ReportNumberBatch` (reports) inherit it and keep their own
fields; a kind with more steps than queued → running → done/failed declares its own `Status` (same values for the
shared states) and lists its queued-or-running ones in `ACTIVE`. Progress is written to the job's row, at most every
PROGRESS_INTERVAL seconds, so that polling reads the database for every kind.
"""
import time

from django.db import models
from django.utils import timezone

from config import jobs


class BackgroundJob(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "排队中"
        RUNNING = "running", "进行中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    STALE_AFTER = jobs.STALE_AFTER
    # Queued or running: a job in one of these may turn stale; a subclass with more steps lists its own.
    ACTIVE = (Status.PENDING, Status.RUNNING)
    # The stage shown when a job fails.
    FAILED_STAGE = "失败"
    # Progress is written to the row at most this often (seconds), so that a fast step does not flood the database.
    PROGRESS_INTERVAL = 0.5

    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0)
    stage = models.CharField("当前步骤", max_length=100, blank=True)
    error = models.TextField("错误信息", blank=True)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    created_at = models.DateTimeField("发起时间", default=timezone.now)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    heartbeat_at = models.DateTimeField("最近进展", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_busy(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def is_finished(self) -> bool:
        """Nothing is queued or running for the job (it may still wait for its owner, as a checked import does)."""
        return not self.is_busy

    @property
    def is_stale(self) -> bool:
        # Queued or running with no sign of life for STALE_AFTER. A retry stamps heartbeat_at when it queues the job
        # again, so a retried job is not stale at once.
        return jobs.is_stale(self.is_busy, self.heartbeat_at, self.started_at, self.created_at)

    @property
    def can_retry(self) -> bool:
        return self.status == self.Status.FAILED or self.is_stale

    # --- writes by id, as the runner and the steps make them (a task holds ids, not instances) -----------------

    @classmethod
    def mark_progress(cls, job_id: int, percent: int, stage: str) -> None:
        cls.objects.filter(pk=job_id).update(progress=percent, stage=stage[:100], heartbeat_at=timezone.now())

    @classmethod
    def progress_reporter(cls, job_id: int, low: int = 1, high: int = 95):
        """`report(fraction, stage)` that maps 0–1 to low–high % and writes it at most every PROGRESS_INTERVAL."""
        last = [0.0]

        def report(fraction: float, stage: str) -> None:
            if time.monotonic() - last[0] < cls.PROGRESS_INTERVAL:
                return
            last[0] = time.monotonic()
            cls.mark_progress(job_id, max(low, min(high, int(low + fraction * (high - low)))), stage)

        return report

    @classmethod
    def mark_failed(cls, job_id: int, message: str, **fields) -> None:
        """Fail the job with a message its owner reads; a job that finished meanwhile keeps its outcome."""
        cls.objects.filter(pk=job_id).exclude(status=cls.Status.DONE).update(
            status=cls.Status.FAILED, error=message[:2000], stage=cls.FAILED_STAGE, finished_at=timezone.now(),
            **fields,
        )
