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


class Reminder(models.Model):
    """One reminder e-mail to one institution, for one reason: the one mechanism behind 催报 (manual and automatic)
    and report-number upload reminders (review/reminders.py).

    The row is claimed before anything is sent; the database holds the rules whoever presses send: at most one a day
    per institution, reason and key (the filing year, the automatic point or the quarter), and each automatic point
    at most once ever. `status` becomes `sent` only once the mail server accepted the message."""

    class Reason(models.TextChoices):
        CHASE = "chase", "催报邮件"
        DEADLINE = "deadline", "截止前自动催报"
        UPLOAD = "upload", "报告编号上传提醒"

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败"
        NO_ADDRESS = "no_address", "未登记电子邮箱，未发送"
        NOT_NEEDED = "not_needed", "发送前已提交，未发送"

    institution = models.ForeignKey(
        "institutions.Institution", verbose_name="机构", on_delete=models.CASCADE, related_name="reminders"
    )
    reason = models.CharField("事由", max_length=10, choices=Reason.choices)
    key = models.CharField(
        "年度或季度", max_length=20,
        help_text="催报：年度（2025）；自动催报：年度/截止前天数（2025/7）；上传提醒：季度（2025Q1）",
    )
    day = models.DateField("日期", default=timezone.localdate)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    email = models.EmailField("发送至", blank=True)
    subject = models.CharField("邮件主题", max_length=200, blank=True)
    body = models.TextField("邮件正文", blank=True)
    # Filled for the reminders that belong in the institution's 催报记录: written there once the e-mail is sent.
    chasing_year = models.PositiveSmallIntegerField("记入催报记录的年度", null=True, blank=True)
    chasing_note = models.CharField("催报记录说明", max_length=300, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发送人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", help_text="系统自动发送时为空",
    )
    created_at = models.DateTimeField("生成时间", default=timezone.now)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    error = models.CharField("发送失败原因", max_length=500, blank=True)

    scope_lookups = ScopeLookups(institution="institution", city="institution__city")

    class Meta:
        verbose_name = "提醒邮件"
        verbose_name_plural = "提醒邮件"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "reason", "key", "day"], name="one_reminder_a_day"),
            models.UniqueConstraint(
                fields=["institution", "reason", "key"], condition=models.Q(reason="deadline"),
                name="one_automatic_reminder_per_point",
            ),
        ]
        indexes = [models.Index(fields=["reason", "key", "status"], name="review_reminder_reason_idx")]

    def __str__(self):
        return f"{self.institution} {self.get_reason_display()} {self.key} {self.day}"


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

    def __str__(self):
        return f"审核结果通知（审核记录 {self.transition_id}）"


class DigestPreference(models.Model):
    """Whether an officer receives the weekly 待办摘要 (review/digests.py); no row means yes."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="digest_preference"
    )
    weekly = models.BooleanField("接收每周待办摘要", default=True)
    changed_at = models.DateTimeField("修改时间", default=timezone.now)

    class Meta:
        verbose_name = "待办摘要设置"
        verbose_name_plural = "待办摘要设置"

    def __str__(self):
        return f"{self.user}：{'接收' if self.weekly else '不接收'}每周待办摘要"


class Digest(models.Model):
    """One 待办摘要 e-mail to one officer, claimed before it is sent (as reminders are): the database allows one weekly
    digest per user and ISO week, so a second run of the beat task, or a run resumed after a crash, sends nothing
    twice. A week whose digest had nothing in it is claimed as `empty` and not sent."""

    class Kind(models.TextChoices):
        WEEKLY = "weekly", "每周摘要"
        ON_DEMAND = "on_demand", "手动发送"

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败"
        EMPTY = "empty", "无待办事项，未发送"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="收件人", on_delete=models.CASCADE, related_name="digests"
    )
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    week = models.CharField("周次", max_length=10, help_text="ISO 周，如 2026-W48")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    email = models.EmailField("发送至", blank=True)
    subject = models.CharField("邮件主题", max_length=200, blank=True)
    body = models.TextField("邮件正文", blank=True)
    created_at = models.DateTimeField("生成时间", default=timezone.now)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    error = models.CharField("发送失败原因", max_length=500, blank=True)

    class Meta:
        verbose_name = "待办摘要邮件"
        verbose_name_plural = "待办摘要邮件"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "week"], condition=models.Q(kind="weekly"), name="one_weekly_digest_per_user"
            ),
        ]

    def __str__(self):
        return f"{self.user} {self.get_kind_display()} {self.week}"
