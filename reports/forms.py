from django import forms

from config.widgets import FileInput
from institutions.fields import CityChoiceField

from .ingest import MAX_BYTES, MAX_LENGTH, check_number
from .quarters import Quarter, recent_quarters


def quarter_choices(count: int = 8):
    return [(quarter.code, quarter.label) for quarter in recent_quarters(count)]


class QuarterField(forms.TypedChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "季度")
        super().__init__(choices=quarter_choices, coerce=Quarter.parse, **kwargs)


class UploadForm(forms.Form):
    quarter = QuarterField(help_text="每季度第一个月上传上一季度出具的全部有效报告编号；逾期上传将标记为“逾期”。")
    file = forms.FileField(
        label="编号文件",
        help_text=(
            "TXT 或 CSV（每行一个编号）或 XLSX（第一列，可有表头）；UTF-8 或 GBK 编码；"
            f"不超过 {MAX_BYTES // 1024 // 1024} MB、200 万行。"
        ),
        widget=FileInput(attrs={"accept": ".txt,.csv,.xlsx"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quarter"].initial = recent_quarters(1)[0].code

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(f"文件超过 {MAX_BYTES // 1024 // 1024} MB，请分成几个文件上传。")
        if upload.size == 0:
            raise forms.ValidationError("文件是空的。")
        return upload


class TokenForm(forms.Form):
    name = forms.CharField(label="用途说明", max_length=100, help_text="例如“LIMS 自动上传”")
    days = forms.TypedChoiceField(
        label="有效期", coerce=int, initial=365, choices=[(90, "90 天"), (180, "180 天"), (365, "1 年"), (730, "2 年")]
    )


def verify_input_error(number: str, institution: str) -> str:
    """The message for a public lookup's bad input, or "" (a plain function, not a Form: the page is the busiest of
    the system and a Form's per-request field copies cost more than its lookup)."""
    if not number:
        return "请输入报告编号。"
    if len(number) > MAX_LENGTH:
        return f"报告编号不超过 {MAX_LENGTH} 个字符，请核对。"
    accepted, reason = check_number(number)
    if accepted is None:
        return f"报告编号格式不正确：{reason}。"
    if len(institution) > 200:
        return "机构名称或统一社会信用代码过长，请核对。"
    return ""


class ComplaintForm(forms.Form):
    report_number = forms.CharField(label="报告编号", max_length=64)
    institution = forms.CharField(label="出具报告的机构", max_length=200, help_text="机构全称或统一社会信用代码")
    city = CityChoiceField(
        label="机构所在市州", required=False, help_text="机构不在名录中时请选择，投诉将转交该市州市场监管部门。",
    )
    description = forms.CharField(label="问题描述", max_length=2000, widget=forms.Textarea(attrs={"rows": 5}))
    contact = forms.CharField(label="联系方式", max_length=100, help_text="电话或电子邮箱，仅用于核实情况。")


class HandleComplaintForm(forms.Form):
    note = forms.CharField(label="处理情况", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class MissingQuarterForm(forms.Form):
    quarter = QuarterField(required=False)
