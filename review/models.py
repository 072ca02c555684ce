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
