from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from .lookups import ScopeLookups


class Role(models.TextChoices):
    FILER = "filer", "机构填报人"
    CITY_OFFICER = "city_officer", "市州局人员"
    PROVINCIAL_REVIEWER = "provincial_reviewer", "省局审核人员"
    SAMR_REVIEWER = "samr_reviewer", "总局审核人员"
    # A member of one or more review groups (institutions.ReviewGroup) that SAMR set up: reviews their institutions.
    GROUP_REVIEWER = "group_reviewer", "评审组审核人员"
    ADMIN = "admin", "系统管理员"


# What each role is tied to: an institution, a region of a given level, or nothing.
ROLE_REGION_LEVEL = {Role.CITY_OFFICER: "city", Role.PROVINCIAL_REVIEWER: "province"}
# The officers imported in bulk (accounts/officer_import.py).
IMPORTABLE_OFFICER_ROLES = ((Role.CITY_OFFICER, Role.CITY_OFFICER.label),
                            (Role.PROVINCIAL_REVIEWER, Role.PROVINCIAL_REVIEWER.label))


class PortalUserManager(UserManager):
    def filers(self):
        """Active filers (of the related institution, through `institution.users`): who hears of its filing."""
        return self.filter(role=Role.FILER, is_active=True)

    def group_reviewers(self):
        """Active review group reviewers: the only accounts a review group takes as members."""
        return self.filter(role=Role.GROUP_REVIEWER, is_active=True)

    def provincial_reviewers(self):
        """Active provincial reviewers (each of their own province)."""
        return self.filter(role=Role.PROVINCIAL_REVIEWER, is_active=True)

    def complaint_handlers(self, city):
        """The active city officers of `city` (a region or its id), who receive and handle its complaints."""
        return self.filter(role=Role.CITY_OFFICER, region=city, is_active=True)

    def new_filer(self, **fields):
        """An unsaved filer of `institution` (registration, invitation)."""
        return self.model(role=Role.FILER, **fields)

    def new_officer(self, role_label: str, **fields):
        """An unsaved officer of an importable role given by its Chinese name (市州局人员, 省局审核人员), or None."""
        role = next((role for role, label in IMPORTABLE_OFFICER_ROLES if label == role_label), None)
        return self.model(role=role, **fields) if role else None

    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A portal user with exactly one role, tied to one institution (filers) or one region (officers, reviewers)."""

    role = models.CharField("角色", max_length=24, choices=Role.choices)
    institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name="所属机构",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    region = models.ForeignKey(
        "institutions.Region",
        verbose_name="所辖区划",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    phone = models.CharField("联系电话", max_length=30, blank=True)
    # The institution's main account (机构主账号) invites, disables and enables its other filers.
    is_main_account = models.BooleanField("机构主账号", default=False)

    objects = PortalUserManager()

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        constraints = [
            models.CheckConstraint(
                name="user_role_binding",
                condition=(
                    Q(role=Role.FILER, institution__isnull=False, region__isnull=True)
                    | Q(role__in=list(ROLE_REGION_LEVEL), institution__isnull=True, region__isnull=False)
                    | Q(role__in=[Role.SAMR_REVIEWER, Role.GROUP_REVIEWER, Role.ADMIN], institution__isnull=True,
                        region__isnull=True)
                ),
                violation_error_message="角色与所属机构/所辖区划不一致。",
            )
        ]

    def required_region_level(self) -> str | None:
        """The level of region the role is tied to ("city", "province"), or None for a role tied to none."""
        return ROLE_REGION_LEVEL.get(self.role)

    def clean(self):
        super().clean()
        if self.role == Role.FILER:
            if not self.institution_id:
                raise ValidationError({"institution": "机构填报人必须属于一个检验检测机构。"})
            if self.region_id:
                raise ValidationError({"region": "机构填报人不设所辖区划。"})
        elif self.role in ROLE_REGION_LEVEL:
            level = ROLE_REGION_LEVEL[self.role]
            if self.institution_id:
                raise ValidationError({"institution": "监管人员不属于检验检测机构。"})
            if not self.region_id or self.region.level != level:
                wanted = "市州" if level == "city" else "省级"
                raise ValidationError({"region": f"{self.get_role_display()}必须选择一个{wanted}区划。"})
        elif self.institution_id or self.region_id:
            raise ValidationError(f"{self.get_role_display()}不绑定机构或区划。")


class RegistrationRequest(models.Model):
    """机构注册申请: a filer's self-registration for an institution of the register (by credit code and one of its
    CMA certificates), or with a proposal of a new institution (新机构); confirmed by e-mail, decided by the city
    officer."""

    class Status(models.TextChoices):
        EMAIL = "email", "待确认邮箱"
        PENDING = "pending", "待审核"
        APPROVED = "approved", "已通过"
        REFUSED = "refused", "已拒绝"

    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.EMAIL)
    institution = models.ForeignKey(
        "institutions.Institution", verbose_name="机构", null=True, blank=True, on_delete=models.CASCADE,
        related_name="registration_requests",
    )
    is_new_institution = models.BooleanField("新机构", default=False)
    # The city whose officer decides: the institution's, or the proposed institution's.
    city = models.ForeignKey("institutions.Region", verbose_name="所在市州", on_delete=models.PROTECT, related_name="+")
    credit_code = models.CharField("统一社会信用代码", max_length=18)
    cma_number = models.CharField("资质认定证书编号", max_length=12)
    institution_name = models.CharField("机构名称（新机构）", max_length=200, blank=True)
    institution_address = models.CharField("注册地址（新机构）", max_length=300, blank=True)
    full_name = models.CharField("姓名", max_length=150)
    phone = models.CharField("联系电话", max_length=30)
    email = models.EmailField("电子邮箱")
    username = models.CharField("用户名", max_length=150)
    password_hash = models.CharField("密码（散列）", max_length=128)
    created_at = models.DateTimeField("申请时间", auto_now_add=True)
    email_confirmed_at = models.DateTimeField("邮箱确认时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        User, verbose_name="审核人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    reason = models.CharField("拒绝原因", max_length=500, blank=True)
    user = models.ForeignKey(
        User, verbose_name="创建的账号", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    scope_lookups = ScopeLookups(institution="institution", city="city")

    class Meta:
        verbose_name = "机构注册申请"
        verbose_name_plural = "机构注册申请"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.display_name} / {self.username}"

    @property
    def display_name(self) -> str:
        return self.institution.name if self.institution_id else self.institution_name


class AccountAction(models.Model):
    """账号操作记录: who did what to which filer account of an institution, and when."""

    class Action(models.TextChoices):
        REGISTERED = "registered", "注册审核通过"
        INVITED = "invited", "邀请"
        REINVITED = "reinvited", "重发邀请"
        DISABLED = "disabled", "停用"
        ENABLED = "enabled", "启用"
        ACTIVATED = "activated", "设置密码并启用"

    institution = models.ForeignKey(
        "institutions.Institution", verbose_name="机构", on_delete=models.CASCADE, related_name="account_actions"
    )
    action = models.CharField("操作", max_length=12, choices=Action.choices)
    actor = models.ForeignKey(User, verbose_name="操作人", null=True, on_delete=models.SET_NULL, related_name="+")
    target = models.ForeignKey(User, verbose_name="账号", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField("时间", auto_now_add=True)

    scope_lookups = ScopeLookups(institution="institution", city="institution__city")

    class Meta:
        verbose_name = "账号操作记录"
        verbose_name_plural = "账号操作记录"
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.get_action_display()} {self.target}"
