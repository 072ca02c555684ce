"""Date, date-and-time and file inputs speak Chinese whatever the browser's language: every form of every app uses
the widgets of config/widgets.py (a text box with a 年-月-日 placeholder; a real file input under a 选择文件 button and
未选择文件), which the server reads as before."""
import datetime
import importlib
import inspect

import django_filters
import pytest
from django import forms
from django.apps import apps
from django.conf import settings

from config import widgets

# Each kind of field and filter, and the one widget it must use.
WIDGET_OF = [
    (forms.DateTimeField, widgets.DateTimeInput), (forms.DateField, widgets.DateInput),
    (forms.FileField, widgets.FileInput),
]
FILTER_WIDGET_OF = [
    (django_filters.DateTimeFilter, widgets.DateTimeInput), (django_filters.DateFilter, widgets.DateInput),
]


def project_forms_modules():
    for config in apps.get_app_configs():
        if not str(config.path).startswith(str(settings.BASE_DIR)) or "site-packages" in str(config.path):
            continue  # Django's and other libraries' apps
        try:
            yield importlib.import_module(f"{config.name}.forms")
        except ModuleNotFoundError:
            continue


def defined_in(module, base):
    return [cls for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, base) and cls.__module__ == module.__name__]


def wrong_widgets():
    wrong = []
    for module in project_forms_modules():
        for form in defined_in(module, forms.BaseForm):
            for name, field in getattr(form, "base_fields", {}).items():  # a mixin has none
                for kind, widget in WIDGET_OF:
                    if isinstance(field, kind) and not isinstance(field.widget, widget):
                        wrong.append(f"{form.__module__}.{form.__name__}.{name}: {type(field.widget).__name__}")
                    if isinstance(field, kind):
                        break
        for filterset in defined_in(module, django_filters.FilterSet):
            for name, filter_ in filterset.base_filters.items():
                for kind, widget in FILTER_WIDGET_OF:
                    if isinstance(filter_, kind) and not isinstance(filter_.extra.get("widget"), widget):
                        wrong.append(f"{filterset.__module__}.{filterset.__name__}.{name}")
                    if isinstance(filter_, kind):
                        break
    return wrong


def test_every_forms_date_and_file_fields_use_the_chinese_widgets():
    assert list(project_forms_modules()), "no forms module found"
    assert wrong_widgets() == []


def test_date_input_is_a_text_box_with_a_chinese_placeholder():
    html = widgets.DateInput().render("day", datetime.date(2025, 4, 30))
    assert 'type="text"' in html and 'placeholder="年-月-日"' in html and 'value="2025-04-30"' in html
    field = forms.DateField(widget=widgets.DateInput)
    assert field.clean("2025-04-30") == datetime.date(2025, 4, 30)


def test_datetime_input_shows_and_reads_minutes():
    html = widgets.DateTimeInput().render("until", datetime.datetime(2025, 4, 30, 23, 59, tzinfo=datetime.UTC))
    assert 'placeholder="年-月-日 时:分"' in html and 'value="2025-04-30 23:59"' in html


class UploadForm(forms.Form):
    file = forms.FileField(label="编号文件", help_text="TXT 或 CSV", widget=widgets.FileInput)
    attachment = forms.FileField(label="附件", required=False, widget=widgets.FileInput)


def test_file_input_is_a_real_file_input_with_chinese_button_and_name():
    html = str(UploadForm()["file"])
    assert 'type="file"' in html and 'name="file"' in html and 'id="id_file"' in html
    assert "选择文件" in html and "未选择文件" in html
    # A screen reader hears the chosen file's name and the help text with the field.
    assert 'aria-describedby="id_file_chosen id_file_helptext"' in html and 'id="id_file_chosen"' in html


def test_file_input_offers_to_clear_a_stored_optional_file():
    class Stored:
        url = "/media/sr/report.pdf"

        def __str__(self):
            return "report.pdf"

    html = str(UploadForm(initial={"attachment": Stored()})["attachment"])
    assert 'href="/media/sr/report.pdf"' in html and "attachment-clear" in html and 'type="file"' in html


@pytest.mark.django_db
def test_crispy_forms_render_the_file_widget_with_its_errors(client):
    from crispy_forms.utils import render_crispy_form

    form = UploadForm(data={}, files={})
    assert not form.is_valid()
    html = render_crispy_form(form)
    assert html.count('type="file"') == 2 and "选择文件" in html
    assert "qts-file is-invalid" in html and "invalid-feedback" in html  # the error shows under the control
