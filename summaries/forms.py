from django import forms

from filings.models import ReportingYear

from .registry import get_kind, kind_choices
from .scopes import export_regions_for


class ExportForm(forms.Form):
    kind = forms.ChoiceField(label="导出内容")
    region = forms.ModelChoiceField(label="范围", queryset=None, empty_label=None)
    year = forms.TypedChoiceField(label="统计年度", coerce=int, required=False, help_text="年度汇总必选。")
    include_submitted = forms.BooleanField(
        label="包含已提交但尚未审核通过的填报", required=False,
        help_text="仅用于年度汇总。默认只计入审核通过的填报；勾选后另计入已提交和审核中的填报（草稿、已退回不计），"
        "工作簿首页会注明统计口径。",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kind_choices()
        self.fields["region"].queryset = export_regions_for(user)
        self.fields["region"].label_from_instance = lambda region: region.display_name
        years = ReportingYear.objects.order_by("-year").values_list("year", flat=True)
        self.fields["year"].choices = [("", "—")] + [(year, f"{year}年度") for year in years]
        current = ReportingYear.objects.current()
        self.fields["year"].initial = current.year if current else None

    def clean(self):
        data = super().clean()
        kind = get_kind(data.get("kind", ""))
        if kind and kind.needs_year and not data.get("year"):
            self.add_error("year", "请选择统计年度。")
        return data
