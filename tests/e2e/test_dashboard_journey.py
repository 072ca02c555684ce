"""A provincial reviewer opens the dashboard, picks a year and the counting rule, and sees every chart drawn."""
import pytest

from tests import factories

pytestmark = pytest.mark.e2e


def test_reviewer_reads_the_dashboard_charts(page, login, transactional_db):
    reviewer = factories.ProvincialReviewerFactory()
    year = factories.ReportingYearFactory(year=2025)
    last_year = factories.ReportingYearFactory(year=2024)
    for city, status in (("430100", "approved"), ("430100", "submitted"), ("430200", "approved")):
        institution = factories.InstitutionFactory(city=factories.region(city))
        factories.make_filing(institution, year=year, status=status)
        factories.make_filing(institution, year=last_year, status="approved")
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(reviewer.username)
    page.get_by_role("link", name="统计看板").click()
    page.get_by_label("统计年度").select_option(label="2025年度")
    page.get_by_role("button", name="查看").click()
    assert page.get_by_test_id("figure-counted").inner_text() == "2"
    assert "-33.3%" in page.get_by_test_id("figure-counted").locator("..").inner_text()
    for chart in ("filing-states", "by-city", "top-fields", "year-on-year", "by-nature", "by-ownership"):
        page.locator(f"#chart-{chart} canvas").first.wait_for(state="attached")
    page.get_by_label("包含已提交").check()
    page.get_by_role("button", name="查看").click()
    assert page.get_by_test_id("figure-counted").inner_text() == "3"
    assert "审核通过、审核中和已提交" in page.get_by_test_id("dashboard-basis").inner_text()
    assert errors == []
