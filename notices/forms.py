from crispy_forms.helper import FormHelper
from django import forms

from config.widgets import DateInput, FileInput

from .attachments import ACCEPT, ATTACHMENT_LIMIT, MAX_ATTACHMENTS
from .models import Notice
from .services import SCOPE_RULE


class MultipleFileInput(FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one chooser; each is checked by the service (notices/attachments.py)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)] if data else []


class NoticeForm(forms.ModelForm):
    attachments = MultipleFileField(
        label="附件", required=False,
        help_text=(f"PDF、Word（DOC、DOCX）或 Excel（XLS、XLSX），每个不超过 {ATTACHMENT_LIMIT // 1024 // 1024} MB，"
                   f"每条通知最多 {MAX_ATTACHMENTS} 个；可一次选择多个文件。"),
    )
    remove_attachments = forms.ModelMultipleChoiceField(
        label="删除已有附件", required=False, queryset=None, widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Notice
        fields = ["title", "region", "body", "pinned", "public", "expires_on"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 12}),
            "expires_on": DateInput(),
        }
        help_texts = {"body": "纯文本：空一行分段；不支持 HTML 标记（会原样显示）。"}

    def __init__(self, *args, regions, **kwargs):
        super().__init__(*args, **kwargs)
        region = self.fields["region"]
        region.queryset = regions
        region.empty_label = None if len(regions) == 1 else "请选择发布范围"
        region.label_from_instance = lambda r: r.name
        region.error_messages["invalid_choice"] = f"您不能向所选范围发布通知：{SCOPE_RULE}。"
        if self.instance.pk:
            self.fields["remove_attachments"].queryset = self.instance.attachments.all()
            self.fields["remove_attachments"].label_from_instance = lambda a: a.original_name
        else:
            del self.fields["remove_attachments"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def notice_data(self) -> dict:
        """What the services take: the notice's fields, the new files and the attachments to remove."""
        data = dict(self.cleaned_data)
        data["remove_attachments"] = [a.pk for a in data.get("remove_attachments") or []]
        if not self.instance.pk:
            data.pop("remove_attachments")
        return data
