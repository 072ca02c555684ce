from django.core.exceptions import ValidationError
from django.db import models
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, ValidationError as StdnumError

from accounts.scoping import ScopeLookups


class Region(models.Model):
    """An administrative division (GB/T 2260): the nation, a province, or a city/prefecture (市州)."""

    class Level(models.TextChoices):
        NATION = "nation", "全国"
        PROVINCE = "province", "省级"
        CITY = "city", "市州"

    code = models.CharField("行政区划代码", max_length=6, unique=True)
    name = models.CharField("名称", max_length=50)
    level = models.CharField("级别", max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级区划", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]

    def __str__(self):
        return self.name

    def clean(self):
        expected_parent = {self.Level.NATION: None, self.Level.PROVINCE: self.Level.NATION, self.Level.CITY: self.Level.PROVINCE}
        wanted = expected_parent.get(self.level)
        if wanted is None and self.parent_id:
            raise ValidationError({"parent": "全国不应有上级区划。"})
        if wanted and (self.parent is None or self.parent.level != wanted):
            raise ValidationError({"parent": f"{self.get_level_display()}的上级必须是{self.Level(wanted).label}区划。"})


def validate_credit_code(value: str) -> None:
    """统一社会信用代码 (GB 32100-2015): 18 characters of the 31-letter alphabet with a check character."""
    try:
        uscc.validate(value)
    except InvalidChecksum:
        raise ValidationError("统一社会信用代码校验位错误，请核对最后一位。", code="credit_code_checksum")
    except StdnumError:
        raise ValidationError(
            "统一社会信用代码应为18位，由数字和大写字母组成（不含 I、O、S、V、Z）。", code="credit_code_format"
        )


class Institution(models.Model):
    """A legal entity (法人单位) that files once per reporting year, whatever its certificates or names."""

    name = models.CharField("机构名称", max_length=200)
    credit_code = models.CharField(
        "统一社会信用代码",
        max_length=18,
        unique=True,
        error_messages={"unique": "该统一社会信用代码已被其他机构使用。"},
    )
    city = models.ForeignKey(
        Region,
        verbose_name="所在市州",
        on_delete=models.PROTECT,
        related_name="institutions",
        limit_choices_to={"level": Region.Level.CITY},
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    scope_lookups = ScopeLookups(institution="pk", city="city")

    class Meta:
        verbose_name = "检验检测机构"
        verbose_name_plural = "检验检测机构"
        ordering = ["city__code", "name"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self):
        return self.name

    def clean(self):
        if self.credit_code:
            self.credit_code = uscc.compact(self.credit_code)
            validate_credit_code(self.credit_code)
        if self.city_id and self.city.level != Region.Level.CITY:
            raise ValidationError({"city": "所在地必须是市州一级的行政区划。"})
