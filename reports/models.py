"""Report numbers (检验检测报告编号): quarterly uploads, the numbers themselves, LIMS tokens, complaints."""
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.scoping import ScopeLookups
from jobs.models import BackgroundJob

from .quarters import Quarter


class ReportNumberBatch(BackgroundJob):
    """One uploaded file (or LIMS call) of one institution for one quarter, and what came of it."""

    class Status(models.TextChoices):
        PENDING = "pending", "排队中"
        RUNNING = "running", "处理中"
        DONE = "done", "已完成"
        FAILED = "failed", "未通过"

    class Source(models.TextChoices):
        WEB = "web", "网页上传"
        API = "api", "LIMS 接口"

    FAILED_STAGE = "未通过"

    institution = models.ForeignKey(
        "institutions.Institution", verbose_name="机构", on_delete=models.PROTECT, related_name="report_batches"
    )
    year = models.PositiveSmallIntegerField("年度")
    quarter = models.PositiveSmallIntegerField("季度", choices=[(q, f"第{q}季度") for q in range(1, 5)])
    source = models.CharField("来源", max_length=5, choices=Source.choices, default=Source.WEB)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    token = models.ForeignKey(
        "reports.ApiToken", verbose_name="接口令牌", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="batches",
    )
    original_name = models.CharField("文件名", max_length=255, blank=True)
    file_size = models.BigIntegerField("文件大小（字节）", default=0)
    upload = models.FileField("上传文件", upload_to="report_uploads/", blank=True)
    created_at = models.DateTimeField("上传时间", default=timezone.now)
    is_late = models.BooleanField("逾期上传", default=False)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    encoding = models.CharField("文件编码", max_length=20, blank=True)
    lines = models.PositiveIntegerField("非空行数", default=0)
    accepted = models.PositiveIntegerField("新增编号", default=0)
    duplicate_in_file = models.PositiveIntegerField("文件内重复", default=0)
    duplicate_existing = models.PositiveIntegerField("与已上传重复", default=0)
    rejected = models.PositiveIntegerField("不合格行", default=0)
    rejects_file = models.FileField("不合格行清单", upload_to="report_rejects/", blank=True)

    scope_lookups = ScopeLookups(institution="institution", city="institution__city")

    class Meta:
        verbose_name = "报告编号上传批次"
        verbose_name_plural = "报告编号上传批次"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["year", "quarter", "status", "institution"], name="reports_batch_quarter_idx"),
            models.Index(fields=["institution", "-created_at"], name="reports_batch_inst_idx"),
        ]

    def __str__(self):
        return f"{self.institution_id} {self.quarter_obj.label} #{self.pk}"

    @property
    def quarter_obj(self) -> Quarter:
        return Quarter(self.year, self.quarter)

    @property
    def quarter_label(self) -> str:
        return self.quarter_obj.label

    @property
    def duplicates(self) -> int:
        return self.duplicate_in_file + self.duplicate_existing

    @property
    def can_retry(self) -> bool:
        """Stale, or failed by a fault (not refused: a refused file is deleted) while its file is still there."""
        if self.is_stale:
            return True
        return self.status == self.Status.FAILED and bool(self.upload) and self.upload.storage.exists(self.upload.name)


class ReportNumber(models.Model):
    """One report number of one institution. On PostgreSQL the table is partitioned by year (see the migration);
    the pair (institution, number) is unique; `number` is indexed for the public exact lookup."""

    id = models.BigAutoField(primary_key=True)
    year = models.PositiveSmallIntegerField("年度")
    quarter = models.PositiveSmallIntegerField("季度")
    institution = models.ForeignKey(
        "institutions.Institution", verbose_name="机构", on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="+",
    )
    batch = models.ForeignKey(
        ReportNumberBatch, verbose_name="上传批次", on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="+",
    )
    number = models.CharField("报告编号", max_length=64)

    scope_lookups = ScopeLookups(institution="institution", city="institution__city")

    class Meta:
        verbose_name = "检验检测报告编号"
        verbose_name_plural = "检验检测报告编号"
        # The key leads with the institution: an upload inserts one institution's numbers, so its index entries
        # land together, and the ingest's check for numbers stored in another year reads one institution's range.
        # On PostgreSQL the year is part of the key because the table is partitioned by year. The public lookup by
        # number has its own index (ADR 0026).
        constraints = [
            models.UniqueConstraint(fields=["institution", "number", "year"], name="reports_reportnumber_uniq"),
        ]
        indexes = [models.Index(fields=["number"], name="reports_reportnumber_number")]

    def __str__(self):
        return self.number


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class ApiToken(models.Model):
    """A LIMS access token of one institution. Only its SHA-256 hash is kept; the token is shown once."""

    PREFIX = "qts_"

    institution = models.ForeignKey(
        "institutions.Institution", verbose_name="机构", on_delete=models.CASCADE, related_name="report_tokens"
    )
    name = models.CharField("用途说明", max_length=100)
    token_hash = models.CharField("令牌摘要", max_length=64, unique=True)
    hint = models.CharField("令牌末四位", max_length=8)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    expires_at = models.DateTimeField("有效期至")
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="吊销人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)

    scope_lookups = ScopeLookups(institution="institution", city="institution__city")

    class Meta:
        verbose_name = "LIMS 接口令牌"
        verbose_name_plural = "LIMS 接口令牌"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name}（…{self.hint}）"

    @staticmethod
    def generate() -> str:
        return ApiToken.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def state_label(self) -> str:
        if self.revoked_at:
            return "已吊销"
        return "有效" if self.expires_at > timezone.now() else "已过期"


class Complaint(models.Model):
    """A visitor's doubt about a report (投诉举报), routed to the officers of the institution's city."""

    class Status(models.TextChoices):
        OPEN = "open", "待处理"
        HANDLED = "handled", "已处理"

    report_number = models.CharField("报告编号", max_length=64)
    institution = models.ForeignKey(
        "institutions.Institution", verbose_name="被投诉机构", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="report_complaints",
    )
    institution_text = models.CharField("投诉人填写的机构", max_length=200)
    city = models.ForeignKey(
        "institutions.Region", verbose_name="受理市州", on_delete=models.PROTECT, related_name="report_complaints"
    )
    description = models.TextField("问题描述", max_length=2000)
    contact = models.CharField("联系方式", max_length=100)
    client_address = models.GenericIPAddressField("来源地址", null=True, blank=True)
    created_at = models.DateTimeField("提交时间", default=timezone.now)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="处理人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    handled_at = models.DateTimeField("处理时间", null=True, blank=True)
    handling_note = models.TextField("处理情况", max_length=2000, blank=True)

    # Scoped by the city it was routed to (an unknown institution has a city but no institution).
    scope_lookups = ScopeLookups(institution="institution", city="city")

    class Meta:
        verbose_name = "报告编号投诉"
        verbose_name_plural = "报告编号投诉"
        ordering = ["status", "-created_at"]
        indexes = [models.Index(fields=["city", "status", "-created_at"], name="reports_complaint_city_idx")]

    def __str__(self):
        return f"{self.report_number}（{self.institution_text}）"
