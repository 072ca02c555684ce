from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    FILER = "filer", "机构填报人"
    CITY_OFFICER = "city_officer", "市州局人员"
    PROVINCIAL_REVIEWER = "provincial_reviewer", "省局审核人员"
    SAMR_REVIEWER = "samr_reviewer", "总局审核人员"
    ADMIN = "admin", "系统管理员"


# What each role is tied to: an institution, a region of a given level, or nothing.
ROLE_REGION_LEVEL = {Role.CITY_OFFICER: "city", Role.PROVINCIAL_REVIEWER: "province"}


class PortalUserManager(UserManager):
    def filers(self):
        """Active filers (of the related institution, through `institution.users`): who hears of its filing."""
        return self.filter(role=Role.FILER, is_active=True)

    def provincial_reviewers(self):
        """Active provincial reviewers (each of their own province)."""
        return self.filter(role=Role.PROVINCIAL_REVIEWER, is_active=True)

    def complaint_handlers(self, city):
        """The active city officers of `city` (a region or its id), who receive and handle its complaints."""
        return self.filter(role=Role.CITY_OFFICER, region=city, is_active=True)

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
                    | Q(role__in=[Role.SAMR_REVIEWER, Role.ADMIN], institution__isnull=True, region__isnull=True)
                ),
                violation_error_message="角色与所属机构/所辖区划不一致。",
            )
        ]

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
