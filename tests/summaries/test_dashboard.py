"""The dashboard: headline figures of the user's scope and a year, equal to the 年度汇总 workbook's for the same
scope."""
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from tests.summaries.conftest import build, statistics_of, table


def _figures(response):
    body = response.content.decode()
    raw = body.split('id="dashboard-figures" type="application/json">')[1].split("</script>")[0]
    return json.loads(raw)


@pytest.mark.django_db
def test_province_dashboard_counts_the_approved_filings_of_the_year(client, population):
    client.force_login(factories.ProvincialReviewerFactory())
    response = client.get(reverse("summaries:dashboard"), {"year": 2025})
    figures = _figures(response)
    assert figures["institution_total"] == 7  # registered in Hunan, whatever their filing
    assert dict(figures["filing_states"]) == {
        "未开始": 1, "草稿": 1, "已提交": 1, "审核中": 1, "已退回": 1, "审核通过": 2,
    }
    # handed in: b, c and the approved a, d; not: e (draft), f (returned) and h (no filing)
    assert figures["handed_in"] == {"handed_in": 4, "not_handed_in": 3, "rate_pct": round(4 / 7 * 100, 1)}
    revenue = {key: float(statistics_of(key)["revenue"]) for key in "ad"}
    assert figures["area_label"] == "市州"
    assert figures["by_area"] == [["长沙市", 1, revenue["a"]], ["株洲市", 1, revenue["d"]]]
    assert dict(figures["top_fields"]) == {"水质": 2, "食品及食品接触材料": 1}
    assert dict(figures["by_nature"]) == {"企业": 1, "事业单位": 1, "其他（机关、社会团体等）": 0}
    institutions = next(row for row in figures["year_on_year"] if row["key"] == "institutions")
    assert (institutions["current"], institutions["previous"]) == (2, 3)
    assert "仅计入审核通过的填报" in response.content.decode()


@pytest.mark.django_db
def test_including_submitted_filings_changes_the_dashboard_as_it_says(client, population):
    client.force_login(factories.ProvincialReviewerFactory())
    response = client.get(reverse("summaries:dashboard"), {"year": 2025, "include_submitted": "1"})
    figures = _figures(response)
    assert [row[:2] for row in figures["by_area"]] == [["长沙市", 3], ["株洲市", 1]]
    assert figures["by_area"][0][2] == float(sum(statistics_of(key)["revenue"] for key in "abc"))
    assert "审核通过、审核中和已提交" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("include_submitted", [False, True])
@pytest.mark.parametrize("role, region_code", [("provincial", "430000"), ("samr", "000000"), ("city", "430100")])
def test_every_dashboard_figure_equals_the_workbooks(client, population, include_submitted, role, region_code):
    user = {
        "provincial": factories.ProvincialReviewerFactory,
        "samr": factories.SamrReviewerFactory,
        "city": factories.CityOfficerFactory,
    }[role]()
    region = factories.region(region_code)
    client.force_login(user)
    params = {"year": 2025, "region": region.pk, **({"include_submitted": "1"} if include_submitted else {})}
    figures = _figures(client.get(reverse("summaries:dashboard"), params))
    workbook = build(user, region_code, include_submitted=include_submitted)

    progress = table(workbook, "填报进度")[2]["合计"]
    assert [count for _label, count in figures["filing_states"]] == list(progress[2:8])
    # The nation per province (its own sheet), a province or a city per city.
    sheet = "按省份" if region_code == "000000" else "按市州"
    assert figures["area_label"] == sheet.removeprefix("按")
    by_area = {label: row for label, row in table(workbook, sheet)[2].items() if label != "合计"}
    assert [(label, n, Decimal(str(revenue))) for label, n, revenue in figures["by_area"]] == [
        (label, row[1], Decimal(str(row[3]))) for label, row in by_area.items()
    ]
    if region_code == "000000":
        assert list(by_area) == ["湖北省", "湖南省"]
        assert table(workbook, "按省份")[2]["合计"] == table(workbook, "按市州")[2]["合计"]
    fields = table(workbook, "按专业领域")[2]
    assert figures["top_fields"] and all(fields[label][1] == n for label, n in figures["top_fields"])
    assert dict(figures["by_nature"]) == {
        label: row[1] for label, row in table(workbook, "按机构性质")[2].items() if label != "合计"
    }
    assert dict(figures["by_ownership"]) == {
        label: row[1] for label, row in table(workbook, "按所有制")[2].items() if label != "合计"
    }
    overview = list(table(workbook, "总体情况")[2].values())
    for row in figures["year_on_year"]:
        sheet_row = next(r for r in overview if r[0].removeprefix("其中：") == row["label"] and r[1] == row["unit"])
        # 同口径 in columns 3–6, 全部机构 in 7–9 (tests/summaries/test_year_on_year.py checks the numbers themselves)
        for name, column in (("same_current", 2), ("same_previous", 3), ("current", 6), ("previous", 7)):
            assert Decimal(str(row[name])) == Decimal(str(sheet_row[column])), (row["key"], name)
        assert row["same_change"] == pytest.approx(sheet_row[5])
        assert row["change"] == pytest.approx(sheet_row[8])


@pytest.mark.django_db
def test_the_dashboard_issues_the_same_queries_whatever_the_number_of_institutions(client, population):
    client.force_login(factories.ProvincialReviewerFactory())

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("summaries:dashboard"), {"year": 2025}).status_code == 200
        return len(queries)

    before = count()
    year = factories.ReportingYearFactory(year=2025)
    for _ in range(5):
        factories.make_filing(
            factories.InstitutionFactory(city=factories.region("430300")), year=year, status="approved"
        )
    assert count() == before


@pytest.mark.django_db
def test_city_officer_cannot_look_at_another_city(client, population):
    client.force_login(factories.CityOfficerFactory(region=factories.region("430100")))
    response = client.get(reverse("summaries:dashboard"), {"region": factories.region("430200").pk, "year": 2025})
    assert response.context["region"].name == "长沙市"
    assert _figures(response)["institution_total"] == 4


@pytest.mark.django_db
def test_samr_dashboard_defaults_to_the_nation_and_the_current_year(client, population):
    client.force_login(factories.SamrReviewerFactory())
    response = client.get(reverse("summaries:dashboard"), {"year": "not-a-year"})
    assert response.context["region"].name == "全国" and response.context["year"] == 2025
    assert _figures(response)["institution_total"] == 8


@pytest.mark.django_db
def test_without_a_reporting_year_only_the_register_is_shown(client, two_provinces):
    client.force_login(two_provinces["users"]["admin"])
    response = client.get(reverse("summaries:dashboard"))
    assert "尚未设立统计年度" in response.content.decode()
    assert _figures(response)["institution_total"] == 4 and _figures(response)["by_area"] == []


@pytest.mark.django_db
def test_filer_has_no_dashboard(client, two_provinces):
    client.force_login(two_provinces["users"]["filer"])
    assert client.get(reverse("summaries:dashboard")).status_code == 403


@pytest.mark.django_db
def test_dashboard_serves_echarts_locally(client, population):
    client.force_login(factories.AdminFactory())
    body = client.get(reverse("summaries:dashboard")).content.decode()
    assert "/static/vendor/echarts/echarts.min.js" in body and "cdn" not in body.lower()


@pytest.mark.django_db
def test_dashboard_links_to_the_export_of_the_same_figures(client, population):
    client.force_login(factories.ProvincialReviewerFactory())
    response = client.get(reverse("summaries:dashboard"), {"year": 2025, "include_submitted": "1"})
    region = factories.region("430000")
    link = f'{reverse("summaries:exports")}?kind=summary&amp;region={region.pk}&amp;year=2025&amp;include_submitted=1'
    assert link in response.content.decode()
    form = client.get(link.replace("&amp;", "&")).context["form"]
    chosen = (form["kind"].value(), str(form["region"].value()), str(form["year"].value()))
    assert chosen == ("summary", str(region.pk), "2025")
    assert form["include_submitted"].value()
