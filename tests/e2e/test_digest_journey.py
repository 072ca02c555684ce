"""待办摘要 and 催报情况 (issue 14 §5): the Changsha officer opens the digest from the home page and e-mails it to
themselves; the province's reviewer opens 各市州催报情况 from theirs and sees the lagging city flagged 落后."""
import pytest
from django.core import mail
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import assert_accessible

pytestmark = pytest.mark.e2e


def test_officer_reads_and_mails_the_digest_province_sees_the_lagging_city(page, login, transactional_db):
    changsha, zhuzhou = factories.region("430100"), factories.region("430200")
    year = factories.ReportingYearFactory()  # closes in 30 days: inside the warning window
    factories.InstitutionFactory(name="长沙岳麓未交检测有限公司", city=changsha)
    for _ in range(2):
        factories.make_filing(factories.InstitutionFactory(city=zhuzhou), year=year, status="submitted")
    officer = factories.CityOfficerFactory(region=changsha, email="cs-officer@example.cn")
    reviewer = factories.ProvincialReviewerFactory(region=factories.region("430000"))

    login(officer.username)
    page.get_by_test_id("digest-link").click()
    expect(page.get_by_role("heading", name="待办摘要 · 长沙市")).to_be_visible()
    late = page.locator('[data-section="late_filers"]')
    expect(late).to_contain_text("长沙岳麓未交检测有限公司")
    expect(late.get_by_test_id("digest-count")).to_have_text("1 项")
    assert_accessible(page)
    page.get_by_test_id("digest-send").click()
    expect(page.get_by_text("待办摘要已发送至 cs-officer@example.cn。")).to_be_visible()
    assert mail.outbox[-1].to == ["cs-officer@example.cn"] and "长沙岳麓未交检测有限公司" in mail.outbox[-1].body
    page.get_by_test_id("digest-unsubscribe").click()
    expect(page.get_by_test_id("digest-subscription")).to_contain_text("已退订")
    assert_accessible(page)

    page.context.clear_cookies()
    login(reviewer.username)
    page.get_by_test_id("chasing-activity-link").click()
    expect(page.get_by_role("heading", name=f"{year}各市州催报情况 · 湖南省")).to_be_visible()
    expect(page.get_by_test_id("lag-warning")).to_contain_text("长沙市的提交率落后全省")
    row = page.locator('tr[data-city="430100"]')
    expect(row.get_by_test_id("lagging")).to_have_text("落后")
    expect(page.locator('tr[data-city="430200"]').get_by_test_id("lagging")).to_have_count(0)
    assert_accessible(page)
