"""通知公告: notices that admins and reviewers publish to the nation or one province, their attachments (the
notice's own forms) and who has read them."""
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.scoping import ScopeLookups
from institutions.models import Region

BODY_LIMIT = 20000


class NoticeQuerySet(models.QuerySet):
    def current(self):
        """Published, not withdrawn and not past its 展示截止日期: what readers see."""
        today = timezone.localdate()
        return self.filter(withdrawn_at__isnull=True, published_at__lte=timezone.now()).filter(
            Q(expires_on__isnull=True) | Q(expires_on__gte=today)
        )

    def newest_first(self):
        """Pinned first, then the newest."""
        return self.order_by("-pinned", "-published_at", "-pk")


class Notice(models.Model):
    """A notice to the nation or one province: title, plain-text body, attachments."""

    title = models.CharField("标题", max_length=200)
    body = models.TextField("正文", validators=[MaxLengthValidator(BODY_LIMIT)])
    region = models.ForeignKey(
        Region, verbose_name="发布范围", on_delete=models.PROTECT, related_name="+",
        limit_choices_to={"level__in": [Region.Level.NATION, Region.Level.PROVINCE]},
    )
    public = models.BooleanField(
        "在登录页公开显示", default=True, help_text="勾选后，未登录的访客也能在登录页看到并打开这条通知。"
    )
    pinned = models.BooleanField("置顶", default=False)
    published_at = models.DateTimeField("发布时间", default=timezone.now)
    expires_on = models.DateField(
        "展示截止日期", null=True, blank=True, help_text="过了这一天不再展示；留空则一直展示。"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发布人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="撤回人", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )

    scope_lookups = ScopeLookups(audience="region")
    objects = NoticeQuerySet.as_manager()

    class Meta:
        verbose_name = "通知公告"
        verbose_name_plural = "通知公告"
        ordering = ["-pinned", "-published_at", "-pk"]
        indexes = [models.Index(fields=["region", "-published_at"], name="notice_region_published")]

    def __str__(self):
        return self.title

    def clean(self):
        if self.region_id and self.region.level not in (Region.Level.NATION, Region.Level.PROVINCE):
            raise ValidationError({"region": "通知只能发往全国或一个省份。"})
        if self.expires_on and self.published_at and self.expires_on < timezone.localdate(self.published_at):
            raise ValidationError({"expires_on": "展示截止日期不能早于发布日期。"})

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_on is not None and self.expires_on < timezone.localdate()


def attachment_path(instance, filename):
    """A random name: the stored path tells nothing and cannot be guessed; the original name is kept in the row."""
    return f"notices/{uuid.uuid4().hex}.{instance.kind}"


class NoticeAttachment(models.Model):
    """A file attached to a notice, checked by its content (notices/attachments.py), downloaded through a view."""

    class Kind(models.TextChoices):
        PDF = "pdf", "PDF"
        DOC = "doc", "Word（DOC）"
        DOCX = "docx", "Word（DOCX）"
        XLS = "xls", "Excel（XLS）"
        XLSX = "xlsx", "Excel（XLSX）"

    notice = models.ForeignKey(Notice, verbose_name="通知", on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField("文件", upload_to=attachment_path)
    original_name = models.CharField("原文件名", max_length=255)
    size = models.PositiveBigIntegerField("大小（字节）")
    kind = models.CharField("类型", max_length=4, choices=Kind.choices)
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)

    scope_lookups = ScopeLookups(audience="notice__region")

    class Meta:
        verbose_name = "通知附件"
        verbose_name_plural = "通知附件"
        ordering = ["notice", "pk"]

    def __str__(self):
        return self.original_name


class NoticeRead(models.Model):
    """A read receipt: the user opened the notice (first time)."""

    notice = models.ForeignKey(Notice, verbose_name="通知", on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField("阅读时间", default=timezone.now)

    class Meta:
        verbose_name = "阅读记录"
        verbose_name_plural = "阅读记录"
        constraints = [models.UniqueConstraint(fields=["notice", "user"], name="one_read_per_user_and_notice")]

    def __str__(self):
        return f"{self.user} 已读 {self.notice}"
