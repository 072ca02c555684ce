"""Forms of SAMR's 评审组 pages (institutions.review_group_views); the rules are in institutions.review_groups."""
from django import forms

from .models import ReviewGroup


class ReviewGroupForm(forms.Form):
    name = forms.CharField(label="评审组名称", max_length=100, widget=forms.TextInput(
        attrs={"class": "form-control", "placeholder": "如：国家食品质检评审组"}))
    is_active = forms.BooleanField(label="启用", required=False, initial=True,
                                   widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))

    @classmethod
    def for_group(cls, group: ReviewGroup, data=None):
        return cls(data, initial={"name": group.name, "is_active": group.is_active}, prefix="group")


class MemberForm(forms.Form):
    username = forms.CharField(label="成员用户名", max_length=150,
                               help_text="评审组审核人员的账号（由系统管理员在系统管理中开设）。",
                               widget=forms.TextInput(attrs={"class": "form-control"}))


class BulkAssignForm(forms.Form):
    codes = forms.CharField(
        label="统一社会信用代码（每行一个）",
        widget=forms.Textarea(attrs={"class": "form-control font-monospace", "rows": 6}),
    )
