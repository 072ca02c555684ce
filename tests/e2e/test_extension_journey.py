"""延期申请 (issue 14 §3): the filer asks for an extension on the filing's overview, the Changsha officer adds a
comment from the home page's count, the province's reviewer grants it to an earlier date than asked, and the filer
sees the new deadline and the steps on the timeline."""
import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import assert_accessible

pytestmark = pytest.mark.e2e


def test_filer_asks_officer_comments_reviewer_grants_an_earlier_date(page, login, transactional_db):
    changsha, hunan = factories.region("430100"), factories.region("430000")
    lab = factories.filing_ready_institution(name="长沙岳麓延期检测有限公司", city=changsha,
                                             reviewing_authority="province")
    filer = factories.FilerFactory(institution=lab)
    officer = factories.CityOfficerFactory(region=changsha)
    reviewer = factories.ProvincialReviewerFactory(region=hunan)
    filing = factories.make_filing(lab, year=factories.ReportingYearFactory())
    asked = timezone.localtime(filing.year.closes_at + datetime.timedelta(days=20)).replace(second=0, microsecond=0)
    granted = asked - datetime.timedelta(days=10)

    login(filer.username)
    page.goto(f"/filings/{filing.pk}/")
    section = page.get_by_test_id("extension-request")
    form = section.get_by_test_id("extension-request-form")
    form.get_by_label("申请延期至").fill(asked.strftime("%Y-%m-%d %H:%M"))
    form.get_by_label("延期原因").fill("年度审计报告尚未出具。")
    form.get_by_role("button", name="提交延期申请").click()
    expect(page.get_by_text("延期申请已提交")).to_be_visible()
    expect(page.get_by_test_id("extension-request-state")).to_contain_text("待审核")
    assert_accessible(page)

    page.context.clear_cookies()
    login(officer.username)
    page.get_by_test_id("notifications").get_by_role("link", name="有 1 条延期申请待处理。").click()
    table = page.get_by_test_id("extension-request-table")
    expect(table).to_contain_text("长沙岳麓延期检测有限公司")
    assert_accessible(page)
    table.get_by_label("市州局意见").fill("情况属实，建议批准。")
    table.get_by_role("button", name="保存意见").click()
    expect(page.get_by_text("已保存对“长沙岳麓延期检测有限公司”延期申请的意见。")).to_be_visible()

    page.context.clear_cookies()
    login(reviewer.username)
    page.get_by_test_id("notifications").get_by_role("link", name="有 1 条延期申请待处理。").click()
    table = page.get_by_test_id("extension-request-table")
    expect(table.get_by_test_id("officer-comment")).to_contain_text("情况属实，建议批准。")
    assert_accessible(page)
    table.get_by_label("批准延期至").fill(granted.strftime("%Y-%m-%d %H:%M"))
    table.get_by_role("button", name="批准延期").click()
    expect(page.get_by_text("延期申请已批准")).to_be_visible()
    expect(page.get_by_text("没有待处理的延期申请。")).to_be_visible()

    page.context.clear_cookies()
    login(filer.username)
    page.goto(f"/filings/{filing.pk}/")
    expect(page.get_by_test_id("deadline-date")).to_have_text(f"延期至 {granted:%Y年}{granted.month}月{granted.day}日 "
                                                              f"{granted:%H:%M}")
    expect(page.get_by_test_id("extension-request-state")).to_contain_text("已批准")
    expect(page.get_by_test_id("timeline")).to_contain_text(f"批准延期至 {granted:%Y-%m-%d %H:%M}")
    expect(page.get_by_test_id("timeline")).to_contain_text("情况属实，建议批准。")
    assert_accessible(page)
