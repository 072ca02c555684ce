"""The checks a filing must pass. An error blocks submission; a warning needs a written explanation.

Each finding has a stable code, the field it concerns (to show the message beside it) and a Chinese message naming it.
"""
import datetime
from dataclasses import dataclass
from decimal import Decimal

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Finding:
    code: str
    level: str
    field: str  # "statistics.revenue", "annual_report.compliance", "sr.<centre id>.director_name", "institution"
    message: str

    @property
    def is_error(self):
        return self.level == ERROR


def _label(model, field):
    return str(model._meta.get_field(field).verbose_name)


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

# Year-on-year warnings against last year's approved filing: (code, field).
YEAR_ON_YEAR = [("W201", "staff_total"), ("W202", "revenue"), ("W203", "reports_total"), ("W204", "instruments_total")]
YEAR_ON_YEAR_LIMIT = Decimal("0.5")

ANNUAL_REPORT_REQUIRED = ["compliance", "conduct", "activities"]
SR_REQUIRED = ["director_name", "director_mobile", "quality_manager_name", "staff_total", "contribution", "responsibility"]


def check_statistics(stats, previous=None) -> list[Finding]:
    from .models import FilingStatistics as M

    findings = []
    for field in REQUIRED_STATISTICS:
        if getattr(stats, field) is None:
            findings.append(Finding("E101", ERROR, f"statistics.{field}", f"请填写“{_label(M, field)}”。"))
    for code, whole, parts, template in SPLITS:
        total = getattr(stats, whole)
        values = [getattr(stats, part) for part in parts]
        if total is None or all(value is None for value in values):
            continue
        if sum(_n(value) for value in values) != total:
            message = template.format(parts=sum(_n(v) for v in values), whole=total)
            findings.append(Finding(code, ERROR, f"statistics.{parts[0]}", f"“{_label(M, whole)}”：{message}"))
    for code, part, whole in PARTS:
        if getattr(stats, part) is not None and _n(getattr(stats, part)) > _n(getattr(stats, whole)):
            findings.append(Finding(
                code, ERROR, f"statistics.{part}",
                f"“{_label(M, part)}”（{getattr(stats, part)}）不能大于“{_label(M, whole)}”（{_n(getattr(stats, whole))}）。",
            ))
    public_parts = ["public_income_subsidy", "public_income_service", "public_income_business"]
    if stats.public_income_total is not None and sum(_n(getattr(stats, p)) for p in public_parts) > stats.public_income_total:
        findings.append(Finding("E112", ERROR, "statistics.public_income_service",
                                "财政补助、事业、经营收入之和不能大于“本年收入合计”。"))

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


def check_sr_report(report) -> list[Finding]:
    from .models import SocialResponsibilityReport as M

    findings = []
    for field in SR_REQUIRED:
        value = getattr(report, field)
        if value is None or (isinstance(value, str) and not value.strip()):
            findings.append(Finding("E140", ERROR, f"sr.{report.centre_id}.{field}",
                                    f"{report.centre.name}：请填写“{_label(M, field)}”。"))
    staff_parts = [report.staff_management, report.staff_testing, report.staff_auxiliary]
    if report.staff_total is not None and sum(_n(p) for p in staff_parts) > report.staff_total:
        findings.append(Finding("E141", ERROR, f"sr.{report.centre_id}.staff_management",
                                f"{report.centre.name}：管理、检验检测、辅助人员之和不能大于中心员工总数。"))
    for code, part, whole in [
        ("E142", "instruments_imported", "instruments"),
        ("E142", "proficiency_organised", "proficiency_batches"),
        ("E142", "national_standards_lead", "national_standards"),
        ("E142", "industry_standards_lead", "industry_standards"),
        ("E142", "external_funding_state", "external_funding"),
    ]:
        if getattr(report, part) is not None and _n(getattr(report, part)) > _n(getattr(report, whole)):
            findings.append(Finding(code, ERROR, f"sr.{report.centre_id}.{part}",
                                    f"{report.centre.name}：“{_label(M, part)}”不能大于“{_label(M, whole)}”。"))
    return findings


def check_institution(institution, year: int) -> list[Finding]:
    from institutions.selectors import filing_blockers

    # The registry owns the rule "a site and a qualification held during the year" (E130, E131).
    blockers = filing_blockers(institution, datetime.date(year, 1, 1), datetime.date(year, 12, 31))
    findings = [Finding(code, ERROR, "institution", message) for code, message in blockers]
    if institution.established_year and institution.established_year > year:
        findings.append(Finding("E132", ERROR, "institution",
                                f"机构成立年份（{institution.established_year}）晚于统计年度（{year}），请核对。"))
    return findings


def run_checks(filing) -> list[Finding]:
    """Every finding for a filing, errors first."""
    from .selectors import previous_approved_statistics

    findings = check_institution(filing.institution, filing.year.year)
    findings += check_statistics(filing.statistics, previous_approved_statistics(filing))
    findings += check_annual_report(filing.annual_report)
    for report in filing.sr_reports.select_related("centre"):
        findings += check_sr_report(report)
    return sorted(findings, key=lambda f: (not f.is_error, f.code))


# Every code with its meaning, for the help page and the tests.
CHECK_CODES = {
    "E101": "必填指标未填写", "E102": "学历分项之和不等于从业人员", "E103": "职称分项之和不等于从业人员",
    "E104": "国产与进口仪器之和不等于总数", "E105": "50万元以上仪器大于仪器总数", "E106": "仪器原值分项之和不等于总值",
    "E107": "各类报告之和不等于报告总数", "E108": "发明专利大于有效专利", "E109": "牵头标准大于参与标准",
    "E111": "财政补助收入大于收入合计", "E112": "收入分项之和大于收入合计", "E120": "年度报告必填部分未填写",
    "E130": "无检验检测场所", "E131": "无有效资质", "E132": "成立年份晚于统计年度", "E140": "社会责任报告必填项未填写",
    "E141": "中心人员分项大于总数", "E142": "社会责任报告部分大于整体",
    "W201": "从业人员较上年变化超过50%", "W202": "营业收入较上年变化超过50%", "W203": "报告数量较上年变化超过50%",
    "W204": "仪器设备较上年变化超过50%", "W210": "有收入无报告", "W211": "有报告无收入",
}
