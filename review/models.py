from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.scoping import ScopeLookups


class ChasingRecord(models.Model):
    """催报记录: one contact a city officer (or the system) made to get an institution to file."""

    class Channel(models.TextChoices):
        PHONE = "phone", "电话"
        SMS = "sms", "短信"
        EMAIL = "email", "电子邮件"
        VISIT = "visit", "上门"
        OTHER = "other", "其他"

    institution = models.ForeignKey(
        "institutions.Institution", verbose_name="机构", on_delete=models.CASCADE, related_name="chasing_records"
    )
    year = models.PositiveSmallIntegerField("统计年度")
    contacted_on = models.DateField("联系日期", default=timezone.localdate)
    channel = models.CharField("方式", max_length=10, choices=Channel.choices)
    note = models.TextField("情况说明", max_length=2000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="记录人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", help_text="系统自动催报时为空",
    )
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    scope_lookups = ScopeLookups(institution="institution", city="institution__city")

    class Meta:
        verbose_name = "催报记录"
        verbose_name_plural = "催报记录"
        ordering = ["-contacted_on", "-created_at"]
        indexes = [models.Index(fields=["institution", "year"])]

    def __str__(self):
        return f"{self.institution} {self.contacted_on} {self.get_channel_display()}"


class FieldComment(models.Model):
    """A reviewer's comment on one field of a returned filing, shown to the filer next to that field.

    `field` uses the same keys as the checks: "statistics.revenue", "annual_report.compliance",
    "sr.<centre id>.director_name"."""

    filing = models.ForeignKey(
        "filings.Filing", verbose_name="填报", on_delete=models.CASCADE, related_name="field_comments"
    )
    transition = models.ForeignKey(
        "filings.FilingTransition", verbose_name="退回记录", on_delete=models.CASCADE, related_name="field_comments"
    )
    field = models.CharField("字段", max_length=80)
    label = models.CharField("字段名称", max_length=200)
    text = models.TextField("意见", max_length=2000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审核人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("时间", default=timezone.now)

    scope_lookups = ScopeLookups(institution="filing__institution", city="filing__institution__city")

    class Meta:
        verbose_name = "字段审核意见"
        verbose_name_plural = "字段审核意见"
        ordering = ["transition", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["transition", "field"], name="one_comment_per_field_per_return")
        ]

    def __str__(self):
        return f"{self.label}：{self.text[:30]}"


class AutoReminder(models.Model):
    """One automatic reminder point (e.g. 7 days before the deadline) for one institution and year. The unique row is
    what makes the beat task send each point at most once; `sent_at` is set only after the mail server took it."""

    institution = models.ForeignKey(
        "institutions.Institution", verbose_name="机构", on_delete=models.CASCADE, related_name="auto_reminders"
    )
    year = models.ForeignKey("filings.ReportingYear", verbose_name="统计年度", on_delete=models.CASCADE, related_name="+")
    days_before = models.PositiveSmallIntegerField("截止前天数")
    created_at = models.DateTimeField("生成时间", auto_now_add=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    outcome = models.CharField("结果", max_length=200, blank=True)

    scope_lookups = ScopeLookups(institution="institution", city="institution__city")

    class Meta:
        verbose_name = "自动催报"
        verbose_name_plural = "自动催报"
        constraints = [
            models.UniqueConstraint(fields=["institution", "year", "days_before"], name="one_auto_reminder_per_point")
        ]

    def __str__(self):
        return f"{self.institution} {self.year} 截止前{self.days_before}天"


class DecisionNotice(models.Model):
    """The e-mail telling the filer of one review decision; one row per decision so a retried task sends it once."""

    transition = models.OneToOneField(
        "filings.FilingTransition", verbose_name="审核记录", on_delete=models.CASCADE, related_name="notice"
    )
    recipients = models.CharField("收件人", max_length=500, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)

    class Meta:
        verbose_name = "审核结果通知"
        verbose_name_plural = "审核结果通知"
