from django.conf import settings
from django.db import models

from accounts.scoping import ScopeLookups
from jobs.models import BackgroundJob


class ExportJob(BackgroundJob):
    """A workbook a user asked for: built by a Celery task, downloadable by that user until it expires."""

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
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    expires_at = models.DateTimeField("保留至", null=True, blank=True)
    file = models.FileField("文件", upload_to="exports/", blank=True)

    scope_lookups = ScopeLookups(owner="created_by")

    class Meta:
        verbose_name = "导出任务"
        verbose_name_plural = "导出任务"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["created_by", "-created_at"]), models.Index(fields=["status", "expires_at"])]

    def __str__(self):
        return self.title

