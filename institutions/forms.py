import re

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Fieldset, Layout
from django import forms
from django.forms import inlineformset_factory
from django.urls import reverse
from django.utils import timezone

from config.uploads import visible
from config.widgets import DateInput, FileInput

from .fields import CityChoiceField
from .imports import MAX_UPLOAD_BYTES, FileRefused, sniff
from .models import CHOOSABLE_AUTHORITIES, CmaCertificate, Institution, OtherQualification, Site

PHONE = re.compile(r"^[0-9+\-() ]{7,30}$")
CNAS = re.compile(r"^CNAS ?[LIA]\d{3,6}$")
DIVISION = re.compile(r"^\d{6}$")


def _division_error(value, city):
    if not DIVISION.match(value):
        return "行政区划代码应为6位数字。"
    if city is not None and value[:4] != city.code[:4]:
        return f"行政区划代码应属于{city.name}（以 {city.code[:4]} 开头）。"
    return None


class ProfileForm(forms.ModelForm):
    """What a filer keeps true about its entity. The identity fields (name, legal representative, credit code, city)
    are not here: they change through an IdentityChangeRequest that the reviewing authority confirms, or the admin."""

    class Meta:
        model = Institution
        fields = [
            "registered_address", "division_code", "established_year",
            "nature", "legal_status", "ownership", "supervising_department", "professional_fields",
            "is_listed", "is_high_tech", "is_specialized", "is_group_member", "has_overseas_presence",
            "cnas_number", "contact_person", "contact_phone", "contact_email",
        ]
        widgets = {"professional_fields": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("registered_address", "contact_person", "contact_phone"):
            self.fields[name].required = True
        self.fields["professional_fields"].required = True
        self.fields["professional_fields"].error_messages["required"] = "请至少勾选一个专业领域。"
        self.fields["established_year"].required = True
        self.fields["supervising_department"].empty_label = "（无）"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset("基本信息", Div(
                Div("established_year", css_class="col-md-3"), Div("registered_address", css_class="col-md-9"),
                Div("division_code", css_class="col-md-3"), Div("nature", css_class="col-md-4"),
                Div("legal_status", css_class="col-md-4"), Div("ownership", css_class="col-md-4"),
                Div("supervising_department", css_class="col-md-4"), Div("cnas_number", css_class="col-md-4"),
                css_class="row")),
            Fieldset("专业领域（可多选）", "professional_fields"),
            Fieldset("标识", Div(
                Div("is_listed", css_class="col-md-4"), Div("is_high_tech", css_class="col-md-4"),
                Div("is_specialized", css_class="col-md-4"), Div("is_group_member", css_class="col-md-4"),
                Div("has_overseas_presence", css_class="col-md-4"), css_class="row")),
            Fieldset("联系人", Div(
                Div("contact_person", css_class="col-md-4"), Div("contact_phone", css_class="col-md-4"),
                Div("contact_email", css_class="col-md-4"), css_class="row")),
        )

    def clean_division_code(self):
        value = self.cleaned_data["division_code"].strip()
        if value and (error := _division_error(value, self.instance.city if self.instance.city_id else None)):
            raise forms.ValidationError(error)
        return value

    def clean_established_year(self):
        year = self.cleaned_data["established_year"]
        if year is not None and year < 1900:
            raise forms.ValidationError("成立年份应不早于1900年。")
        return year

    def clean_cnas_number(self):
        value = self.cleaned_data["cnas_number"].strip().upper()
        if value and not CNAS.match(value):
            raise forms.ValidationError("CNAS认可证书号格式应如“CNAS L1234”，未获认可请留空。")
        return value

    def clean_contact_phone(self):
        value = self.cleaned_data["contact_phone"].strip()
        if value and not PHONE.match(value):
            raise forms.ValidationError("联系电话只能包含数字、空格、“-”、“+”和括号，7至30位。")
        return value


class SiteForm(forms.ModelForm):
    class Meta:
        model = Site
        fields = ["address", "postal_code", "division_code"]

    def clean_address(self):
        address = " ".join(self.cleaned_data["address"].split())
        if len(address) < 6:
            raise forms.ValidationError("请填写完整的场所地址（省、市、区县、街道门牌）。")
        return address

    def clean_postal_code(self):
        value = self.cleaned_data["postal_code"].strip()
        if value and not re.fullmatch(r"\d{6}", value):
            raise forms.ValidationError("邮政编码应为6位数字。")
        return value

    def clean_division_code(self):
        value = self.cleaned_data["division_code"].strip()
        if value and not DIVISION.match(value):
            raise forms.ValidationError("行政区划代码应为6位数字。")
        return value


class CertificateForm(forms.ModelForm):
    """Only the number is typed: issuer, level, field and department are decoded from it (shown beside it)."""

    class Meta:
        model = CmaCertificate
        fields = ["number", "issue_date", "expiry_date", "capability_items", "scope_summary"]
        widgets = {"issue_date": DateInput, "expiry_date": DateInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["number"].widget.attrs.update({
            "data-decode-url": reverse("institutions:decode_cma"), "inputmode": "numeric", "maxlength": "14",
            "placeholder": "12位数字",
        })
        self.fields["number"].help_text = "发证机关、级别、领域和主管部门由编号自动识别。"
        if not self.instance.pk:
            self.fields["capability_items"].initial = None

    def clean_capability_items(self):
        items = self.cleaned_data["capability_items"]
        if items is None or items < 1:
            raise forms.ValidationError("能力范围项数至少为1（按证书附表的能力项计数）。")
        return items

    def clean(self):
        data = super().clean()
        issue, expiry = data.get("issue_date"), data.get("expiry_date")
        if issue and issue > timezone.localdate():
            self.add_error("issue_date", "发证日期不能晚于今天。")
        if issue and expiry and expiry <= issue:
            self.add_error("expiry_date", "有效期至必须晚于发证日期。")
        return data


class OtherQualificationForm(forms.ModelForm):
    class Meta:
        model = OtherQualification
        fields = ["kind", "number", "issuer", "issue_date", "expiry_date"]
        widgets = {"issue_date": DateInput, "expiry_date": DateInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "请选择资质类别"), *OtherQualification.Kind.choices]

    def clean(self):
        data = super().clean()
        issue, expiry = data.get("issue_date"), data.get("expiry_date")
        if issue and expiry and expiry <= issue:
            self.add_error("expiry_date", "有效期至必须晚于发证日期。")
        return data


class BaseRelatedFormSet(forms.BaseInlineFormSet):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.template = "bootstrap5/table_inline_formset.html"

    def add_fields(self, form, index):
        super().add_fields(form, index)
        row = "新增行" if index is None else f"第{index + 1}行"
        for field in form.fields.values():  # the table's header is no label: each input names its column and row
            field.widget.attrs.setdefault("aria-label", f"{field.label}（{row}）")

    def get_unique_error_message(self, unique_check):
        return "同一张表中有重复的记录，请删除重复的一行。"

    def changes(self) -> dict:
        """A valid formset as data for `services.save_related`: the changed and new rows' cleaned values ("id" None for
        a new row) and the ids of the stored rows marked for deletion; untouched and blank extra rows are left out."""
        deleted = self.deleted_forms if self.can_delete else []
        rows = [
            {**{name: value for name, value in form.cleaned_data.items() if name not in ("id", "DELETE", self.fk.name)},
             "id": form.instance.pk}
            for form in self.forms if form.has_changed() and form not in deleted
        ]
        return {"rows": rows, "deleted_ids": [form.instance.pk for form in deleted if form.instance.pk]}


class BaseSiteFormSet(BaseRelatedFormSet):
    default_error_messages = {
        **BaseRelatedFormSet.default_error_messages, "too_few_forms": "至少要保留一个检验检测场所。",
    }


SiteFormSet = inlineformset_factory(
    Institution, Site, form=SiteForm, formset=BaseSiteFormSet, extra=1, can_delete=True, min_num=1, validate_min=True,
)
CertificateFormSet = inlineformset_factory(
    Institution, CmaCertificate, form=CertificateForm, formset=BaseRelatedFormSet, extra=1, can_delete=True,
)
OtherQualificationFormSet = inlineformset_factory(
    Institution, OtherQualification, form=OtherQualificationForm, formset=BaseRelatedFormSet, extra=1,
    can_delete=True,
)


class AuthorityChoiceForm(forms.Form):
    authority = forms.ChoiceField(label="审核单位", widget=forms.RadioSelect,
                                  choices=[(value.value, value.label) for value in CHOOSABLE_AUTHORITIES])

    def __init__(self, *args, institution=None, **kwargs):
        super().__init__(*args, **kwargs)
        if institution is not None:  # each choice by its name for this institution: 湖南省市场监督管理局
            self.fields["authority"].choices = [
                (value.value, institution.authority_name(value)) for value in CHOOSABLE_AUTHORITIES
            ]


class IdentityChangeForm(forms.Form):
    """信息变更申请: the new identity values (prefilled with the registered ones) and the reason."""

    name = forms.CharField(label="机构名称", max_length=200)
    legal_representative = forms.CharField(label="法定代表人", max_length=50)
    credit_code = forms.CharField(label="统一社会信用代码", max_length=30)
    city = CityChoiceField(label="所在市州", error_messages={"invalid_choice": "请选择一个市州。"})
    reason = forms.CharField(
        label="变更原因", max_length=1000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="如营业执照、法人证书的变更情况；审核部门据此确认。",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["city"].label_from_instance = lambda region: f"{region.parent.name} {region.name}"
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if visible(name) != name:
            raise forms.ValidationError("机构名称不能含有控制字符或不可见字符（如零宽空格）。")
        if len(name) < 4:
            raise forms.ValidationError("请填写机构的完整名称（与营业执照或法人证书一致）。")
        return name

    def clean_credit_code(self):
        return "".join(self.cleaned_data["credit_code"].split()).replace("-", "").upper()


class IdentityDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("confirm", "确认变更"), ("refuse", "不予确认")],
        error_messages={"required": "请选择确认或不予确认。", "invalid_choice": "请选择确认或不予确认。"},
    )
    comment = forms.CharField(
        label="处理意见", max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="名录文件",
        help_text=(
            f"XLSX 或 CSV（UTF-8 或 GBK 编码），不超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB；请使用下载的模板。"
        ),
        widget=FileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not name.endswith((".xlsx", ".csv")):
            raise forms.ValidationError("只能上传 .xlsx 或 .csv 文件（旧版 .xls 请在 Excel 中另存为 .xlsx）。")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"文件大小 {upload.size / 1024 / 1024:.1f} MB，"
                f"超过上限 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB，请拆分后分批导入。"
            )
        if upload.size == 0:
            raise forms.ValidationError("上传的文件是空的。")
        try:
            sniff(upload, name)  # what the file is by its content, not by its name
        except FileRefused as refusal:
            raise forms.ValidationError(str(refusal)) from None
        return upload
