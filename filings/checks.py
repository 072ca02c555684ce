"""The checks a filing must pass. An error blocks submission; a warning needs a written explanation.

Each finding has a stable code, the field it concerns (to show the message beside it) and a Chinese message naming it.
"""
import datetime
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from institutions.selectors import filing_blockers

from . import peers
from .selectors import previous_approved_statistics, sr_reports_in_force

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Finding:
    code: str
    level: str
    field: str  # "statistics.revenue", "annual_report.compliance", "sr.<centre id>.director_name", "institution"
    message: str
    # The other fields of the same fault (a sum's total and its other parts), marked beside `field` on the form.
    related: tuple[str, ...] = ()

    @property
    def is_error(self):
        return self.level == ERROR

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.field, *self.related)


def _statistics_fields(*names) -> tuple[str, ...]:
    return tuple(f"statistics.{name}" for name in names)


def _label(model, field):
    return str(model._meta.get_field(field).verbose_name)


def _statistics_label(field):
    from .models import FilingStatistics

    return _label(FilingStatistics, field)


def _n(value):
    return value or 0


REQUIRED_STATISTICS = ["staff_total", "instruments_total", "lab_area", "total_assets", "revenue", "reports_total"]

# (code, whole, parts, message template)
SPLITS = [
    ("E102", "staff_total", ["staff_doctorate", "staff_master", "staff_bachelor", "staff_college_or_below"],
     "按学历分的从业人员之和（{parts}）应等于从业人员总数（{whole}）。"),
    ("E103", "staff_total", ["staff_senior_title", "staff_intermediate_title", "staff_junior_title", "staff_no_title"],
     "按职称分的从业人员之和（{parts}）应等于从业人员总数（{whole}）。"),
    ("E104", "instruments_total", ["instruments_domestic", "instruments_imported"],
     "国产与进口仪器设备之和（{parts}）应等于仪器设备总数（{whole}）。"),
    ("E106", "instrument_value_total", ["instrument_value_domestic", "instrument_value_imported"],
     "国产与进口仪器设备原值之和（{parts}）应等于仪器设备原值（{whole}）。"),
    ("E107", "reports_total", ["reports_enforcement", "reports_commissioned", "reports_judicial", "reports_other"],
     "各类报告之和（{parts}）应等于出具报告总数（{whole}）。"),
]

# (code, part, whole): a part may not exceed its whole.
PARTS = [
    ("E105", "instruments_over_500k", "instruments_total"),
    ("E108", "patents_invention", "patents_valid"),
    ("E109", "standards_national_lead", "standards_national"),
    ("E109", "standards_industry_lead", "standards_industry"),
    ("E111", "public_income_subsidy", "public_income_total"),
]
# A unit worth 500,000 yuan or more adds at least 50 万元 to the instruments' original value.
OVER_500K_VALUE = 50

# Year-on-year warnings against last year's approved filing: (code, field).
YEAR_ON_YEAR = [("W201", "staff_total"), ("W202", "revenue"), ("W203", "reports_total"), ("W204", "instruments_total")]
YEAR_ON_YEAR_LIMIT = Decimal("0.5")

ANNUAL_REPORT_REQUIRED = ["compliance", "conduct", "activities"]
SR_REQUIRED = ["cma_certificate_number", "address", "postal_code", "director_name", "director_mobile",
               "quality_manager_name", "staff_total", "fixed_assets", "instruments", "instruments_imported", "lab_area",
               "contribution", "responsibility"]
# Attachment 2, 5. 年度工作基本情况: every count is reported, zero included (E150).
SR_WORK_COUNTS = ["samr_sampling_batches", "other_sampling_batches", "ccc_batches", "licence_batches",
                  "arbitration_batches", "proficiency_batches", "proficiency_organised", "proficiency_self_organised",
                  "national_standards", "national_standards_lead", "industry_standards", "industry_standards_lead"]
# A centre is part of its legal entity: (centre field, entity statistics field) (E144).
SR_WITHIN_ENTITY = [("staff_total", "staff_total"), ("instruments", "instruments_total"), ("lab_area", "lab_area"),
                    ("fixed_assets", "total_assets")]
# What the centre added during the year is part of what it has at the year's end (E145).
SR_ADDED_WITHIN_STOCK = [("new_staff", "staff_total"), ("new_instruments", "instruments"),
                         ("lab_area_added", "lab_area")]
SR_SHARES = ["research_share", "commissioned_income_share"]  # 0–100 % (E146)
SR_GROWTHS = ["commissioned_growth", "income_growth"]  # a fall cannot exceed 100 % (E146)

MOBILE = re.compile(r"(?:\+?86-?)?1[3-9]\d{9}")
LANDLINE = re.compile(r"(?:\(0\d{2,3}\)|0\d{2,3}-?)\d{7,8}(?:-\d{1,6})?")
POSTAL_CODE = re.compile(r"[0-8]\d{5}")


def check_statistics(stats, previous=None) -> list[Finding]:
    from .models import FilingStatistics as M

    findings = []
    for field in REQUIRED_STATISTICS:
        if getattr(stats, field) is None:
            findings.append(Finding("E101", ERROR, f"statistics.{field}", f"请填写“{_label(M, field)}”。"))
    for code, whole, parts, template in SPLITS:
        total = getattr(stats, whole)
        values = [getattr(stats, part) for part in parts]
        if total is None:
            continue  # E101 names the missing total
        if all(value is None for value in values):
            # A split left entirely blank is no split at all (a statistician reads it as missing, not as zero).
            if total > 0:
                names = "、".join(_label(M, part) for part in parts)
                findings.append(Finding(code, ERROR, f"statistics.{parts[0]}",
                                        f"“{_label(M, whole)}”为 {total}，请填写其分项（{names}），合计应等于总数。",
                                        _statistics_fields(whole, *parts[1:])))
            continue
        if sum(_n(value) for value in values) != total:
            message = template.format(parts=sum(_n(v) for v in values), whole=total)
            findings.append(Finding(code, ERROR, f"statistics.{parts[0]}", f"“{_label(M, whole)}”：{message}",
                                    _statistics_fields(whole, *parts[1:])))
    for code, part, whole in PARTS:
        if whole in REQUIRED_STATISTICS and getattr(stats, whole) is None:
            continue  # one fault, one message: E101 already asks for the whole
        if getattr(stats, part) is not None and _n(getattr(stats, part)) > _n(getattr(stats, whole)):
            findings.append(Finding(
                code, ERROR, f"statistics.{part}",
                f"“{_label(M, part)}”（{getattr(stats, part)}）"
                f"不能大于“{_label(M, whole)}”（{_n(getattr(stats, whole))}）。",
                _statistics_fields(whole),
            ))
    public_parts = ["public_income_subsidy", "public_income_service", "public_income_business"]
    subsidy_too_large = any(f.code == "E111" for f in findings)
    if (stats.public_income_total is not None and not subsidy_too_large
            and sum(_n(getattr(stats, p)) for p in public_parts) > stats.public_income_total):
        # Skipped when E111 fired: a subsidy larger than the total is one fault, reported once.
        findings.append(Finding("E112", ERROR, "statistics.public_income_service",
                                "财政补助、事业、经营收入之和不能大于“本年收入合计”。",
                                _statistics_fields("public_income_total", "public_income_subsidy",
                                                   "public_income_business")))
    over_500k, value_total = stats.instruments_over_500k, stats.instrument_value_total
    if over_500k and value_total is not None and over_500k * OVER_500K_VALUE > value_total:
        findings.append(Finding(
            "E113", ERROR, "statistics.instruments_over_500k",
            f"“{_label(M, 'instruments_over_500k')}”为 {over_500k} 台套，"
            f"其原值至少 {over_500k * OVER_500K_VALUE} 万元，"
            f"大于“{_label(M, 'instrument_value_total')}”（{value_total}），请核对。",
            _statistics_fields("instrument_value_total"),
        ))

    revenue, reports = stats.revenue, stats.reports_total
    if revenue and revenue > 0 and reports == 0:
        findings.append(Finding("W210", WARNING, "statistics.reports_total",
                                "“营业收入”大于零但“出具检验检测报告”为零，请说明原因。"))
    if reports and reports > 0 and revenue == 0:
        findings.append(Finding("W211", WARNING, "statistics.revenue",
                                "出具了检验检测报告但“营业收入”为零，请说明原因。"))
    if previous is not None:
        for code, field in YEAR_ON_YEAR:
            now, before = getattr(stats, field), getattr(previous, field)
            if now is None or not before:
                continue
            change = (Decimal(now) - Decimal(before)) / Decimal(before)
            if abs(change) > YEAR_ON_YEAR_LIMIT:
                findings.append(Finding(
                    code, WARNING, f"statistics.{field}",
                    f"“{_label(M, field)}”较上年（{before}）变化 {change:+.0%}，超过 50%，请说明原因。",
                ))
    return findings


def check_annual_report(report) -> list[Finding]:
    from .models import AnnualReport as M

    return [
        Finding("E120", ERROR, f"annual_report.{field}", f"请填写年度报告“{_label(M, field)}”。")
        for field in ANNUAL_REPORT_REQUIRED
        if not (getattr(report, field) or "").strip()
    ]


def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def _phone(value):
    """A phone number as people write it, with spaces and full-width hyphens removed."""
    return re.sub(r"\s", "", value).replace("－", "-").replace("—", "-")


def _sr_phones(report):
    """(field for the message, label, value, kind) of every phone number in the report."""
    from .models import SocialResponsibilityReport as M

    phones = [("director_mobile", _label(M, "director_mobile"), report.director_mobile, MOBILE),
              ("quality_manager_phone", _label(M, "quality_manager_phone"), report.quality_manager_phone, LANDLINE),
              ("quality_manager_mobile", _label(M, "quality_manager_mobile"), report.quality_manager_mobile, MOBILE),
              ("fax", _label(M, "fax"), report.fax, LANDLINE)]
    for index, deputy in enumerate(report.deputies or [], start=1):
        if isinstance(deputy, dict):
            phones.append((f"deputy{index}_phone", f"副主任{index}座机", deputy.get("phone") or "", LANDLINE))
            phones.append((f"deputy{index}_mobile", f"副主任{index}手机", deputy.get("mobile") or "", MOBILE))
    return phones


def check_sr_report(report, *, stats=None, certificate_numbers=None, year=None) -> list[Finding]:
    """One centre's report; `stats` (the entity's statistics) and `certificate_numbers` (its certificates valid in
    the year) enable the checks against the legal entity."""
    from .models import FilingStatistics, SocialResponsibilityReport as M

    centre = report.centre.name
    findings = []

    def add(code, field, message):
        findings.append(Finding(code, ERROR, f"sr.{report.centre_id}.{field}", f"{centre}：{message}"))

    for field in SR_REQUIRED:
        if _blank(getattr(report, field)):
            add("E140", field, f"请填写“{_label(M, field)}”。")
    for field in SR_WORK_COUNTS:
        if getattr(report, field) is None:
            add("E150", field, f"请填写年度工作量“{_label(M, field)}”（没有请填 0）。")

    staff_parts = ["staff_management", "staff_testing", "staff_auxiliary"]
    if report.staff_total is not None:
        total_parts = sum(_n(getattr(report, p)) for p in staff_parts)
        if total_parts != report.staff_total:
            # 附件2：“现有员工 N 人，其中管理人员、检验检测人员、辅助人员（适用时）”是对员工的划分，三者之和等于总数。
            add("E141", "staff_management",
                f"管理人员、检验检测人员、辅助人员之和（{total_parts}）应等于“{_label(M, 'staff_total')}”"
                f"（{report.staff_total}）；没有辅助人员请填 0。")
    required = set(SR_REQUIRED) | set(SR_WORK_COUNTS)
    for part, whole in [("instruments_imported", "instruments"), ("proficiency_organised", "proficiency_batches"),
                        ("national_standards_lead", "national_standards"),
                        ("industry_standards_lead", "industry_standards"),
                        ("external_funding_state", "external_funding")]:
        if whole in required and getattr(report, whole) is None:
            continue  # E140 / E150 already ask for the whole
        if getattr(report, part) is not None and _n(getattr(report, part)) > _n(getattr(report, whole)):
            add("E142", part, f"“{_label(M, part)}”不能大于“{_label(M, whole)}”。")
    for added, stock in SR_ADDED_WITHIN_STOCK:
        value, whole = getattr(report, added), getattr(report, stock)
        if value is not None and whole is not None and value > whole:
            add("E145", added, f"“{_label(M, added)}”（{value}）不能大于年末的“{_label(M, stock)}”（{whole}）。")
    for field in SR_SHARES:
        value = getattr(report, field)
        if value is not None and not 0 <= value <= 100:
            add("E146", field, f"“{_label(M, field)}”（{value}）应在 0 到 100 之间。")
    for field in SR_GROWTHS:
        value = getattr(report, field)
        if value is not None and value < -100:
            add("E146", field, f"“{_label(M, field)}”（{value}）不能低于 -100（下降不会超过 100%）。")
    if stats is not None:
        for field, entity_field in SR_WITHIN_ENTITY:
            value, whole = getattr(report, field), getattr(stats, entity_field)
            if value is not None and whole is not None and value > whole:
                add("E144", field, f"“{_label(M, field)}”（{value}）不能大于所在法人单位的"
                                   f"“{_label(FilingStatistics, entity_field)}”（{whole}）。")
    number = (report.cma_certificate_number or "").strip()
    if number and certificate_numbers is not None and number not in certificate_numbers:
        period = f"{year}年度内" if year else ""
        add("E147", "cma_certificate_number",
            f"“{_label(M, 'cma_certificate_number')}”（{number}）不是所在法人单位{period}有效的资质认定证书，"
            f"请按“本单位信息”中的证书号填写。")
    for field, label, value, pattern in _sr_phones(report):
        value = _phone(value or "")
        if value and not pattern.fullmatch(value):
            kind = "11 位手机号，如 13812345678" if pattern is MOBILE else "区号加座机号，如 0731-88888888"
            add("E148", field, f"“{label}”（{value}）格式不正确，应为{kind}。")
    postal_code = (report.postal_code or "").strip()
    if postal_code and not POSTAL_CODE.fullmatch(postal_code):
        add("E149", "postal_code", f"“{_label(M, 'postal_code')}”（{postal_code}）应为 6 位数字。")
    return findings


def check_sr_presence(centre) -> Finding:
    """A centre the entity leads whose report was never started (E143)."""
    return Finding("E143", ERROR, f"sr.{centre.pk}",
                   f"本单位牵头的国家质检中心“{centre.name}”尚未填写社会责任报告，请在“社会责任报告：{centre.name}”页填写。")


def check_institution(institution, year: int) -> list[Finding]:
    # The registry owns the rule "a site and a qualification held during the year" (E130, E131).
    blockers = filing_blockers(institution, datetime.date(year, 1, 1), datetime.date(year, 12, 31))
    findings = [Finding(code, ERROR, "institution", message) for code, message in blockers]
    if institution.established_year and institution.established_year > year:
        findings.append(Finding("E132", ERROR, "institution",
                                f"机构成立年份（{institution.established_year}）晚于统计年度（{year}），请核对。"))
    return findings


def check_peers(filing, comparisons=None) -> list[Finding]:
    """Warnings W221–W224: a ratio far from the median of the filing's peers (filings.peers holds the rule).
    `comparisons`: the filing's, when the caller computed many filings' at once (peers.peer_comparisons)."""
    findings = []
    if comparisons is None:
        comparisons = peers.compare([peers.target_of(filing)]).get(filing.pk, [])
    for item in peers.strongest_by_ratio([c for c in comparisons if c.is_outlier]):
        ratio, unit = item.ratio, item.ratio.unit
        value, median = peers.format_value(item.value), peers.format_value(item.median)
        quotient = f"{_statistics_label(ratio.numerator)}÷{_statistics_label(ratio.denominator)}"
        findings.append(Finding(
            ratio.code, WARNING, f"statistics.{ratio.numerator}",
            f"“{ratio.label}”（{quotient}）为 {value} {unit}，"
            f"同领域同规模机构中位数为 {median} {unit}"
            f"（{item.group}，{item.peers} 家），明显偏离同行，请核对；数字无误的，请说明原因。",
            _statistics_fields(ratio.denominator),
        ))
    return findings


def run_checks(filing, *, peer_comparisons=None) -> list[Finding]:
    """Every finding for a filing, errors first. The social responsibility reports checked are those in force (the
    register's centres while the filing may change, the submitted ones after). `peer_comparisons`: see
    check_peers."""
    year = filing.year.year
    findings = check_institution(filing.institution, year)
    findings += check_statistics(filing.statistics, previous_approved_statistics(filing))
    findings += check_peers(filing, peer_comparisons)
    findings += check_annual_report(filing.annual_report)
    parts = sr_reports_in_force(filing)
    if parts:
        certificates = set(
            filing.institution.cma_certificates.filter(
                issue_date__lte=datetime.date(year, 12, 31), expiry_date__gte=datetime.date(year, 1, 1)
            ).values_list("number", flat=True)
        )
    for centre, report in parts:
        if report is None:
            findings.append(check_sr_presence(centre))
        else:
            findings += check_sr_report(report, stats=filing.statistics, certificate_numbers=certificates, year=year)
    return sorted(findings, key=lambda f: (not f.is_error, f.code))


class CheckCode(NamedTuple):
    """A check's meaning and what the filer does about it (shown on 系统帮助 → 校验规则)."""

    message: str
    advice: str


# Every code with its meaning and what to do, for the help page and the tests. A new check adds its code here.
CHECK_CODES = {
    "E101": CheckCode("必填指标未填写", "在“统计调查数据”页填写提示的指标；没有的填 0。"),
    "E102": CheckCode("学历分项之和不等于从业人员（含分项均未填写）",
                      "按学历（博士、硕士、本科、大专及以下）逐项填写，使其之和等于从业人员总数；某项没有填 0。"),
    "E103": CheckCode("职称分项之和不等于从业人员（含分项均未填写）",
                      "按职称（高级、中级、初级、无职称）逐项填写，使其之和等于从业人员总数；某项没有填 0。"),
    "E104": CheckCode("国产与进口仪器之和不等于总数", "核对国产、进口仪器设备台套数，使两者之和等于仪器设备总数。"),
    "E105": CheckCode("50万元以上仪器大于仪器总数", "50 万元以上仪器设备是仪器设备总数的一部分，核对两项台套数。"),
    "E106": CheckCode("仪器原值分项之和不等于总值", "核对国产、进口仪器设备原值（万元），使两者之和等于仪器设备原值。"),
    "E107": CheckCode("各类报告之和不等于报告总数",
                      "按执法、委托、司法、其他分别填写报告份数，使其之和等于出具报告总数。"),
    "E108": CheckCode("发明专利大于有效专利", "发明专利是有效专利的一部分，核对两项数量。"),
    "E109": CheckCode("牵头标准大于参与标准", "牵头制修订的标准也计入参与制修订的标准，核对国家标准、行业标准各两项。"),
    "E111": CheckCode("财政补助收入大于收入合计", "财政补助收入是收入合计的一部分，核对两项金额（万元）。"),
    "E112": CheckCode("收入分项之和大于收入合计（财政补助本身超出时只报 E111）",
                      "核对各项收入，使其之和不超过收入合计（万元）。"),
    "E113": CheckCode("50万元以上仪器台套数×50万元大于仪器原值",
                      "每台套 50 万元以上仪器至少计 50 万元原值：核对 50 万元以上仪器台套数和仪器设备原值（万元）。"),
    "E120": CheckCode("年度报告必填部分未填写", "在“年度报告”页填写前三部分；第四部分（突出成绩、典型案例）为选报。"),
    "E130": CheckCode("无检验检测场所", "在“本单位信息 → 编辑场所”中登记至少一个检验检测场所。"),
    "E131": CheckCode("无有效资质",
                      "在“本单位信息 → 编辑证书”登记年度内有效的资质认定证书，或在“编辑其他资质”登记其他资质。"),
    "E132": CheckCode("成立年份晚于统计年度", "在“本单位信息 → 编辑基本信息”中更正成立年份。"),
    "E140": CheckCode("社会责任报告必填项未填写", "在该国家质检中心的“社会责任报告”页填写提示的项目。"),
    "E141": CheckCode("中心管理、检验检测、辅助人员之和不等于员工总数",
                      "核对中心管理人员、检验检测人员、辅助人员，使三者之和等于中心现有员工数。"),
    "E142": CheckCode("社会责任报告部分大于整体",
                      "“其中”一项不能大于它所属的总数（如牵头的不多于参与的），核对提示的两项。"),
    "E143": CheckCode("牵头的国家质检中心缺少社会责任报告",
                      ("打开提示的国家质检中心的“社会责任报告”页填写并保存；"
                       "该中心不再由本单位牵头的，请联系所在市州局更正名录。")),
    "E144": CheckCode("中心人员、仪器、面积或资产大于所在法人单位",
                      "国家质检中心是所在法人单位的一部分：核对中心的数字，或“统计调查数据”中本单位的相应数字。"),
    "E145": CheckCode("新增人员、仪器或面积大于年末总量", "本年新增的数量包含在年末总量中，核对两项数字。"),
    "E146": CheckCode("百分比超出范围（占比超过100%或下降超过100%）",
                      "占比填 0～100 之间的数；增长率下降时填负数，但不低于 -100。"),
    "E147": CheckCode("资质认定证书号不是本单位有效证书",
                      "填写本单位年度内有效的资质认定证书编号；证书未登记的，先在“本单位信息 → 编辑证书”中登记。"),
    "E148": CheckCode("电话号码格式不正确", "座机写作“区号-号码”（如 0731-88888888），手机为 11 位数字，传真同座机。"),
    "E149": CheckCode("邮政编码格式不正确", "填写 6 位数字的邮政编码。"),
    "E150": CheckCode("国家质检中心年度工作量未填写", "逐项填写中心本年度的各项工作量；没有的填 0，不要留空。"),
    "W201": CheckCode("从业人员较上年变化超过50%",
                      "核对从业人员总数；数字无误的，在“校验与提交”页写明变化原因（如合并、分立、统计口径变化）。"),
    "W202": CheckCode("营业收入较上年变化超过50%",
                      "核对营业收入（万元，注意单位）；数字无误的，在“校验与提交”页写明变化原因。"),
    "W203": CheckCode("报告数量较上年变化超过50%", "核对出具报告总数；数字无误的，在“校验与提交”页写明变化原因。"),
    "W204": CheckCode("仪器设备较上年变化超过50%", "核对仪器设备总数；数字无误的，在“校验与提交”页写明变化原因。"),
    **{
        ratio.code: CheckCode(
            f"{ratio.label}偏离同行（同领域同规模机构中位数）",
            f"核对“{_statistics_label(ratio.numerator)}”和“{_statistics_label(ratio.denominator)}”（注意单位）；"
            "数字无误的，在“校验与提交”页说明原因（如业务特点）。判定规则见本页“同行比较”。",
        )
        for ratio in peers.RATIOS
    },
    "W210": CheckCode("有收入无报告", "有营业收入却未出具报告：核对报告数量；确实如此的，在“校验与提交”页说明原因。"),
    "W211": CheckCode("有报告无收入",
                      "出具了报告却没有营业收入：核对收入；确实如此的（如全部为财政拨款），在“校验与提交”页说明原因。"),
}
