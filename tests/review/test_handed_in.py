"""One definition of "handed in" (ADR 0012): over seed_demo's data, the 填报进度 page, the workbook's 填报进度 sheet,
the late-filer list (未提交机构) and its XLSX, the dashboard and the home-page notice give the same figures for every
city and for the province, count a returned filing (已退回) as not handed in, and name each state the same way."""
import re
from collections import Counter
from io import BytesIO

import pytest
from django.urls import reverse
from lxml import html
from openpyxl import load_workbook

from accounts.models import User
from filings.models import Filing
from institutions.models import Institution
from review.selectors import notifications_for
from tests.summaries.conftest import build, table

pytestmark = pytest.mark.django_db

YEAR = 2023
# The rule, written out here independently of filings.progress: only these states are handed in.
HANDED_IN = {"submitted", "in_review", "approved"}
LABELS = ["未开始", "草稿", "已提交", "审核中", "已退回", "审核通过"]
STATES = ["not_started", "draft", "submitted", "in_review", "returned", "approved"]


@pytest.fixture
def seeded(demo_data):
    """seed_demo's Hunan (every 2023 state, spread over the 14 cities), seeded once for every demo-data test."""
    return demo_data


@pytest.fixture
def province(seeded):
    return User.objects.get(username="province")


@pytest.fixture
def exports(settings, tmp_path, on_commit_immediately):
    settings.MEDIA_ROOT = tmp_path


def expected_by_city():
    """{city name: (total, handed in, not handed in)} straight from the tables, with the rule above."""
    totals = Counter(Institution.objects.filter(city__parent__code="430000").values_list("city__name", flat=True))
    handed = Counter(
        Filing.objects.filter(year__year=YEAR, status__in=HANDED_IN, institution__city__parent__code="430000")
        .values_list("institution__city__name", flat=True)
    )
    return {city: (total, handed[city], total - handed[city]) for city, total in totals.items()}


def page(client, user):
    client.force_login(user)
    response = client.get(reverse("review:progress"), {"year": YEAR})
    assert response.status_code == 200
    return response


def late_xlsx_rows(client, **params):
    response = client.get(reverse("review:late_filers_export"), {"year": YEAR, **params})
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    assert sheet.title == "未提交机构"  # the list's one name, as on the page
    rows = list(sheet.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row[0] == "市州")
    return rows[header], rows[header + 1:]


def test_seeded_data_has_returned_filings_in_several_cities(seeded):
    cities = set(Filing.objects.filter(year__year=YEAR, status="returned").values_list("institution__city", flat=True))
    assert len(cities) >= 3
    assert set(Filing.objects.filter(year__year=YEAR).values_list("status", flat=True)) == set(Filing.Status.values)


def test_page_sheet_and_late_list_agree_for_every_city_and_the_province(client, province, exports):
    expected = expected_by_city()
    response = page(client, province)
    rows = {row["city"]: row for row in response.context["rows"]}
    _notes, header, sheet = table(build(province, "430000", year=YEAR), "填报进度")
    column = {name: index for index, name in enumerate(header)}
    _late_header, late_rows = late_xlsx_rows(client)
    late_by_city = Counter(row[0] for row in late_rows)

    assert set(rows) == set(expected) and set(sheet) == set(expected) | {"合计"}
    for city, (total, handed_in, not_handed_in) in expected.items():
        row, cells = rows[city], sheet[city]
        assert (row["total"], row["handed_in"], row["not_handed_in"]) == (total, handed_in, not_handed_in), city
        assert row["completion"] == pytest.approx(handed_in / total * 100)
        assert cells[column["在册机构"]] == total
        assert [cells[column[label]] for label in LABELS] == [row[state] for state in STATES], city
        assert cells[column["未提交"]] == not_handed_in, city
        assert cells[column["提交率"]] == pytest.approx(handed_in / total), city
        listed = client.get(reverse("review:late_filers"), {"year": YEAR, "city": row["city_code"]})
        assert listed.context["page"].paginator.count == not_handed_in, city
        assert late_by_city[city] == not_handed_in, city

    total = sum(t for t, _, _ in expected.values())
    handed_in = sum(h for _, h, _ in expected.values())
    totals = response.context["totals"]
    assert (totals["total"], totals["handed_in"], totals["not_handed_in"]) == (total, handed_in, total - handed_in)
    assert sheet["合计"][column["未提交"]] == total - handed_in
    assert sheet["合计"][column["提交率"]] == pytest.approx(handed_in / total)
    listed = client.get(reverse("review:late_filers"), {"year": YEAR})
    assert listed.context["page"].paginator.count == total - handed_in
    assert len(late_rows) == total - handed_in

    dashboard = client.get(reverse("summaries:dashboard"), {"year": YEAR}).context["figures"]
    assert dashboard["handed_in"]["handed_in"] == handed_in
    assert dashboard["handed_in"]["not_handed_in"] == total - handed_in
    notices = [notice.text for notice in notifications_for(province)]
    assert any(f"辖区内有 {total - handed_in} 家机构尚未提交" in text for text in notices), notices


def test_a_city_officer_sees_the_same_figures_as_the_province_for_their_city(client, province):
    changsha = next(row for row in page(client, province).context["rows"] if row["city_code"] == "430100")
    officer = User.objects.get(username="city")
    own = page(client, officer).context["rows"]
    assert [row["city_code"] for row in own] == ["430100"]
    assert {key: own[0][key] for key in ("total", *STATES, "handed_in", "not_handed_in")} == {
        key: changsha[key] for key in ("total", *STATES, "handed_in", "not_handed_in")
    }
    assert client.get(reverse("review:late_filers"), {"year": YEAR}).context["page"].paginator.count == (
        changsha["not_handed_in"]
    )


def test_a_returned_filing_is_not_handed_in_on_the_page_the_sheet_or_the_list(client, province, exports):
    returned = set(
        Filing.objects.filter(year__year=YEAR, status="returned").values_list("institution__name", flat=True)
    )
    _notes, header, sheet = table(build(province, "430000", year=YEAR), "填报进度")
    column = {name: index for index, name in enumerate(header)}
    for row in page(client, province).context["rows"]:
        cells = sheet[row["city"]]
        late = row["not_started"] + row["draft"] + row["returned"]
        assert row["not_handed_in"] == late and cells[column["未提交"]] == late
        handed_in = row["submitted"] + row["in_review"] + row["approved"]
        assert cells[column["提交率"]] == pytest.approx(handed_in / row["total"])
    late_header, late_rows = late_xlsx_rows(client)
    status = {row[1]: row[late_header.index("填报状态")] for row in late_rows}
    assert returned <= set(status)
    assert {status[name] for name in returned} == {"已退回"}


def test_each_state_has_one_label_on_every_page_and_sheet(client, province, exports):
    body = html.fromstring(page(client, province).content)
    page_header = [th.text_content().strip() for th in body.xpath('//table[@data-testid="progress-table"]/thead//th')]
    assert page_header[2:8] == LABELS

    workbook = build(province, "430000", year=YEAR)
    _notes, header, _rows = table(workbook, "填报进度")
    assert list(header[2:8]) == LABELS
    _notes, detail_header, detail = table(workbook, "机构明细")
    state_column = next(i for i, name in enumerate(detail_header) if name in ("填报状态", "状态"))
    assert {row[state_column] for row in detail.values()} == set(LABELS)

    dashboard = client.get(reverse("summaries:dashboard"), {"year": YEAR}).context["figures"]
    assert [label for label, _count in dashboard["filing_states"]] == LABELS

    late_body = client.get(reverse("review:late_filers"), {"year": YEAR, "page": 1}).content.decode()
    shown = {re.split("更正截止|延期至", re.sub(r"\s+", "", td.text_content()))[0]
             for td in html.fromstring(late_body).xpath('//td[@data-testid="late-status"]')}
    assert shown and shown <= {"未开始", "草稿", "已退回"}
    late_header, late_rows = late_xlsx_rows(client)
    assert {row[late_header.index("填报状态")] for row in late_rows} == {"未开始", "草稿", "已退回"}

    not_started = Institution.objects.filter(city__code="430100").exclude(filings__year__year=YEAR).first()
    chasing = client.get(reverse("review:chasing", args=[not_started.pk]), {"year": YEAR})
    assert html.fromstring(chasing.content).xpath('//*[@data-testid="filing-status"]')[0].text_content() == "未开始"

    client.force_login(User.objects.get(username="filer"))  # the demo filer has not started this year's filing
    home = html.fromstring(client.get(reverse("home")).content)
    assert "状态：未开始" in home.xpath('//*[@data-testid="filing-card"]')[0].text_content()
