import datetime

import django_filters
from django import forms
from django.utils import timezone

from config.widgets import DateInput, DateTimeInput
from filings.models import Filing
from institutions.fields import CityChoiceIterator
from institutions.models import ProfessionalField, Region
from institutions.selectors import name_or_code_q

from .models import ChasingRecord
from .selectors import QUEUE_STATES, peer_outlier_ids

FIELD_COMMENT_ROWS = 5
DATETIME_WIDGET = DateTimeInput(attrs={"class": "form-control"})
DATE_WIDGET = DateInput(attrs={"class": "form-control form-control-sm"})


class QueueFilter(django_filters.FilterSet):
    """Filters of the review queue; the base queryset is already scoped by review.selectors.review_queue."""

    q = django_filters.CharFilter(label="机构名称或信用代码", method="filter_search")
    province = django_filters.ModelChoiceFilter(
        field_name="institution__city__parent", label="省份", queryset=None, empty_label="全部省份"
    )
    city = django_filters.ModelChoiceFilter(
        field_name="institution__city", label="市州", queryset=None, empty_label="全部市州"
    )
    status = django_filters.ChoiceFilter(
        label="状态", choices=[(s.value, s.label) for s in QUEUE_STATES], empty_label="已提交和审核中"
    )
    professional_field = django_filters.ModelChoiceFilter(
        field_name="institution__professional_fields", label="专业领域",
        queryset=ProfessionalField.objects.order_by("code"), empty_label="全部领域",
    )
    submitted_from = django_filters.DateFilter(
        field_name="submitted_at", lookup_expr="date__gte", label="提交日期自", widget=DATE_WIDGET
    )
    submitted_to = django_filters.DateFilter(
        field_name="submitted_at", lookup_expr="date__lte", label="至", widget=DATE_WIDGET
    )
    warnings = django_filters.ChoiceFilter(
        label="预警", choices=[("yes", "有预警"), ("no", "无预警")], empty_label="不限", method="filter_warnings"
    )
    peers = django_filters.ChoiceFilter(
        label="同行比较", choices=[("outliers", "偏离同行")], empty_label="不限", method="filter_peers"
    )

    class Meta:
        model = Filing
        fields = []

    def __init__(self, *args, cities=None, **kwargs):
        super().__init__(*args, **kwargs)
        provinces = Region.objects.filter(pk__in=cities.values("parent_id")).order_by("code")
        self.filters["province"].queryset = provinces
        self.filters["city"].queryset = cities
        if len(provinces) < 2:  # a province's or a city's reviewer: nothing to choose (before the form is built)
            del self.filters["province"]
        else:
            self.form.fields["province"].queryset = provinces
        self.form.fields["city"].iterator = CityChoiceIterator  # grouped by province (SAMR: every city)
        self.form.fields["city"].queryset = cities
        for field in self.form.fields.values():
            if isinstance(field.widget, forms.Select):
                css = "form-select form-select-sm"
            else:
                css = "form-control form-control-sm"
            field.widget.attrs.setdefault("class", css)
        self.form.fields["q"].widget.attrs.update({"placeholder": "名称关键字或统一社会信用代码", "type": "search"})

    def filter_search(self, queryset, name, value):
        return queryset.filter(name_or_code_q(value, "institution__"))

    def filter_warnings(self, queryset, name, value):
        return queryset.filter(has_warnings=(value == "yes"))

    def filter_peers(self, queryset, name, value):
        return queryset.filter(pk__in=peer_outlier_ids(queryset))


def default_due():
    """Ten days from now, at 23:59 local time."""
    day = timezone.localdate() + datetime.timedelta(days=10)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59)))


class DecisionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    comment = forms.CharField(
        label="审核意见", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReturnForm(DecisionForm):
    """Return for correction: general comment (required), due date, and up to five comments on single fields."""

    comment = forms.CharField(
        label="退回意见", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "退回必须填写意见。"},
    )
    due = forms.DateTimeField(
        label="更正截止时间", widget=DATETIME_WIDGET, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={"required": "请设定更正截止时间。", "invalid": "更正截止时间格式不正确。"},
    )

    def __init__(self, *args, field_choices=(), **kwargs):
        kwargs.setdefault("initial", {}).setdefault("due", timezone.localtime(default_due()))
        super().__init__(*args, **kwargs)
        self.field_labels = dict(field_choices)
        choices = [("", "（选择字段）"), *field_choices]
        for i in range(1, FIELD_COMMENT_ROWS + 1):
            self.fields[f"field_{i}"] = forms.ChoiceField(label=f"字段 {i}", choices=choices, required=False)
            self.fields[f"field_comment_{i}"] = forms.CharField(
                label=f"对字段 {i} 的意见", max_length=2000, required=False
            )

    def clean_due(self):
        due = self.cleaned_data["due"]
        if due <= timezone.now():
            raise forms.ValidationError("更正截止时间必须晚于当前时间。")
        return due

    def clean(self):
        cleaned = super().clean()
        for i in range(1, FIELD_COMMENT_ROWS + 1):
            key, text = cleaned.get(f"field_{i}"), (cleaned.get(f"field_comment_{i}") or "").strip()
            if text and not key:
                self.add_error(f"field_{i}", "请选择该意见对应的字段。")
            if key and not text:
                self.add_error(f"field_comment_{i}", "请填写对该字段的意见。")
        return cleaned

    def field_comments(self) -> list[tuple[str, str]]:
        pairs = []
        for i in range(1, FIELD_COMMENT_ROWS + 1):
            key = self.cleaned_data.get(f"field_{i}")
            if key:
                pairs.append((key, self.cleaned_data.get(f"field_comment_{i}", "")))
        return pairs

    def comment_rows(self):
        return [(self[f"field_{i}"], self[f"field_comment_{i}"]) for i in range(1, FIELD_COMMENT_ROWS + 1)]


class ExtensionForm(forms.Form):
    until = forms.DateTimeField(
        label="延期至", widget=DATETIME_WIDGET, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={"required": "请填写延期时间。", "invalid": "延期时间格式不正确。"},
    )
    reason = forms.CharField(label="延期原因", max_length=500, error_messages={"required": "请填写延期原因。"})


class ChasingForm(forms.ModelForm):
    class Meta:
        model = ChasingRecord
        fields = ["contacted_on", "channel", "note"]
        widgets = {"contacted_on": DATE_WIDGET, "note": forms.Textarea(attrs={"rows": 3, "maxlength": 2000})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [("", "请选择联系方式"), *ChasingRecord.Channel.choices]

    def clean_contacted_on(self):
        day = self.cleaned_data["contacted_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("联系日期不能晚于今天。")
        return day
