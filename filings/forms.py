import re
from dataclasses import dataclass, field as dataclass_field

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from config.uploads import FileRefused, UnsafeArchive, ZipLimits, open_zip
from config.widgets import DateTimeInput, FileInput

from .checks import SPLITS
from .models import AnnualReport, FilingStatistics, SocialResponsibilityReport

DOCUMENT_LIMIT = 20 * 1024 * 1024


class VersionedForm(forms.ModelForm):
    """Carries the filing's version from page load to save, so a stale form is refused (optimistic locking)."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, findings=(), editable=True, review_comments=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        for field in self.fields.values():
            if isinstance(field.widget, forms.NumberInput):
                field.widget.attrs.setdefault("min", 0)
            if not editable:
                field.disabled = True
        self.mark_findings(findings)
        self.mark_review_comments(review_comments or {})

    def mark_review_comments(self, comments):
        """Show the reviewer's comments on a returned filing under their fields ({field name: [texts]}). Crispy
        renders help text unescaped, so the whole help text is escaped here and the comment wrapped in markup."""
        for name, texts in comments.items():
            if name not in self.fields:
                continue
            field = self.fields[name]
            field.widget.attrs["class"] = f"{field.widget.attrs.get('class', '')} border-danger".strip()
            notes = format_html_join(
                "", '<span class="d-block text-danger fw-semibold review-comment">审核意见：{}</span>',
                ((text,) for text in texts),
            )
            field.help_text = format_html("{}{}", field.help_text or "", notes)

    def mark_findings(self, findings):
        """Show each check's message under its field (red for errors, amber for warnings)."""
        for finding in findings:
            name = finding.field.rsplit(".", 1)[-1]
            if name in self.fields:
                field = self.fields[name]
                css = "is-invalid" if finding.is_error else "border-warning"
                field.widget.attrs["class"] = f"{field.widget.attrs.get('class', '')} {css}".strip()
                note = f"【{finding.code}】{finding.message}"
                field.help_text = f"{field.help_text} {note}".strip() if field.help_text else note


ENTERPRISE_FINANCE = ["enterprise_costs", "enterprise_profit", "enterprise_taxes", "enterprise_payroll"]
PUBLIC_FINANCE = ["public_income_total", "public_income_subsidy", "public_income_service", "public_income_business",
                  "public_expenditure"]
# The indicator sections of REFERENCE §2, each as rows of inputs (a total, then the parts that add up to it).
# 基本情况 holds no input: it confirms the register and shows the derived flags.
STATISTICS_SECTIONS = [
    ("basic", "基本情况", []),
    ("staff", "人员", [["staff_total"],
                       ["staff_doctorate", "staff_master", "staff_bachelor", "staff_college_or_below"],
                       ["staff_senior_title", "staff_intermediate_title", "staff_junior_title", "staff_no_title"]]),
    ("instruments", "仪器设备", [["instruments_total", "instruments_domestic", "instruments_imported",
                                  "instruments_over_500k"],
                                 ["instrument_value_total", "instrument_value_domestic", "instrument_value_imported"]]),
    ("premises", "场地与资产", [["lab_area", "total_assets"]]),
    ("business", "业务量", [["revenue"],
                            ["reports_total", "reports_enforcement", "reports_commissioned", "reports_judicial",
                             "reports_other"]]),
    ("research", "科研与标准", [["patents_valid", "patents_invention", "research_projects"],
                                ["standards_national", "standards_national_lead", "standards_industry",
                                 "standards_industry_lead"]]),
    ("finance", "财务", {"enterprise": [ENTERPRISE_FINANCE], "public": [PUBLIC_FINANCE]}),
]
# Slow-changing indicators: last year's approved value can be copied with one click.
COPY_FROM_LAST_YEAR = {"instruments_total", "instruments_domestic", "instruments_imported", "instruments_over_500k",
                       "instrument_value_total", "instrument_value_domestic", "instrument_value_imported", "lab_area"}
UNIT_IN_LABEL = re.compile(r"(?P<label>.+)（(?P<unit>[^（）]+)）")
STAFF_UNIT = "人"  # the staff splits' labels (博士, 高级职称 …) name no unit
COMPARISON_SIGNS = {">=": "≥", "<": "＜"}


@dataclass
class Indicator:
    """One input of the statistics form as the page shows it."""

    field: forms.BoundField
    label: str
    unit: str
    previous: object = None
    copyable: bool = False
    findings: list = dataclass_field(default_factory=list)  # the faults whose message sits here
    shared: list = dataclass_field(default_factory=list)  # faults of a sum or comparison this field is part of

    @property
    def has_error(self):
        return bool(self.field.errors) or any(f.is_error for f in self.findings + self.shared)

    @property
    def messages(self):
        """(finding, anchor) of the faults whose full message sits under this input."""
        return [(finding, finding_anchor(finding)) for finding in self.findings]

    @property
    def notes(self):
        """(finding, anchor, label of the input carrying the message) of the faults this input shares."""
        return [(finding, finding_anchor(finding), Indicator.split_label(finding.field.rsplit(".", 1)[-1])[0])
                for finding in self.shared]

    @staticmethod
    def split_label(name) -> tuple[str, str]:
        """“从业人员（人）” → (“从业人员”, “人”): the unit becomes the input's suffix."""
        verbose = str(FilingStatistics._meta.get_field(name).verbose_name)
        match = UNIT_IN_LABEL.fullmatch(verbose)
        return (match["label"], match["unit"]) if match else (verbose, STAFF_UNIT)


@dataclass
class DerivedFlag:
    """A flag computed from one figure (FilingStatistics.DERIVED_FLAGS), previewed live as the clerk types."""

    name: str
    label: str
    source: str
    comparison: str
    threshold: object
    value: bool

    @property
    def rule(self):
        label, unit = Indicator.split_label(self.source)
        return f"{label}{COMPARISON_SIGNS[self.comparison]}{self.threshold}{unit}"


@dataclass
class Row:
    indicators: list
    split: tuple | None = None  # (code, whole, parts, message) of checks.SPLITS whose parts are on this row
    derived: list = dataclass_field(default_factory=list)  # DerivedFlag of a figure on this row

    @property
    def whole_label(self):
        return Indicator.split_label(self.split[1])[0] if self.split else ""


@dataclass
class Section:
    key: str
    title: str
    rows: list
    errors: int = 0
    warnings: int = 0


def finding_anchor(finding) -> str:
    return f"{finding.code}-{finding.field.rsplit('.', 1)[-1]}"


class StatisticsForm(VersionedForm):
    """统计调查数据 in the sections of REFERENCE §2, several inputs a row, units as suffixes, last year's approved
    value beside each input. Checks are shown only once the form was saved (the view passes no findings before)."""

    class Meta:
        model = FilingStatistics
        exclude = ["filing"]  # noqa: DJ006 -- on purpose: an indicator added to the model appears on the form

    def __init__(self, *args, nature="enterprise", previous=None, **kwargs):
        self.previous = previous
        self.editable = kwargs.get("editable", True)
        self.nature = "enterprise" if nature == "enterprise" else "public"
        super().__init__(*args, **kwargs)
        finance = ENTERPRISE_FINANCE if self.nature == "enterprise" else PUBLIC_FINANCE
        for name in set(ENTERPRISE_FINANCE + PUBLIC_FINANCE) - set(finance):
            del self.fields[name]
        for field in self.fields.values():
            field.widget.attrs["class"] = f"{field.widget.attrs.get('class', '')} form-control".strip()

    def mark_findings(self, findings):
        self.findings = [f for f in findings if f.field.startswith("statistics.")]

    def _rows(self, section_rows):
        rows = section_rows[self.nature] if isinstance(section_rows, dict) else section_rows
        return [[name for name in row if name in self.fields] for row in rows]

    def _indicator(self, name):
        label, unit = Indicator.split_label(name)
        previous = getattr(self.previous, name) if self.previous is not None else None
        indicator = Indicator(self[name], label, unit, previous, self.editable and name in COPY_FROM_LAST_YEAR
                              and previous is not None)
        for finding in self.findings:
            names = [f.rsplit(".", 1)[-1] for f in finding.fields]
            if names[0] == name:
                indicator.findings.append(finding)
            elif name in names:
                indicator.shared.append(finding)
        return indicator

    def _describe(self, indicator):
        """The input's class and aria-describedby: its messages, the unit and last year's value."""
        attrs, auto_id = indicator.field.field.widget.attrs, indicator.field.auto_id
        ids = [f"{auto_id}_error"] if indicator.field.errors else []
        ids += [f"finding-{finding_anchor(f)}" for f in indicator.findings + indicator.shared]
        ids += [f"{auto_id}_helptext"] if indicator.field.help_text else []
        ids += [f"{auto_id}_unit"] + ([f"{auto_id}_previous"] if indicator.previous is not None else [])
        attrs["aria-describedby"] = " ".join(ids)
        css = attrs["class"].replace(" is-invalid", "").replace(" border-warning", "")
        if indicator.has_error:
            css += " is-invalid"
        elif indicator.findings or indicator.shared:
            css += " border-warning"
        attrs["class"] = css

    @cached_property
    def sections(self) -> list[Section]:
        if not hasattr(self, "findings"):
            self.findings = []
        sections = []
        for key, title, section_rows in STATISTICS_SECTIONS:
            rows = []
            for names in self._rows(section_rows):
                split = next((split for split in SPLITS if set(split[2]) <= set(names)), None)
                derived = [flag for flag in self.derived_flags if flag.source in names]
                rows.append(Row([self._indicator(name) for name in names], split, derived))
            indicators = [indicator for row in rows for indicator in row.indicators]
            for indicator in indicators:
                self._describe(indicator)
            names = {indicator.field.name for indicator in indicators}
            touching = [f for f in self.findings if names & {n.rsplit(".", 1)[-1] for n in f.fields}]
            sections.append(Section(
                key, title, rows,
                errors=sum(f.is_error for f in touching) + sum(1 for i in indicators if i.field.errors),
                warnings=sum(not f.is_error for f in touching),
            ))
        return sections

    def summary(self) -> list[tuple[str, str, str, bool]]:
        """(input id, code or label, message) of every problem on the page, errors first, for the summary's links."""
        items = [(self[name].auto_id, f"{self[name].label}：", " ".join(errors), True)
                 for name, errors in self.errors.items() if name in self.fields]
        items += [(f"id_{f.field.rsplit('.', 1)[-1]}", f"【{f.code}】", f.message, f.is_error)
                  for f in sorted(self.findings, key=lambda f: not f.is_error)]
        return items

    @cached_property
    def derived_flags(self) -> list[DerivedFlag]:
        return [DerivedFlag(*rule, value=getattr(self.instance, rule[0])) for rule in FilingStatistics.DERIVED_FLAGS]


class AnnualReportForm(VersionedForm):
    class Meta:
        model = AnnualReport
        exclude = ["filing"]  # noqa: DJ006 -- on purpose: a section added to the model appears on the form
        widgets = {name: forms.Textarea(attrs={"rows": 8, "maxlength": 20000})
                   for name in ["compliance", "conduct", "activities", "achievements"]}


def validate_document(upload):
    """PDF or DOCX up to 20 MB, judged by content, not by the file name."""
    if upload.size > DOCUMENT_LIMIT:
        raise forms.ValidationError("附件不能超过 20 MB。")
    head = upload.read(8)
    upload.seek(0)
    name = upload.name.lower()
    if head.startswith(b"%PDF-") and name.endswith(".pdf"):
        return
    if head.startswith(b"PK\x03\x04") and name.endswith(".docx"):
        try:
            # The shared zip guard: reviewers download the file, so a zip bomb or unsafe names are refused here.
            with open_zip(upload, ZipLimits(max_total=512 * 1024 * 1024, max_members=2000)) as archive:
                if "word/document.xml" in archive.namelist():
                    return
        except UnsafeArchive as refusal:
            raise forms.ValidationError(f"附件：{refusal}") from None
        except FileRefused:
            pass  # damaged or encrypted: not a document we accept (the message below)
        finally:
            upload.seek(0)
    raise forms.ValidationError("附件必须是真实的 PDF 或 Word（DOCX）文件，文件内容与扩展名不符或格式不支持。")


class SocialResponsibilityForm(VersionedForm):
    deputy_fields = [(f"deputy{i}_{part}", f"副主任{i} {label}") for i in (1, 2, 3)
                     for part, label in (("name", "姓名"), ("phone", "座机"), ("mobile", "手机"))]

    class Meta:
        model = SocialResponsibilityReport
        exclude = ["filing", "centre", "deputies"]  # noqa: DJ006 -- on purpose: a figure added to the model appears
        widgets = {
            "contribution": forms.Textarea(attrs={"rows": 8}), "responsibility": forms.Textarea(attrs={"rows": 8}),
            "document": FileInput(attrs={"accept": ".pdf,.docx"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        deputies = (self.instance.deputies or []) + [{}] * 3
        for name, label in self.deputy_fields:
            index, part = int(name[6]) - 1, name.split("_", 1)[1]
            self.fields[name] = forms.CharField(label=label, max_length=50, required=False,
                                                initial=deputies[index].get(part, ""))
        self.fields["document"].help_text = "PDF 或 DOCX，不超过 20 MB。"
        basic = ["cma_certificate_number", "accreditation_number", "address", "postal_code", "director_name",
                 "director_mobile"]
        people = ["quality_manager_name", "quality_manager_phone", "quality_manager_mobile", "fax", "email"]
        assets = ["staff_total", "staff_management", "staff_testing", "staff_auxiliary", "fixed_assets", "instruments",
                  "instruments_imported", "lab_area"]
        work = ["samr_sampling_batches", "other_sampling_batches", "ccc_batches", "licence_batches",
                "arbitration_batches", "proficiency_batches", "proficiency_organised", "proficiency_self_organised",
                "national_standards", "national_standards_lead", "industry_standards", "industry_standards_lead"]
        build = ["new_staff", "new_instruments", "new_instrument_investment", "lab_area_added", "research_completed",
                 "research_funding", "research_share", "commissioned_batches", "commissioned_growth",
                 "commissioned_income_share", "income_growth", "external_funding", "external_funding_state"]
        self.helper.layout = Layout(
            "version",
            Fieldset("一、基本情况", *basic, *[name for name, _ in self.deputy_fields], *people),
            Fieldset("4. 人员与资产（管理、检验检测、辅助人员之和等于中心现有员工；均不大于所在法人单位）", *assets),
            Fieldset("5. 年度工作基本情况（每项必填，没有请填 0）", *work),
            Fieldset("6. 国家质检中心建设情况", *build),
            Fieldset("二、三、叙述部分与附件", "contribution", "responsibility", "document"),
        )

    def clean_document(self):
        upload = self.cleaned_data.get("document")
        if upload and hasattr(upload, "content_type"):
            validate_document(upload)
        return upload

    def part_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k != "version" and not k.startswith("deputy")}
        data["deputies"] = [
            {part: self.cleaned_data[f"deputy{i}_{part}"] for part in ("name", "phone", "mobile")}
            for i in (1, 2, 3)
            if self.cleaned_data.get(f"deputy{i}_name")
        ]
        if data.get("document") is None:
            data.pop("document", None)
        return data


class ExplanationForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, warnings=(), explanations=None, editable=True, **kwargs):
        super().__init__(*args, **kwargs)
        explanations = explanations or {}
        for finding in warnings:
            self.fields[f"explain_{finding.code}"] = forms.CharField(
                label=f"【{finding.code}】{finding.message}", required=False, max_length=2000, disabled=not editable,
                initial=explanations.get(finding.code, ""), widget=forms.Textarea(attrs={"rows": 2}),
            )

    def explanations(self) -> dict:
        return {name.removeprefix("explain_"): value for name, value in self.cleaned_data.items()
                if name.startswith("explain_")}


# --- 延期申请 (filings.extensions checks the dates against the deadline) ---------------------------------------------

EXTENSION_UNTIL = {
    "widget": DateTimeInput(attrs={"class": "form-control"}), "input_formats": ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
}


class ExtensionRequestForm(forms.Form):
    until = forms.DateTimeField(label="申请延期至", **EXTENSION_UNTIL, error_messages={
        "required": "请填写申请延期的时间。", "invalid": "延期时间格式不正确（年-月-日 时:分）。"})
    reason = forms.CharField(label="延期原因", max_length=500,
                             widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
                             error_messages={"required": "请填写延期原因。", "max_length": "延期原因不能超过500字。"})


class ExtensionCommentForm(forms.Form):
    comment = forms.CharField(label="市州局意见", max_length=500, error_messages={
        "required": "请填写意见。", "max_length": "意见不能超过500字。"})


class ExtensionDecisionForm(forms.Form):
    """Grant (until: blank for the requested date) or refuse (comment required: the service says so)."""

    until = forms.DateTimeField(label="批准延期至", required=False, **EXTENSION_UNTIL,
                                error_messages={"invalid": "延期时间格式不正确（年-月-日 时:分）。"})
    comment = forms.CharField(label="审核意见", max_length=500, required=False,
                              error_messages={"max_length": "审核意见不能超过500字。"})
