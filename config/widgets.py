"""Form widgets that speak Chinese whatever the browser's language: a native date input shows "mm/dd/yyyy" and a
native file input "Choose File / No file chosen" in an English browser. Every form's date, date-and-time and file
fields use these (forms.py of each app); the server reads the same formats as before."""
from django import forms

DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%d %H:%M"


class DateInput(forms.DateInput):
    """A date typed as 2025-04-30 into a text box whose placeholder says 年-月-日."""

    def __init__(self, attrs=None):
        attrs = {"placeholder": "年-月-日", "inputmode": "numeric", "autocomplete": "off", "size": 10, **(attrs or {})}
        super().__init__(attrs, format=DATE_FORMAT)


class DateTimeInput(forms.DateTimeInput):
    """A date and time typed as 2025-04-30 23:59 into a text box whose placeholder says 年-月-日 时:分."""

    def __init__(self, attrs=None):
        attrs = {"placeholder": "年-月-日 时:分", "autocomplete": "off", "size": 16, **(attrs or {})}
        super().__init__(attrs, format=DATETIME_FORMAT)


class FileInput(forms.ClearableFileInput):
    """A real <input type=file> (keyboard and screen readers use it as ever), transparent over a Bootstrap button
    选择文件 and the chosen file's name, 未选择文件 until one is chosen (static/js/file_input.js writes it). A stored
    file is shown with a 清除 box when the field is optional, as Django's own widget does."""

    template_name = "widgets/file_input.html"
    no_file_text = "未选择文件"
    choose_text = "选择文件"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        chosen_id = f"{widget['attrs'].get('id') or name}_chosen"
        described = [chosen_id, *filter(None, [widget["attrs"].get("aria-describedby")])]
        widget["attrs"]["aria-describedby"] = " ".join(described)
        widget.update(chosen_id=chosen_id, no_file_text=self.no_file_text, choose_text=self.choose_text)
        return context
