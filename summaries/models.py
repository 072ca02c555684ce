from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.scoping import ScopeLookups
from config import jobs


class ExportJob(models.Model):
    """A workbook a user asked for: built by a Celery task, downloadable by that user until it expires."""

    # A job queued and never started, or running with no progress, for this long is taken as lost: it may be retried.
    STALE_AFTER = jobs.STALE_AFTER

    class Status(models.TextChoices):
        PENDING = "pending", "排队中"
        RUNNING = "running", "生成中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"
        EXPIRED = "expired", "已过期"

    kind = models.CharField("导出类型", max_length=30)
    title = models.CharField("名称", max_length=200)
    params = models.JSONField("参数", default=dict)
    region = models.ForeignKey(
        "institutions.Region", verbose_name="范围", on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发起人", on_delete=models.CASCADE, related_name="export_jobs"
    )
    created_at = models.DateTimeField("发起时间", default=timezone.now)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0)
    stage = models.CharField("当前步骤", max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    heartbeat_at = models.DateTimeField("最近进展", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    expires_at = models.DateTimeField("保留至", null=True, blank=True)
    file = models.FileField("文件", upload_to="exports/", blank=True)
    error = models.TextField("错误信息", blank=True)

    scope_lookups = ScopeLookups(owner="created_by")

    class Meta:
        verbose_name = "导出任务"
        verbose_name_plural = "导出任务"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["created_by", "-created_at"]), models.Index(fields=["status", "expires_at"])]

    def __str__(self):
        return self.title

    @property
    def is_stale(self):
        # A retry sets heartbeat_at when it queues the job again, so a retried job is not stale at once.
        active = self.status in (self.Status.PENDING, self.Status.RUNNING)
        return jobs.is_stale(active, self.heartbeat_at, self.started_at, self.created_at)

    @property
    def is_finished(self):
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.EXPIRED)
