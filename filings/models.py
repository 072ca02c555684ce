import datetime
import hashlib
import json
import operator
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from accounts.scoping import ScopeLookups

SHANGHAI = ZoneInfo("Asia/Shanghai")


def default_window(year: int):
    """1 January 00:00 to 30 April 23:59:59 of the next year, all Asia/Shanghai. Review closes with the window: the
    notice wants filings submitted *and approved* by the end of April (the admin may extend the review close)."""
    opens = datetime.datetime(year + 1, 1, 1, 0, 0, 0, tzinfo=SHANGHAI)
    closes = datetime.datetime(year + 1, 4, 30, 23, 59, 59, tzinfo=SHANGHAI)
    return opens, closes, closes


class ReportingYearQuerySet(models.QuerySet):
    def current(self, now=None):
        """The year whose filing window is open now; otherwise the latest year whose window has opened."""
        now = now or timezone.now()
        return (
            self.filter(opens_at__lte=now, closes_at__gte=now).order_by("-year").first()
            or self.filter(opens_at__lte=now).order_by("-year").first()
            or self.order_by("-year").first()
        )


class ReportingYear(models.Model):
    """统计年度: the year reported on, with its filing window and review close date (set by the admin)."""

    year = models.PositiveSmallIntegerField("统计年度", unique=True, validators=[MinValueValidator(2013)])
    opens_at = models.DateTimeField("填报开始")
    closes_at = models.DateTimeField("填报截止")
    review_closes_at = models.DateTimeField("审核截止")

    objects = ReportingYearQuerySet.as_manager()

    class Meta:
        verbose_name = "统计年度"
        verbose_name_plural = "统计年度"
        ordering = ["-year"]

    def __str__(self):
        return f"{self.year}年度"

    def save(self, *args, **kwargs):
        self.apply_defaults()
        super().save(*args, **kwargs)

    def apply_defaults(self):
        """Fill the dates left blank with the default window (default_window)."""
        if not self.year:
            return
        opens, closes, _ = default_window(self.year)
        self.opens_at = self.opens_at or opens
        self.closes_at = self.closes_at or closes
        # An admin who moves the window's close and leaves the review close blank gets the window's close.
        self.review_closes_at = self.review_closes_at or self.closes_at

    def clean(self):
        self.apply_defaults()
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": "填报截止时间必须晚于开始时间。"})
        if self.closes_at and self.review_closes_at and self.review_closes_at < self.closes_at:
            raise ValidationError({"review_closes_at": "审核截止时间不能早于填报截止时间。"})

    def window_is_open(self, at=None) -> bool:
        at = at or timezone.now()
        return self.opens_at <= at <= self.closes_at


class Extension(models.Model):
    """延期: a reviewer lets one institution file after the window, until a given time, for a recorded reason."""

    institution = models.ForeignKey("institutions.Institution", verbose_name="机构", on_delete=models.CASCADE)
    year = models.ForeignKey(ReportingYear, verbose_name="统计年度", on_delete=models.CASCADE)
    until = models.DateTimeField("延期至")
    reason = models.CharField("延期原因", max_length=500)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="批准人", on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField("批准时间", auto_now_add=True)

    scope_lookups = ScopeLookups(institution="institution", city="institution__city")

    class Meta:
        verbose_name = "延期"
        verbose_name_plural = "延期"
        ordering = ["-granted_at"]
        indexes = [models.Index(fields=["institution", "year", "-until"])]

    def __str__(self):
        return f"{self.institution} 延期至 {timezone.localtime(self.until):%Y-%m-%d %H:%M}"


class ExtensionRequest(models.Model):
    """延期申请: a filer asks, before its deadline, to file until a later date; the city officer may comment and the
    reviewing authority grants (writing an `Extension`, possibly to an earlier date) or refuses. The row is its own
    record: who asked, commented and decided, and when (filings.extensions)."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        GRANTED = "granted", "已批准"
        REFUSED = "refused", "已拒绝"
        WITHDRAWN = "withdrawn", "已撤回"

    filing = models.ForeignKey(
        "Filing", verbose_name="填报", on_delete=models.CASCADE, related_name="extension_requests"
    )
    requested_until = models.DateTimeField("申请延期至")
    reason = models.CharField("延期原因", max_length=500)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField("申请时间", default=timezone.now)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    officer_comment = models.CharField("市州局意见", max_length=500, blank=True)
    officer_comment_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="市州局意见人", on_delete=models.PROTECT, related_name="+", null=True,
        blank=True,
    )
    officer_comment_at = models.DateTimeField("市州局意见时间", null=True, blank=True)
    decision_comment = models.CharField("审核意见", max_length=500, blank=True)
    granted_until = models.DateTimeField("批准延期至", null=True, blank=True)
    extension = models.OneToOneField(
        Extension, verbose_name="延期", on_delete=models.SET_NULL, null=True, blank=True, related_name="request"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="处理人", on_delete=models.PROTECT, related_name="+", null=True,
        blank=True,
    )
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)

    scope_lookups = ScopeLookups(institution="filing__institution", city="filing__institution__city")

    class Meta:
        verbose_name = "延期申请"
        verbose_name_plural = "延期申请"
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["filing"], condition=models.Q(status="pending"), name="one_pending_extension_request",
                violation_error_message="本填报已有待审核的延期申请。",
            ),
            models.CheckConstraint(
                condition=(models.Q(granted_until__isnull=True)
                           | models.Q(granted_until__lte=models.F("requested_until"))),
                name="extension_granted_not_after_requested",
            ),
        ]

    def __str__(self):
        return f"{self.filing} 申请延期至 {timezone.localtime(self.requested_until):%Y-%m-%d %H:%M}"


class Filing(models.Model):
    """One legal entity's filing for one reporting year: statistics, annual report, social responsibility reports."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        SUBMITTED = "submitted", "已提交"
        IN_REVIEW = "in_review", "审核中"
        RETURNED = "returned", "已退回"
        APPROVED = "approved", "审核通过"

    institution = models.ForeignKey(
        "institutions.Institution", verbose_name="机构", on_delete=models.CASCADE, related_name="filings"
    )
    year = models.ForeignKey(ReportingYear, verbose_name="统计年度", on_delete=models.PROTECT, related_name="filings")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    # Bumped by every save and transition: a form posted with an older version is refused (optimistic locking).
    version = models.PositiveIntegerField("版本", default=1)
    correction_due = models.DateTimeField("更正截止", null=True, blank=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    # Set by every save of the statistics form: until the first save the form shows no check as an error.
    statistics_saved_at = models.DateTimeField("统计调查数据保存时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    scope_lookups = ScopeLookups(institution="institution", city="institution__city")

    class Meta:
        verbose_name = "年度填报"
        verbose_name_plural = "年度填报"
        ordering = ["-year__year", "institution__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "year"], name="one_filing_per_institution_year",
                violation_error_message="该机构本年度已有填报。",
            )
        ]
        indexes = [models.Index(fields=["year", "status"])]

    def __str__(self):
        return f"{self.institution} {self.year}"


def _count(label):
    return models.PositiveIntegerField(label, null=True, blank=True)


def _amount(label, places=2):
    return models.DecimalField(
        label, max_digits=14, decimal_places=places, null=True, blank=True, validators=[MinValueValidator(0)]
    )


class FilingStatistics(models.Model):
    """统计调查数据 (REFERENCE §2). Amounts in 万元, areas in m². Derived figures are properties, never stored."""

    filing = models.OneToOneField(Filing, verbose_name="填报", on_delete=models.CASCADE, related_name="statistics")

    staff_total = _count("从业人员（人）")
    staff_doctorate = _count("博士")
    staff_master = _count("硕士")
    staff_bachelor = _count("本科")
    staff_college_or_below = _count("大专及以下")
    staff_senior_title = _count("高级职称")
    staff_intermediate_title = _count("中级职称")
    staff_junior_title = _count("初级职称")
    staff_no_title = _count("无职称")

    instruments_total = _count("仪器设备（台套）")
    instruments_domestic = _count("国产仪器设备（台套）")
    instruments_imported = _count("进口仪器设备（台套）")
    instruments_over_500k = _count("单价50万元以上仪器设备（台套）")
    instrument_value_total = _amount("仪器设备原值（万元）")
    instrument_value_domestic = _amount("国产仪器设备原值（万元）")
    instrument_value_imported = _amount("进口仪器设备原值（万元）")
    lab_area = _amount("实验室面积（平方米）")
    total_assets = _amount("资产总额（万元）")

    revenue = _amount("营业收入（万元）")
    reports_total = _count("出具检验检测报告（份）")
    reports_enforcement = _count("行政执法类报告（份）")
    reports_commissioned = _count("社会委托类报告（份）")
    reports_judicial = _count("司法鉴定类报告（份）")
    reports_other = _count("其他报告（份）")
    patents_valid = _count("有效专利（项）")
    patents_invention = _count("其中发明专利（项）")
    research_projects = _count("科研项目（项）")
    standards_national = _count("参与制修订国家标准（项）")
    standards_national_lead = _count("其中牵头国家标准（项）")
    standards_industry = _count("参与制修订行业标准（项）")
    standards_industry_lead = _count("其中牵头行业标准（项）")

    # Finance of enterprises.
    enterprise_costs = _amount("营业成本（万元）")
    enterprise_profit = models.DecimalField("利润总额（万元）", max_digits=14, decimal_places=2, null=True, blank=True)
    enterprise_taxes = _amount("应交税费（万元）")
    enterprise_payroll = _amount("应付职工薪酬（万元）")
    # Finance of public institutions (事业单位) and others.
    public_income_total = _amount("本年收入合计（万元）")
    public_income_subsidy = _amount("其中财政补助收入（万元）")
    public_income_service = _amount("其中事业收入（万元）")
    public_income_business = _amount("其中经营收入（万元）")
    public_expenditure = _amount("本年支出合计（万元）")

    class Meta:
        verbose_name = "统计调查数据"
        verbose_name_plural = "统计调查数据"

    ABOVE_SCALE_REVENUE = 1000  # 万元, i.e. 10 million yuan
    SMALL_MICRO_STAFF = 100
    # The derived flags, one definition each: (property, label, source field, comparison, threshold). The properties
    # below apply them; the statistics form renders them for its live preview (static/js/statistics_form.js).
    DERIVED_FLAGS = [("is_above_scale", "规模以上", "revenue", ">=", ABOVE_SCALE_REVENUE),
                     ("is_small_micro", "小微型", "staff_total", "<", SMALL_MICRO_STAFF)]
    COMPARISONS = {">=": operator.ge, "<": operator.lt}

    def __str__(self):
        return f"统计调查数据（填报 {self.filing_id}）"

    def _derived(self, flag):
        _, _, source, comparison, threshold = next(rule for rule in self.DERIVED_FLAGS if rule[0] == flag)
        value = getattr(self, source)
        return value is not None and self.COMPARISONS[comparison](value, threshold)

    @property
    def is_above_scale(self):
        """规模以上: revenue of 10 million yuan or more."""
        return self._derived("is_above_scale")

    @property
    def is_small_micro(self):
        """小微型: fewer than 100 staff."""
        return self._derived("is_small_micro")


SECTION_LIMIT = 20000


class AnnualReport(models.Model):
    """检验检测机构年度报告 (notice attachment 1): four narrative sections, the fourth optional."""

    filing = models.OneToOneField(Filing, verbose_name="填报", on_delete=models.CASCADE, related_name="annual_report")
    compliance = models.TextField(
        "一、持续符合检验检测机构资质认定条件和要求的状况", blank=True, validators=[MaxLengthValidator(SECTION_LIMIT)]
    )
    conduct = models.TextField(
        "二、遵守检验检测机构从业规范的情况", blank=True, validators=[MaxLengthValidator(SECTION_LIMIT)]
    )
    activities = models.TextField(
        "三、开展检验检测活动的情况", blank=True, validators=[MaxLengthValidator(SECTION_LIMIT)]
    )
    achievements = models.TextField(
        "四、突出成绩、先进事迹和典型案例（选报）", blank=True, validators=[MaxLengthValidator(SECTION_LIMIT)]
    )

    class Meta:
        verbose_name = "年度报告"
        verbose_name_plural = "年度报告"

    def __str__(self):
        return f"年度报告（填报 {self.filing_id}）"


def sr_document_path(instance, filename):
    return f"sr-documents/{instance.filing.year.year}/{instance.filing_id}-{instance.centre_id}-{filename[-80:]}"


def sr_document_filename(path: str) -> str:
    """The attached document's file name as the filer chose it, from its storage path (sr_document_path)."""
    name = path.rsplit("/", 1)[-1]
    filing_id, _, rest = name.partition("-")
    centre_id, _, original = rest.partition("-")
    return original if filing_id.isdigit() and centre_id.isdigit() and original else name


class SocialResponsibilityReport(models.Model):
    """国家质检中心社会责任报告 (notice attachment 2), one per centre the institution leads, per year."""

    filing = models.ForeignKey(
        Filing, verbose_name="填报", on_delete=models.CASCADE, related_name="sr_reports"
    )
    centre = models.ForeignKey("institutions.NationalCentre", verbose_name="国家质检中心", on_delete=models.PROTECT)

    # 一、基本情况
    cma_certificate_number = models.CharField("所在法人单位资质认定证书号", max_length=12, blank=True)
    accreditation_number = models.CharField("所在法人单位认可证书号", max_length=30, blank=True)
    address = models.CharField("地址", max_length=300, blank=True)
    postal_code = models.CharField("邮编", max_length=6, blank=True)
    director_name = models.CharField("主任姓名", max_length=50, blank=True)
    director_mobile = models.CharField("主任手机", max_length=20, blank=True)
    deputies = models.JSONField("副主任", default=list, blank=True, help_text="最多三人：姓名、座机、手机")
    quality_manager_name = models.CharField("质量负责人姓名", max_length=50, blank=True)
    quality_manager_phone = models.CharField("质量负责人座机", max_length=20, blank=True)
    quality_manager_mobile = models.CharField("质量负责人手机", max_length=20, blank=True)
    fax = models.CharField("传真", max_length=20, blank=True)
    email = models.EmailField("电子邮箱", blank=True)
    staff_total = _count("中心现有员工（人）")
    staff_management = _count("管理人员（人）")
    staff_testing = _count("检验检测人员（人）")
    staff_auxiliary = _count("辅助人员（人）")
    fixed_assets = _amount("固定资产（万元）")
    instruments = _count("主要仪器设备（台套）")
    instruments_imported = _count("其中进口仪器设备（台套）")
    lab_area = _amount("实验室面积（平方米）")
    # 5. 年度工作基本情况（批次）
    samr_sampling_batches = _count("承担市场监管总局产品质量监督抽查任务（批次）")
    other_sampling_batches = _count("承担各级政府部门监督抽查任务（批次）")
    ccc_batches = _count("承担CCC检验检测任务（批次）")
    licence_batches = _count("承担生产许可证（登记证）检验检测任务（批次）")
    arbitration_batches = _count("承担仲裁、司法鉴定的检验检测任务（批次）")
    proficiency_batches = _count("参加能力验证或实验室间比对（批次）")
    proficiency_organised = _count("其中由本中心组织（批次）")
    proficiency_self_organised = _count("本中心自发组织能力验证（批次）")
    national_standards = _count("参与制修订国家标准（个）")
    national_standards_lead = _count("其中牵头（个）")
    industry_standards = _count("参与制修订行业标准（个）")
    industry_standards_lead = _count("其中牵头行业标准（个）")
    # 6. 建设情况
    new_staff = _count("新增工作人员（人）")
    new_instruments = _count("新增仪器设备（台套）")
    new_instrument_investment = _amount("新增仪器设备投入（万元）")
    lab_area_added = _amount("实验室面积扩大（平方米）")
    research_completed = _count("完成科研项目（项）")
    research_funding = _amount("科研经费投入（万元）")
    research_share = _amount("科研投入占业务收入（%）")
    commissioned_batches = _count("承担委托检验检测（批次）")
    commissioned_growth = models.DecimalField(
        "委托检验检测批次增长（%）", max_digits=8, decimal_places=2, null=True, blank=True
    )
    commissioned_income_share = _amount("委托检验检测收入占业务总收入（%）")
    income_growth = models.DecimalField("收入增长（%）", max_digits=8, decimal_places=2, null=True, blank=True)
    external_funding = _amount("获得外部资金投入（万元）")
    external_funding_state = _amount("其中国家财政投入（万元）")
    # 二、三
    contribution = models.TextField(
        "二、促进经济社会高质量发展的工作情况", blank=True, validators=[MaxLengthValidator(SECTION_LIMIT)]
    )
    responsibility = models.TextField(
        "三、年度社会责任报告", blank=True, validators=[MaxLengthValidator(SECTION_LIMIT)]
    )
    document = models.FileField("附件（PDF 或 DOCX）", upload_to=sr_document_path, blank=True)

    class Meta:
        verbose_name = "社会责任报告"
        verbose_name_plural = "社会责任报告"
        constraints = [models.UniqueConstraint(fields=["filing", "centre"], name="one_sr_report_per_centre")]

    def __str__(self):
        return f"{self.centre} {self.filing.year}"


class WarningExplanation(models.Model):
    """The filer's written explanation of a warning, required before submission."""

    filing = models.ForeignKey(Filing, verbose_name="填报", on_delete=models.CASCADE, related_name="explanations")
    code = models.CharField("校验代码", max_length=10)
    text = models.TextField("说明", max_length=2000)

    class Meta:
        verbose_name = "预警说明"
        verbose_name_plural = "预警说明"
        constraints = [models.UniqueConstraint(fields=["filing", "code"], name="one_explanation_per_code")]

    def __str__(self):
        return f"预警说明 {self.code}（填报 {self.filing_id}）"


class FilingTransition(models.Model):
    """One state change of a filing: who, when, from what, to what, and the comment."""

    filing = models.ForeignKey(Filing, verbose_name="填报", on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField("操作", max_length=30)
    from_status = models.CharField("原状态", max_length=10, choices=Filing.Status.choices)
    to_status = models.CharField("新状态", max_length=10, choices=Filing.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField("时间", default=timezone.now)
    comment = models.TextField("意见", blank=True)
    due = models.DateTimeField("更正截止", null=True, blank=True)

    scope_lookups = ScopeLookups(institution="filing__institution", city="filing__institution__city")

    class Meta:
        verbose_name = "状态变更记录"
        verbose_name_plural = "状态变更记录"
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.get_from_status_display()} → {self.get_to_status_display()}（填报 {self.filing_id}）"


class FilingSnapshot(models.Model):
    """An immutable copy of a filing as submitted; PDFs print from it, so a printed submission never changes."""

    filing = models.ForeignKey(Filing, verbose_name="填报", on_delete=models.CASCADE, related_name="snapshots")
    number = models.PositiveSmallIntegerField("提交序号")
    data = models.JSONField("内容")
    fingerprint = models.CharField("指纹（SHA-256）", max_length=64)
    created_at = models.DateTimeField("提交时间", default=timezone.now)

    class Meta:
        verbose_name = "提交快照"
        verbose_name_plural = "提交快照"
        ordering = ["filing", "-number"]
        constraints = [models.UniqueConstraint(fields=["filing", "number"], name="unique_snapshot_number")]

    def __str__(self):
        return f"提交快照 {self.number}（填报 {self.filing_id}）"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("提交快照不可修改。")
        self.fingerprint = self.fingerprint_of(self.data)
        super().save(*args, **kwargs)

    @staticmethod
    def fingerprint_of(data) -> str:
        canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def delete(self, *args, **kwargs):
        raise ValidationError("提交快照不可删除。")
