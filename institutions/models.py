import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, ValidationError as StdnumError

from accounts.scoping import ScopeLookups
from jobs.models import BackgroundJob


class RegionQuerySet(models.QuerySet):
    def current(self):
        """Divisions in force today: what a form offers; retired ones stay for history."""
        return self.filter(is_current=True)


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
    # Whom filers ask (系统帮助 → 联系方式): the bureau's contact, set by the admin.
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=50, blank=True)
    contact_email = models.EmailField("联系邮箱", blank=True)
    # Divisions change (a city renamed, two merged): a retired one keeps its row, so history and old filings still
    # name it, and points to the division it merged into (institutions.divisions.update_divisions, ADR 0022).
    is_current = models.BooleanField("现行区划", default=True)
    successor = models.ForeignKey(
        "self", verbose_name="并入区划", null=True, blank=True, on_delete=models.PROTECT, related_name="predecessors"
    )
    history = HistoricalRecords(excluded_fields=["contact_name", "contact_phone", "contact_email"])

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]

    def __str__(self):
        return self.name

    @property
    def display_name(self) -> str:
        """The region as lists and titles name it: 全国, 湖南省（省级）, 长沙市（市州） — never 全国（全国）."""
        return self.name if self.level == self.Level.NATION else f"{self.name}（{self.get_level_display()}）"

    def clean(self):
        expected_parent = {
            self.Level.NATION: None, self.Level.PROVINCE: self.Level.NATION, self.Level.CITY: self.Level.PROVINCE,
        }
        wanted = expected_parent.get(self.level)
        if wanted is None and self.parent_id:
            raise ValidationError({"parent": "全国不应有上级区划。"})
        if wanted and (self.parent is None or self.parent.level != wanted):
            raise ValidationError({"parent": f"{self.get_level_display()}的上级必须是{self.Level(wanted).label}区划。"})


def institution_name_key(name: str) -> str:
    """What a name reads as: full- and half-width forms folded (（） and (), Ａ and A), case, spaces and invisible
    characters ignored. Two institutions whose names share a key look alike to a reader of the public lookup."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(char for char in folded if not char.isspace() and unicodedata.category(char)[0] != "C")


def validate_credit_code(value: str) -> None:
    """统一社会信用代码 (GB 32100-2015): 18 characters of the 31-letter alphabet with a check character."""
    try:
        uscc.validate(value)
    except InvalidChecksum:
        raise ValidationError("统一社会信用代码校验位错误，请核对最后一位。", code="credit_code_checksum") from None
    except StdnumError:
        raise ValidationError(
            "统一社会信用代码应为18位，由数字和大写字母组成（不含 I、O、S、V、Z）。", code="credit_code_format"
        ) from None


class ProfessionalField(models.Model):
    """专业领域: an institution may tick several; per-field counts add up to more than the institutions."""

    class Category(models.TextChoices):
        TRADITIONAL = "traditional", "传统领域"
        EMERGING = "emerging", "新兴领域"
        OTHER = "other", "其他领域"

    code = models.CharField("代码", max_length=4, unique=True)
    name = models.CharField("名称", max_length=50)
    category = models.CharField("类别", max_length=12, choices=Category.choices)
    order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "专业领域"
        verbose_name_plural = "专业领域"
        ordering = ["order", "code"]

    def __str__(self):
        return self.name


class SupervisingDepartment(models.Model):
    """行业主管部门, coded as in places 7-8 of a CMA certificate number."""

    code = models.CharField("代码", max_length=2, unique=True)
    name = models.CharField("名称", max_length=50)

    class Meta:
        verbose_name = "行业主管部门"
        verbose_name_plural = "行业主管部门"
        ordering = ["code"]

    def __str__(self):
        return self.name


class CmaField(models.Model):
    """资质认定证书专业领域代码 (places 5-6 of a CMA certificate number)."""

    code = models.CharField("代码", max_length=2, unique=True)
    name = models.CharField("名称", max_length=50)

    class Meta:
        verbose_name = "资质认定领域代码"
        verbose_name_plural = "资质认定领域代码"
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class CmaIssuer(models.Model):
    """资质认定发证机关 (places 3-4): 00 is SAMR (national level), otherwise a province's bureau."""

    code = models.CharField("代码", max_length=2, unique=True)
    name = models.CharField("名称", max_length=50)
    province = models.OneToOneField(
        Region, verbose_name="省份", null=True, blank=True, on_delete=models.PROTECT, related_name="cma_issuer"
    )

    class Meta:
        verbose_name = "资质认定发证机关"
        verbose_name_plural = "资质认定发证机关"
        ordering = ["code"]

    def __str__(self):
        return self.name

    @property
    def is_national(self):
        return self.province_id is None


class ReviewingAuthority(models.TextChoices):
    """Who reviews the institution's filing (notice §3(三)); a review group only when SAMR assigned one."""

    PROVINCE = "province", "省级市场监督管理局"
    SAMR = "samr", "国家市场监督管理总局"
    GROUP = "group", "评审组"


# What an institution itself may choose between; a review group is SAMR's to assign, never chosen.
CHOOSABLE_AUTHORITIES = (ReviewingAuthority.PROVINCE, ReviewingAuthority.SAMR)


def review_group_label(group_name: str) -> str:
    return f"{ReviewingAuthority.GROUP.label}：{group_name}"


def reviewing_authority_name(authority: str, province: str, group: str = "") -> str:
    """The reviewing authority as every page, PDF and workbook names it: SAMR, the bureau of the institution's
    province by name (湖南省市场监督管理局), or the review group by name (评审组：国家食品质检评审组); the generic
    label only when the province or group is unknown."""
    if authority == ReviewingAuthority.SAMR:
        return ReviewingAuthority.SAMR.label
    if authority == ReviewingAuthority.GROUP:
        return review_group_label(group) if group else ReviewingAuthority.GROUP.label
    return f"{province}市场监督管理局" if province else ReviewingAuthority.PROVINCE.label


# Words of a bureau's name: a review group named with them would pass for the province or SAMR on a decision.
BUREAU_WORDS = ("市场监督管理", "市场监管", "监督管理局", "总局", "省局", "市局", "质量技术监督", "质监局")


def validate_review_group_name(name: str) -> None:
    """A review group's name must not pass for a bureau (湖南省市场监督管理局, 国家市场监督管理总局, 省局…) once shown
    as 评审组：<name> on decisions; full-width, case and invisible characters are folded before comparing."""
    key = institution_name_key(name)
    if not key:
        raise ValidationError("请填写评审组名称。", code="blank")
    bureau_words = [institution_name_key(word) for word in BUREAU_WORDS]
    if any(word in key for word in bureau_words) or key.endswith("局"):
        raise ValidationError("评审组名称不能使用市场监管部门的名称或与之相似（如“…市场监督管理局”“总局”“省局”）。",
                              code="impersonation")


class ReviewGroup(models.Model):
    """评审组: set up by SAMR, which assigns institutions to it; its members review those institutions' filings as
    the province or SAMR would, and its decisions bear its name (ADR 0029)."""

    name = models.CharField("评审组名称", max_length=100, unique=True,
                            error_messages={"unique": "已有同名的评审组。"}, validators=[validate_review_group_name])
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name="成员", blank=True, related_name="review_groups",
        limit_choices_to={"role": "group_reviewer"},
    )
    is_active = models.BooleanField("启用", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    # The name at any time: decisions name the group as it was called when they were made.
    history = HistoricalRecords(m2m_fields=[members])

    class Meta:
        verbose_name = "评审组"
        verbose_name_plural = "评审组"
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def display_name(self) -> str:
        return review_group_label(self.name)

    def clean(self):
        # Its institutions would have nobody to review them (the province and SAMR no longer decide them).
        if not self.is_active and self.pk and (count := self.institutions.count()):
            raise ValidationError({"is_active": f"该评审组仍负责 {count} 家机构的审核，"
                                                "请先将其移出或改派其他评审组后再停用。"})

    def validate_unique(self, exclude=None):
        exclude = set(exclude or ())
        if "name" not in exclude and self.name:
            key = institution_name_key(self.name)
            same = [g.name for g in ReviewGroup.objects.exclude(pk=self.pk).only("name")
                    if institution_name_key(g.name) == key]
            if same:
                raise ValidationError({"name": ValidationError(
                    f"评审组名称与已有的“{same[0]}”相同或难以区分。", code="unique")})
            exclude.add("name")
        super().validate_unique(exclude=exclude)


class Institution(models.Model):
    """A legal entity (法人单位) that files once per reporting year, whatever its certificates or names."""

    class Nature(models.TextChoices):
        ENTERPRISE = "enterprise", "企业"
        PUBLIC_INSTITUTION = "public", "事业单位"
        OTHER = "other", "其他（机关、社会团体等）"

    class LegalStatus(models.TextChoices):
        INDEPENDENT = "independent", "独立法人"
        NON_INDEPENDENT = "non_independent", "非独立法人（产业活动单位）"

    class Ownership(models.TextChoices):
        STATE = "state", "国有及国有控股"
        COLLECTIVE = "collective", "集体控股"
        PRIVATE = "private", "私营"
        FOREIGN = "foreign", "港澳台及外商投资"
        OTHER = "other", "其他"

    name = models.CharField("机构名称", max_length=200)
    credit_code = models.CharField(
        "统一社会信用代码",
        max_length=18,
        unique=True,
        error_messages={"unique": "该统一社会信用代码已被其他机构使用。"},
    )
    # A few early codes from pilot regions fail the check legally: an admin may accept one, with a reason.
    credit_code_override_reason = models.CharField("校验位例外原因", max_length=200, blank=True)
    credit_code_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="例外确认人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    city = models.ForeignKey(
        Region,
        verbose_name="所在市州",
        on_delete=models.PROTECT,
        related_name="institutions",
        limit_choices_to={"level": Region.Level.CITY},
    )
    division_code = models.CharField("行政区划代码", max_length=6, blank=True, help_text="县级行政区划代码（6位）")
    legal_representative = models.CharField("法定代表人", max_length=50, blank=True)
    registered_address = models.CharField("注册地址", max_length=300, blank=True)
    established_year = models.PositiveSmallIntegerField("成立年份", null=True, blank=True)
    nature = models.CharField("机构性质", max_length=12, choices=Nature.choices, default=Nature.ENTERPRISE)
    legal_status = models.CharField(
        "法人状态", max_length=16, choices=LegalStatus.choices, default=LegalStatus.INDEPENDENT
    )
    ownership = models.CharField("所有制", max_length=12, choices=Ownership.choices, default=Ownership.PRIVATE)
    supervising_department = models.ForeignKey(
        SupervisingDepartment, verbose_name="行业主管部门", null=True, blank=True, on_delete=models.PROTECT
    )
    professional_fields = models.ManyToManyField(ProfessionalField, verbose_name="专业领域", blank=True)
    parent = models.ForeignKey(
        "self", verbose_name="所属上级法人单位", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="sub_units",
    )
    is_listed = models.BooleanField("上市公司", default=False)
    is_high_tech = models.BooleanField("高新技术企业", default=False)
    is_specialized = models.BooleanField("专精特新企业", default=False)
    is_group_member = models.BooleanField("集团化机构", default=False)
    has_overseas_presence = models.BooleanField("境外资质或分支机构", default=False)
    cnas_number = models.CharField("CNAS认可证书号", max_length=30, blank=True, help_text="未获CNAS认可的留空")
    contact_person = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    contact_email = models.EmailField("电子邮箱", blank=True)
    reviewing_authority = models.CharField(
        "审核单位", max_length=10, choices=ReviewingAuthority.choices, default=ReviewingAuthority.PROVINCE
    )
    # True when an institution holding both levels chose against the derived authority (notice §3(三)).
    reviewing_authority_chosen = models.BooleanField("审核单位由机构自选", default=False)
    reviewing_authority_chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审核单位选择人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewing_authority_chosen_at = models.DateTimeField("审核单位选择时间", null=True, blank=True)
    # Set by SAMR only (institutions.review_groups): while set, the authority is 评审组 and the filer cannot choose.
    review_group = models.ForeignKey(
        ReviewGroup, verbose_name="评审组", null=True, blank=True, on_delete=models.PROTECT, related_name="institutions"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"], m2m_fields=[professional_fields])

    scope_lookups = ScopeLookups(institution="pk", city="city")

    class Meta:
        verbose_name = "检验检测机构"
        verbose_name_plural = "检验检测机构"
        ordering = ["city__code", "name"]
        indexes = [models.Index(fields=["name"]), models.Index(fields=["reviewing_authority", "city"])]
        constraints = [
            models.CheckConstraint(
                name="institution_review_group_authority",
                condition=(models.Q(reviewing_authority="group", review_group__isnull=False)
                           | (~models.Q(reviewing_authority="group") & models.Q(review_group__isnull=True))),
                violation_error_message="审核单位为评审组时必须指定评审组，反之不能指定评审组。",
            )
        ]

    def __str__(self):
        return self.name

    @property
    def province_name(self) -> str:
        return self.city.parent.name if self.city_id and self.city.parent_id else ""

    @property
    def in_review_group(self) -> bool:
        """SAMR assigned the institution to a review group: its own choice of authority is locked."""
        return self.review_group_id is not None

    def authority_name(self, authority: str) -> str:
        """What `authority` is called for this institution (its province's bureau, SAMR, or its review group)."""
        group = self.review_group.name if authority == ReviewingAuthority.GROUP and self.review_group_id else ""
        return reviewing_authority_name(authority, self.province_name, group)

    @property
    def reviewing_authority_name(self) -> str:
        return self.authority_name(self.reviewing_authority)

    def validate_unique(self, exclude=None):
        exclude = set(exclude or ())
        if "credit_code" not in exclude and self.credit_code:
            other = Institution.objects.filter(credit_code=self.credit_code).exclude(pk=self.pk).only("name").first()
            if other:
                raise ValidationError({"credit_code": ValidationError(
                    f"统一社会信用代码 {self.credit_code} 已登记为“{other.name}”，同一法人单位不能重复登记。",
                    code="unique",
                )})
            exclude.add("credit_code")
        super().validate_unique(exclude=exclude)

    def clean(self):
        if self.credit_code:
            self.credit_code = uscc.compact(self.credit_code).upper()
            try:
                validate_credit_code(self.credit_code)
            except ValidationError as error:
                if error.code != "credit_code_checksum" or not self.credit_code_override_reason:
                    raise ValidationError({"credit_code": error}) from None
        if self.city_id and self.city.level != Region.Level.CITY:
            raise ValidationError({"city": "所在地必须是市州一级的行政区划。"})
        if self.established_year and self.established_year > timezone.localdate().year:
            raise ValidationError({"established_year": "成立年份不能晚于今年。"})
        if self.parent_id and self.parent_id == self.pk:
            raise ValidationError({"parent": "所属上级法人单位不能是本机构自己。"})


class Site(models.Model):
    """场所: every address at which the entity tests."""

    institution = models.ForeignKey(Institution, verbose_name="机构", on_delete=models.CASCADE, related_name="sites")
    address = models.CharField("场所地址", max_length=300)
    postal_code = models.CharField("邮政编码", max_length=6, blank=True)
    division_code = models.CharField("行政区划代码", max_length=6, blank=True)

    history = HistoricalRecords()
    scope_lookups = ScopeLookups(institution="institution", city="institution__city")

    class Meta:
        verbose_name = "检验检测场所"
        verbose_name_plural = "检验检测场所"
        ordering = ["institution", "pk"]

    def __str__(self):
        return self.address


class CertificateLevel(models.TextChoices):
    NATIONAL = "national", "国家级"
    PROVINCIAL = "provincial", "省级"


class CmaCertificate(models.Model):
    """资质认定证书. The 12-digit number YY AA FF DD NNNN decodes to year, issuer, field and department."""

    institution = models.ForeignKey(
        Institution, verbose_name="机构", on_delete=models.CASCADE, related_name="cma_certificates"
    )
    number = models.CharField(
        "证书编号", max_length=12, unique=True, error_messages={"unique": "该资质认定证书编号已登记在其他机构名下。"}
    )
    level = models.CharField("证书级别", max_length=10, choices=CertificateLevel.choices)
    issuer = models.ForeignKey(CmaIssuer, verbose_name="发证机关", on_delete=models.PROTECT)
    cma_field = models.ForeignKey(CmaField, verbose_name="专业领域", on_delete=models.PROTECT)
    supervising_department = models.ForeignKey(
        SupervisingDepartment, verbose_name="行业主管部门", on_delete=models.PROTECT
    )
    issue_date = models.DateField("发证日期")
    expiry_date = models.DateField("有效期至")
    capability_items = models.PositiveIntegerField("能力范围项数", default=0)
    scope_summary = models.CharField("能力范围概述", max_length=500, blank=True)

    history = HistoricalRecords()
    scope_lookups = ScopeLookups(institution="institution", city="institution__city")

    class Meta:
        verbose_name = "资质认定证书"
        verbose_name_plural = "资质认定证书"
        ordering = ["institution", "number"]
        constraints = [
            models.CheckConstraint(
                name="cma_expiry_after_issue",
                condition=models.Q(expiry_date__gt=models.F("issue_date")),
                violation_error_message="有效期至必须晚于发证日期。",
            )
        ]

    def __str__(self):
        return self.number

    def clean(self):
        from .codes import decode_cma_number, normalise_cma_number  # codes.py imports this module

        if self.number:
            self.number = normalise_cma_number(self.number)
            try:
                decoded = decode_cma_number(self.number)
            except ValidationError as error:
                raise ValidationError({"number": error}) from None
            # The number decides issuer, level, field and department: they are never typed separately.
            self.issuer, self.level = decoded.issuer, decoded.level
            self.cma_field, self.supervising_department = decoded.cma_field, decoded.supervising_department
        if self.issue_date and self.expiry_date and self.expiry_date <= self.issue_date:
            raise ValidationError({"expiry_date": "有效期至必须晚于发证日期。"})

    def validate_unique(self, exclude=None):
        exclude = set(exclude or ())
        if "number" not in exclude and self.number:
            other = (CmaCertificate.objects.filter(number=self.number).exclude(pk=self.pk)
                     .select_related("institution").only("institution__name").first())
            if other:
                raise ValidationError({"number": ValidationError(
                    f"资质认定证书编号 {self.number} 已登记在“{other.institution.name}”名下。", code="unique"
                )})
            exclude.add("number")
        super().validate_unique(exclude=exclude)

    def is_valid_on(self, day) -> bool:
        return self.issue_date <= day <= self.expiry_date


class OtherQualification(models.Model):
    """其他法定资格、资质 held beside CMA (construction, transport, special equipment, …)."""

    class Kind(models.TextChoices):
        CONSTRUCTION = "construction", "建设工程"
        TRANSPORT = "transport", "交通运输"
        SPECIAL_EQUIPMENT = "special_equipment", "特种设备"
        WORK_SAFETY = "work_safety", "安全生产"
        LIGHTNING = "lightning", "雷电防护"
        WATER = "water", "水利"
        CUSTOMS = "customs", "海关"
        OTHER = "other", "其他"

    institution = models.ForeignKey(
        Institution, verbose_name="机构", on_delete=models.CASCADE, related_name="other_qualifications"
    )
    kind = models.CharField("资质类别", max_length=20, choices=Kind.choices)
    number = models.CharField("证书编号", max_length=60)
    issuer = models.CharField("发证机关", max_length=100)
    issue_date = models.DateField("发证日期", null=True, blank=True)
    expiry_date = models.DateField("有效期至", null=True, blank=True)

    history = HistoricalRecords()
    scope_lookups = ScopeLookups(institution="institution", city="institution__city")

    class Meta:
        verbose_name = "其他法定资质"
        verbose_name_plural = "其他法定资质"
        ordering = ["institution", "kind", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "kind", "number"], name="unique_other_qualification",
                violation_error_message="本机构已登记该资质证书。",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}"

    def clean(self):
        if self.issue_date and self.expiry_date and self.expiry_date <= self.issue_date:
            raise ValidationError({"expiry_date": "有效期至必须晚于发证日期。"})

    def is_valid_on(self, day) -> bool:
        return (self.issue_date is None or self.issue_date <= day) and (
            self.expiry_date is None or day <= self.expiry_date
        )


class NationalCentre(models.Model):
    """国家质检中心: one social responsibility report per centre per year, filed by the lead entity."""

    name = models.CharField("国家质检中心名称", max_length=200, unique=True)
    lead_institution = models.ForeignKey(
        Institution, verbose_name="牵头单位", on_delete=models.PROTECT, related_name="led_centres"
    )
    co_builders = models.ManyToManyField(
        Institution, verbose_name="共建单位", blank=True, related_name="co_built_centres"
    )
    approval_number = models.CharField("批准文号", max_length=100, blank=True)

    history = HistoricalRecords(m2m_fields=[co_builders])
    scope_lookups = ScopeLookups(institution="lead_institution", city="lead_institution__city")

    class Meta:
        verbose_name = "国家质检中心"
        verbose_name_plural = "国家质检中心"
        ordering = ["name"]

    def __str__(self):
        return self.name


class ImportJob(BackgroundJob):
    """An upload of the institution register: validated row by row into a preview, then imported all-or-nothing."""

    class Status(models.TextChoices):
        PENDING = "pending", "等待校验"
        VALIDATING = "validating", "正在校验"
        INVALID = "invalid", "校验未通过"
        READY = "ready", "待确认导入"
        IMPORTING = "importing", "正在导入"
        DONE = "done", "已导入"
        FAILED = "failed", "失败"

    # Queued (to be checked or written) or running; a checked file that waits for its owner's confirmation is not.
    ACTIVE = (Status.PENDING, Status.VALIDATING, Status.IMPORTING)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发起人", on_delete=models.CASCADE, related_name="registry_imports"
    )
    region = models.ForeignKey(
        Region, verbose_name="导入范围", on_delete=models.PROTECT, related_name="+",
        help_text="管理员为全国，省局审核人员为本省：范围外的机构整份文件不予导入。",
    )
    created_at = models.DateTimeField("上传时间", default=timezone.now)
    file = models.FileField("文件", upload_to="imports/")
    original_name = models.CharField("原文件名", max_length=200)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField("数据行数", default=0)
    error_count = models.PositiveIntegerField("错误数", default=0)
    errors = models.JSONField("错误明细", default=list, blank=True)
    summary = models.JSONField("导入概要", default=dict, blank=True)
    error = models.TextField("失败原因", blank=True)

    scope_lookups = ScopeLookups(owner="created_by")

    class Meta:
        verbose_name = "名录导入"
        verbose_name_plural = "名录导入"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.original_name}（{self.get_status_display()}）"


class IdentityChangeRequest(models.Model):
    """信息变更申请: a filer proposes a new name, legal representative, credit code or city; the institution's
    reviewing authority (or an admin) confirms or refuses it. Until confirmed, the register keeps the old values."""

    class Status(models.TextChoices):
        PENDING = "pending", "待确认"
        CONFIRMED = "confirmed", "已确认"
        REFUSED = "refused", "未通过"
        CANCELLED = "cancelled", "已撤回"

    FIELDS = ("name", "legal_representative", "credit_code", "city")

    institution = models.ForeignKey(
        Institution, verbose_name="机构", on_delete=models.CASCADE, related_name="identity_change_requests"
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    name = models.CharField("机构名称", max_length=200)
    legal_representative = models.CharField("法定代表人", max_length=50)
    credit_code = models.CharField("统一社会信用代码", max_length=18)
    city = models.ForeignKey(
        Region, verbose_name="所在市州", on_delete=models.PROTECT, related_name="+",
        limit_choices_to={"level": Region.Level.CITY},
    )
    # The registered values when the request was made, as shown: {"name": ..., "city": "长沙市", ...}.
    previous = models.JSONField("申请时的登记信息", default=dict)
    reason = models.TextField("变更原因", max_length=1000)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField("申请时间", default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="处理人", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    decision_comment = models.TextField("处理意见", max_length=1000, blank=True)

    scope_lookups = ScopeLookups(institution="institution", city="institution__city")

    class Meta:
        verbose_name = "信息变更申请"
        verbose_name_plural = "信息变更申请"
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution"], condition=models.Q(status="pending"), name="one_pending_identity_change",
                violation_error_message="本单位已有一份待确认的信息变更申请。",
            )
        ]

    def __str__(self):
        return f"{self.institution} 信息变更申请（{self.get_status_display()}）"

    def proposed(self) -> dict:
        return {"name": self.name, "legal_representative": self.legal_representative,
                "credit_code": self.credit_code, "city": self.city.name}

    @property
    def changes(self) -> list[tuple[str, str, str]]:
        """(label, registered value at request time, proposed value) for each field the request changes."""
        proposed = self.proposed()
        return [
            (self._meta.get_field(name).verbose_name, self.previous.get(name, ""), proposed[name])
            for name in self.FIELDS if self.previous.get(name, "") != proposed[name]
        ]
