from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.utils.html import format_html, format_html_join

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


STAFF = ["staff_total", "staff_doctorate", "staff_master", "staff_bachelor", "staff_college_or_below",
         "staff_senior_title", "staff_intermediate_title", "staff_junior_title", "staff_no_title"]
RESOURCES = ["instruments_total", "instruments_domestic", "instruments_imported", "instruments_over_500k",
             "instrument_value_total", "instrument_value_domestic", "instrument_value_imported", "lab_area",
             "total_assets"]
BUSINESS = ["revenue", "reports_total", "reports_enforcement", "reports_commissioned", "reports_judicial",
            "reports_other", "patents_valid", "patents_invention", "research_projects", "standards_national",
            "standards_national_lead", "standards_industry", "standards_industry_lead"]
ENTERPRISE_FINANCE = ["enterprise_costs", "enterprise_profit", "enterprise_taxes", "enterprise_payroll"]
PUBLIC_FINANCE = ["public_income_total", "public_income_subsidy", "public_income_service", "public_income_business",
                  "public_expenditure"]


class StatisticsForm(VersionedForm):
    class Meta:
        model = FilingStatistics
        exclude = ["filing"]  # noqa: DJ006 -- on purpose: an indicator added to the model appears on the form

    def __init__(self, *args, nature="enterprise", **kwargs):
        super().__init__(*args, **kwargs)
        finance = ENTERPRISE_FINANCE if nature == "enterprise" else PUBLIC_FINANCE
        for name in set(ENTERPRISE_FINANCE + PUBLIC_FINANCE) - set(finance):
            del self.fields[name]
        self.helper.layout = Layout(
            "version",
            Fieldset("一、从业人员（按学历、按职称分别合计应等于总数）", *STAFF),
            Fieldset("二、仪器设备与场地", *RESOURCES),
            Fieldset("三、业务情况", *BUSINESS),
            Fieldset("四、财务情况（企业）" if nature == "enterprise" else "四、财务情况（事业单位及其他）", *finance),
        )


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
        from config.uploads import FileRefused, UnsafeArchive, ZipLimits, open_zip

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
