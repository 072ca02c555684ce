"""The statistics form (统计调查数据): sections, no red before the first save, every field of a failed sum marked,
last year's approved figures beside the inputs, and the live preview's rules rendered from the one definition."""
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from filings import services
from filings.checks import SPLITS
from filings.forms import COPY_FROM_LAST_YEAR, STATISTICS_SECTIONS, StatisticsForm
from filings.models import Filing, FilingStatistics
from tests import factories
from tests.factories import COMPLETE_STATISTICS

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, filer):
    client.force_login(filer)
    return client


@pytest.fixture
def new_filing(filer, year):
    """A filing as the filer's first open creates it: every figure blank, nothing saved yet."""
    return services.open_filing(filer.institution, year, actor=filer)


def page(client, filing):
    return client.get(reverse("filings:statistics", args=[filing.pk])).content.decode()


def post(client, filing, **values):
    data = {name: ("" if value is None else value) for name, value in values.items()}
    return client.post(reverse("filings:statistics", args=[filing.pk]),
                       {**data, "version": Filing.objects.get(pk=filing.pk).version, "save": "1"})


def input_tag(body, name):
    return re.search(rf'<input[^>]*id="id_{name}"[^>]*>', body).group(0)


def test_a_new_draft_shows_no_error_before_its_first_save(logged_in, new_filing):
    body = page(logged_in, new_filing)
    assert "is-invalid" not in body and "【E101】" not in body and 'data-testid="findings"' not in body
    assert 'data-testid="section-errors"' not in body


def test_after_the_first_save_the_errors_sit_on_their_fields(logged_in, new_filing):
    assert post(logged_in, new_filing).status_code == 302  # an empty form saved as a draft
    assert Filing.objects.get(pk=new_filing.pk).statistics_saved_at is not None
    body = page(logged_in, new_filing)
    assert "is-invalid" in input_tag(body, "staff_total") and "【E101】" in body
    summary = re.search(r'data-testid="findings".*?</div>', body, re.S).group(0)
    assert 'href="#id_staff_total"' in summary and 'href="#id_revenue"' in summary


def test_every_part_and_the_total_of_a_failed_sum_are_marked(logged_in, new_filing):
    post(logged_in, new_filing, **{**COMPLETE_STATISTICS, "staff_master": 9})
    body = page(logged_in, new_filing)
    _, whole, parts, _ = next(split for split in SPLITS if split[0] == "E102")
    for name in [whole, *parts]:
        tag = input_tag(body, name)
        assert "is-invalid" in tag, name
        assert "finding-E102-staff_doctorate" in re.search(r'aria-describedby="([^"]*)"', tag).group(1), name
    assert 'id="finding-E102-staff_doctorate"' in body  # the message the marked inputs are described by
    assert "is-invalid" not in input_tag(body, "staff_senior_title")  # the title split adds up
    assert 'href="#id_staff_doctorate"' in body  # the summary links to the input carrying the message
    assert re.search(r'href="#section-staff".*?section-errors">1<', body, re.S)  # the index counts it once


def test_a_part_larger_than_its_whole_marks_both(logged_in, filing):
    FilingStatistics.objects.filter(filing=filing).update(patents_invention=9)
    body = page(logged_in, filing)
    assert "is-invalid" in input_tag(body, "patents_invention") and "is-invalid" in input_tag(body, "patents_valid")
    assert "is-invalid" not in input_tag(body, "research_projects")


def test_bad_input_is_shown_on_its_field_and_nothing_is_saved(logged_in, new_filing):
    response = post(logged_in, new_filing, staff_total="很多")
    body = response.content.decode()
    assert response.status_code == 200 and "本次内容未保存" in body
    assert "is-invalid" in input_tag(body, "staff_total") and 'id="id_staff_total_error"' in body
    assert Filing.objects.get(pk=new_filing.pk).statistics_saved_at is None


def test_every_indicator_of_the_form_is_in_a_section(new_filing):
    for nature in ("enterprise", "public"):
        form = StatisticsForm(instance=new_filing.statistics, nature=nature)
        shown = {indicator.field.name for section in form.sections for row in section.rows
                 for indicator in row.indicators}
        assert shown == set(form.fields) - {"version"}
    assert [title for _, title, _ in STATISTICS_SECTIONS] == [
        "基本情况", "人员", "仪器设备", "场地与资产", "业务量", "科研与标准", "财务"]


def test_units_are_input_suffixes_and_the_label_keeps_them_for_screen_readers(logged_in, new_filing):
    body = page(logged_in, new_filing)
    assert re.search(r'<span class="input-group-text" id="id_lab_area_unit">平方米</span>', body)
    assert re.search(r'<span class="input-group-text" id="id_instruments_total_unit">台套</span>', body)
    assert re.search(r'<span class="input-group-text" id="id_revenue_unit">万元</span>', body)
    assert re.search(r'<label for="id_lab_area"[^>]*>实验室面积<span class="visually-hidden">（平方米）</span>', body)


def test_last_years_approved_figures_stand_beside_the_inputs_with_copy_buttons(
    logged_in, new_filing, django_assert_max_num_queries
):
    last_year = factories.ReportingYearFactory(year=new_filing.year.year - 1)
    factories.make_filing(new_filing.institution, year=last_year, status=Filing.Status.APPROVED,
                          lab_area=Decimal("2400.50"))
    body = page(logged_in, new_filing)
    assert re.search(r'id="id_lab_area_previous">上年 2400.50 平方米', body)
    assert re.search(r'id="id_revenue_previous">上年 860.50 万元', body)
    buttons = dict(re.findall(r'data-copy-to="id_(\w+)" data-copy-value="([^"]*)"', body))
    assert set(buttons) == COPY_FROM_LAST_YEAR and buttons["lab_area"] == "2400.50"
    assert 'aria-label="沿用上年数值：实验室面积填入 2400.50 平方米"' in body
    assert "id_lab_area_previous" in input_tag(body, "lab_area")


def test_a_previous_filing_not_approved_is_not_shown(logged_in, new_filing):
    last_year = factories.ReportingYearFactory(year=new_filing.year.year - 1)
    factories.make_filing(new_filing.institution, year=last_year, status=Filing.Status.RETURNED)
    body = page(logged_in, new_filing)
    assert "上年" not in body and "data-copy-to" not in body


def test_regulators_see_last_years_figures_without_copy_buttons(client, filing):
    last_year = factories.ReportingYearFactory(year=filing.year.year - 1)
    factories.make_filing(filing.institution, year=last_year, status=Filing.Status.APPROVED)
    client.force_login(factories.CityOfficerFactory())
    body = page(client, filing)
    assert 'id="id_lab_area_previous"' in body and "data-copy-to" not in body


def test_the_live_preview_takes_its_rules_from_the_checks_and_the_model(logged_in, new_filing):
    body = page(logged_in, new_filing)
    rendered = re.findall(r'data-split="(\w+)" data-sum-whole="(\w+)" data-sum-parts="([\w ]+)"', body)
    assert rendered == [(code, whole, " ".join(parts)) for code, whole, parts, _ in SPLITS]
    flags = set(re.findall(r'data-derived="(\w+)" data-derived-source="(\w+)" data-derived-comparison="([^"]+)" '
                           r'data-derived-threshold="(\w+)"', body))
    assert flags == {(name, source, comparison.replace(">", "&gt;").replace("<", "&lt;"), str(threshold))
                     for name, _, source, comparison, threshold in FilingStatistics.DERIVED_FLAGS}
    assert "static/js/statistics_form.js" in body or "js/statistics_form" in body
