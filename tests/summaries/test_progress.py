"""The filing-progress table shared by the city dashboard and the workbook: counts checked against the population."""
import pytest

from accounts.scoping import visible_to
from filings.progress import filing_progress_by_city
from institutions.models import Institution
from tests import factories


@pytest.mark.django_db
def test_progress_counts_each_institution_once_by_this_years_state():
    changsha, zhuzhou = factories.region("430100"), factories.region("430200")
    year, last_year = factories.ReportingYearFactory(year=2025), factories.ReportingYearFactory(year=2024)
    a, b, c = (factories.InstitutionFactory(city=changsha) for _ in range(3))
    d = factories.InstitutionFactory(city=zhuzhou)
    factories.make_filing(a, year=year, status="submitted")
    factories.make_filing(a, year=last_year, status="approved")  # another year: does not count
    factories.make_filing(b, year=year, status="approved")
    factories.make_filing(d, year=year, status="returned")

    rows = {row["city_code"]: row for row in filing_progress_by_city(Institution.objects.all(), year)}

    assert rows["430100"] == {
        "city_id": changsha.pk, "city_code": "430100", "city": "长沙市", "province_code": "430000",
        "province": "湖南省", "total": 3, "not_started": 1,
        "draft": 0, "submitted": 1, "in_review": 0, "returned": 0, "approved": 1,
        "handed_in": 2, "not_handed_in": 1, "handed_in_rate": 2 / 3,
    }
    assert (rows["430200"]["total"], rows["430200"]["returned"], rows["430200"]["not_started"]) == (1, 1, 0)
    assert (rows["430200"]["handed_in"], rows["430200"]["not_handed_in"]) == (0, 1)  # returned: not handed in
    assert c.filings.count() == 0


@pytest.mark.django_db
def test_progress_follows_the_scope_it_is_given():
    officer = factories.CityOfficerFactory(region=factories.region("430200"))
    year = factories.ReportingYearFactory(year=2025)
    factories.InstitutionFactory(city=factories.region("430100"))
    factories.InstitutionFactory(city=factories.region("430200"))
    rows = filing_progress_by_city(visible_to(officer, Institution), year)
    assert [row["city_code"] for row in rows] == ["430200"]
