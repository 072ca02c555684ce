"""City completeness dashboard, late-filer list and its workbook, and the chasing log."""
import datetime
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from filings import services as filing_services
from filings.models import Filing
from filings.progress import filing_progress_by_city
from review.models import ChasingRecord
from tests import factories

from .conftest import due

pytestmark = pytest.mark.django_db
S = Filing.Status


@pytest.fixture
def population(year, submit, province_reviewer):
    """长沙: 2 not started, 1 draft, 1 submitted, 1 in review, 1 returned, 1 approved;
    株洲: 1 approved, 1 not started."""
    changsha, zhuzhou = factories.region("430100"), factories.region("430200")
    for i in range(2):
        factories.InstitutionFactory(
            name=f"长沙未开始{i}", city=changsha, contact_person="王联系", contact_phone="0731-1234567"
        )
    factories.make_filing(factories.filing_ready_institution(name="长沙草稿", city=changsha), year=year)
    submit(name="长沙已提交")
    filing_services.start_review(submit(name="长沙审核中"), actor=province_reviewer)
    returned = filing_services.start_review(submit(name="长沙已退回", contact_phone="=HYPERLINK(\"x\")"),
                                            actor=province_reviewer)
    filing_services.return_filing(returned, actor=province_reviewer, expected_version=returned.version,
                                  comment="请更正", due=due())
    for name, city in (("长沙已通过", "430100"), ("株洲已通过", "430200")):
        filing = filing_services.start_review(submit(name=name, city=city), actor=province_reviewer)
        filing_services.approve_filing(filing, actor=province_reviewer, expected_version=filing.version)
    factories.InstitutionFactory(name="株洲未开始", city=zhuzhou)
    return {"changsha": changsha, "zhuzhou": zhuzhou}


def row(response, city):
    return next(r for r in response.context["rows"] if r["city_id"] == city.pk)


def test_city_officer_sees_counts_and_shares_of_own_city_only(population, client, year):
    client.force_login(factories.CityOfficerFactory())
    response = client.get(reverse("review:progress"))
    assert response.status_code == 200
    assert [r["city"] for r in response.context["rows"]] == ["长沙市"]
    changsha = row(response, population["changsha"])
    counts = {state: changsha[state] for state in
              ("total", "not_started", "draft", "submitted", "in_review", "returned", "approved")}
    assert counts == {"total": 7, "not_started": 2, "draft": 1, "submitted": 1, "in_review": 1, "returned": 1,
                      "approved": 1}
    assert round(changsha["shares"]["not_started"], 1) == round(2 / 7 * 100, 1)
    assert round(changsha["completion"], 1) == round(3 / 7 * 100, 1)
    assert response.context["days_left"] == (timezone.localtime(year.closes_at).date() - timezone.localdate()).days
    assert "ranking" not in response.content.decode()


def test_province_sees_all_its_cities_ranked_by_completion_and_figures_equal_the_workbook(population, client, year,
                                                                                         province_reviewer):
    client.force_login(province_reviewer)
    response = client.get(reverse("review:progress"))
    cities = [r["city"] for r in response.context["rows"]]
    assert cities == ["长沙市", "株洲市"]
    assert [r["city"] for r in response.context["ranked"]] == ["株洲市", "长沙市"]  # 1/2 = 50% beats 3/7
    assert 'data-testid="ranking"' in response.content.decode()
    from accounts.scoping import visible_to
    from institutions.models import Institution

    workbook_rows = filing_progress_by_city(visible_to(province_reviewer, Institution), year)
    for page_row, sheet_row in zip(response.context["rows"], workbook_rows, strict=True):
        assert {k: page_row[k] for k in sheet_row} == sheet_row


def test_filers_cannot_see_progress(population, client):
    client.force_login(factories.FilerFactory())
    assert client.get(reverse("review:progress")).status_code == 403
    assert client.get(reverse("review:late_filers")).status_code == 403


def test_late_filers_are_the_not_submitted_and_returned_with_contacts(population, client):
    client.force_login(factories.CityOfficerFactory())
    response = client.get(reverse("review:late_filers"))
    listed = {i.name: i for i in response.context["page"]}
    assert set(listed) == {"长沙未开始0", "长沙未开始1", "长沙草稿", "长沙已退回"}
    assert listed["长沙已退回"].filing_status == S.RETURNED
    assert listed["长沙未开始0"].filing_status is None
    assert "王联系" in response.content.decode() and "0731-1234567" in response.content.decode()


def test_late_filer_page_issues_the_same_number_of_queries_for_few_and_many_rows(year, client):
    officer = factories.CityOfficerFactory()
    client.force_login(officer)
    factories.InstitutionFactory(name="未开始A")

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("review:late_filers"))
        return len(queries), len(response.context["page"].object_list)

    few, rows = count()
    for i in range(4):
        institution = factories.InstitutionFactory(name=f"未开始{i}")
        ChasingRecord.objects.create(institution=institution, year=year.year, channel="phone", note="已电话")
    factories.make_filing(factories.filing_ready_institution(name="草稿B"), year=year)
    many, more_rows = count()
    assert (rows, more_rows) == (1, 6)
    assert few == many


def test_late_filer_list_exports_to_xlsx_with_formula_safe_cells(population, client):
    client.force_login(factories.CityOfficerFactory())
    response = client.get(reverse("review:late_filers_export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[1]
    assert header[:4] == ("市州", "机构名称", "统一社会信用代码", "填报状态")
    body = {r[1]: r for r in rows[2:]}
    assert set(body) == {"长沙未开始0", "长沙未开始1", "长沙草稿", "长沙已退回"}
    assert body["长沙未开始0"][3] == "未开始" and body["长沙未开始0"][5] == "王联系"
    assert body["长沙已退回"][3] == "已退回"
    assert body["长沙已退回"][6] == '=HYPERLINK("x")'
    cell = next(c for c in sheet.iter_rows(min_row=3) if c[1].value == "长沙已退回")[6]
    assert cell.data_type == "s"


def test_officer_adds_and_views_chasing_records(population, client, year):
    officer = factories.CityOfficerFactory(first_name="李科长")
    institution = factories.region("430100").institutions.get(name="长沙草稿")
    client.force_login(officer)
    url = reverse("review:chasing", args=[institution.pk])
    response = client.post(url, {"contacted_on": timezone.localdate().isoformat(), "channel": "phone",
                                 "note": "已电话督促，承诺本周提交。"})
    assert response.status_code == 302
    record = ChasingRecord.objects.get(institution=institution)
    assert (record.year, record.recorded_by, record.channel) == (year.year, officer, "phone")
    page = client.get(url).content.decode()
    assert "已电话督促，承诺本周提交。" in page and "李科长" in page


def test_chasing_record_with_bad_input_is_refused_and_nothing_saved(population, client):
    institution = factories.region("430100").institutions.get(name="长沙草稿")
    client.force_login(factories.CityOfficerFactory())
    url = reverse("review:chasing", args=[institution.pk])
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = client.post(url, {"contacted_on": tomorrow, "channel": "phone", "note": "x"})
    assert "联系日期不能晚于今天" in response.content.decode()
    response = client.post(url, {"contacted_on": timezone.localdate().isoformat(), "channel": "fax", "note": ""})
    assert response.status_code == 200 and not ChasingRecord.objects.exists()


def test_officer_of_another_city_cannot_see_or_log_an_institutions_chasing(population, client):
    institution = factories.region("430100").institutions.get(name="长沙草稿")
    client.force_login(factories.CityOfficerFactory(region=population["zhuzhou"]))
    url = reverse("review:chasing", args=[institution.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"contacted_on": timezone.localdate().isoformat(), "channel": "phone",
                             "note": "x"}).status_code == 404
    assert not ChasingRecord.objects.exists()


def test_progress_page_issues_the_same_number_of_queries_for_few_and_many_cities(year, client, province_reviewer):
    client.force_login(province_reviewer)
    factories.InstitutionFactory(name="长沙一")

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("review:progress"))
        return len(queries), len(response.context["rows"])

    few, cities = count()
    for code in ("430200", "430300", "430400"):
        factories.InstitutionFactory(city=factories.region(code))
        factories.make_filing(factories.filing_ready_institution(city=factories.region(code)), year=year)
    many, more_cities = count()
    assert (cities, more_cities) == (1, 4)
    assert few == many


def test_chasing_page_issues_the_same_number_of_queries_for_few_and_many_records(year, client):
    officer = factories.CityOfficerFactory()
    institution = factories.InstitutionFactory()
    client.force_login(officer)
    url = reverse("review:chasing", args=[institution.pk])

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        return len(queries), len(response.context["records"])

    ChasingRecord.objects.create(
        institution=institution, year=year.year, channel="phone", note="一", recorded_by=officer
    )
    few, rows = count()
    for i in range(4):
        ChasingRecord.objects.create(institution=institution, year=year.year, channel="sms", note=f"{i}",
                                     recorded_by=factories.CityOfficerFactory())
    many, more_rows = count()
    assert (rows, more_rows) == (1, 5)
    assert few == many


def test_samr_sees_the_nation_per_province_and_each_province_per_city(population, client, year):
    wuhan = factories.region("420100")
    factories.InstitutionFactory(name="武汉未开始", city=wuhan)
    client.force_login(factories.SamrReviewerFactory())
    response = client.get(reverse("review:progress"), {"year": year.year})
    rows = {r["city"]: r for r in response.context["rows"]}
    assert list(rows) == ["湖北省", "湖南省"] and response.context["by_province"]
    hunan = rows["湖南省"]
    assert (hunan["total"], hunan["approved"], hunan["not_started"], hunan["handed_in"]) == (9, 2, 3, 4)
    assert (rows["湖北省"]["total"], rows["湖北省"]["handed_in_rate"]) == (1, 0)
    page = response.content.decode()
    assert "省份提交率排名" in page and "市州提交率排名" not in page
    assert f"?year={year.year}&province=430000" in page  # a province opens per city
    # The province's own view is per city, with the same totals.
    by_city = client.get(reverse("review:progress"), {"year": year.year, "province": "430000"})
    assert [r["city"] for r in by_city.context["rows"]] == ["长沙市", "株洲市"]
    assert by_city.context["totals"]["handed_in"] == hunan["handed_in"]
