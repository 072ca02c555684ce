"""A provincial reviewer opens the dashboard, picks a year and the counting rule, and sees every chart drawn."""
import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import assert_accessible

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
    expect(page.get_by_test_id("figure-counted")).to_have_text("2")
    # The two approved institutions were counted last year too (同口径: no change); last year counted three.
    expect(page.get_by_test_id("figure-counted-same")).to_contain_text("同口径")
    expect(page.get_by_test_id("figure-counted-same")).to_contain_text("0.0%")
    expect(page.get_by_test_id("figure-counted-all")).to_contain_text("全部机构 −33.3%")
    for chart in ("filing-states", "by-city", "top-fields", "year-on-year", "by-nature", "by-ownership"):
        expect(page.locator(f"#chart-{chart} canvas").first).to_be_attached()
    assert_accessible(page)
    page.get_by_label("包含已提交").check()
    page.get_by_role("button", name="查看").click()
    expect(page.get_by_test_id("figure-counted")).to_have_text("3")
    expect(page.get_by_test_id("dashboard-basis")).to_contain_text("审核通过、审核中和已提交")
    assert errors == []
