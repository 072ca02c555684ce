"""The Content-Security-Policy in the browser (ADR 0031). Every journey fails on a violation in any page it opened
(tests/e2e/conftest.py); here: that the watch sees one, that the dashboard's charts and their tooltips draw under the
policy, and that the Django admin pages the portal offers run under it."""
import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import assert_accessible, csp_violations, describe_csp_violations, log_in

pytestmark = pytest.mark.e2e

CHARTS = ("filing-states", "by-city", "top-fields", "year-on-year", "by-nature", "by-ownership")


def test_the_journeys_see_a_violation(page):
    page.goto("/accounts/login/")
    refused = page.evaluate("""() => new Promise(done => {
        document.addEventListener("securitypolicyviolation", event => done(event.violatedDirective), {once: true});
        const script = document.createElement("script");
        script.textContent = "window.injected = true";
        document.body.append(script);
    })""")
    assert refused == "script-src-elem"
    assert page.evaluate("() => window.injected === undefined")  # one more round trip: the report has arrived
    assert [violation["directive"] for violation in csp_violations] == ["script-src-elem"]
    csp_violations.clear()  # expected here; the check after each test would fail this one


def test_the_dashboard_charts_and_their_tooltips_draw_under_the_policy(page, transactional_db):
    reviewer = factories.ProvincialReviewerFactory()
    year = factories.ReportingYearFactory(year=2025)
    for city in ("430100", "430200"):
        factories.make_filing(factories.InstitutionFactory(city=factories.region(city)), year=year, status="approved")
    log_in(page, reviewer.username)
    page.goto("/summaries/dashboard/?year=2025")
    for chart in CHARTS:
        canvas = page.locator(f"#chart-{chart} canvas").first
        expect(canvas).to_be_visible()
        canvas.hover(position={"x": 120, "y": 150})  # over the plot: a tooltip opens
    assert_accessible(page)


def assert_no_violation(page):
    page.wait_for_load_state()
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    assert not csp_violations, describe_csp_violations(csp_violations)


def test_the_admin_pages_run_under_the_policy(page, transactional_db):
    admin = factories.AdminFactory()
    region = factories.region("430100")
    region.contact_name = "长沙市市场监督管理局"
    region.save()  # a history entry, so that the history page lists one
    log_in(page, admin.username)
    page.goto("/admin/")
    assert_no_violation(page)
    changelists = page.locator("#content-main th[scope=row] a").evaluate_all("links => links.map(a => a.href)")
    assert changelists
    for url in [*changelists, f"/admin/institutions/region/{region.pk}/change/",
                f"/admin/institutions/region/{region.pk}/history/"]:
        page.goto(url)
        expect(page.locator("#content")).to_be_visible()
        assert_no_violation(page)
