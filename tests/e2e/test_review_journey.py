"""A reviewer returns a filing with a comment on one field; the filer sees it beside the field, corrects and
resubmits; the reviewer approves."""
import pytest

from filings import services as filing_services
from filings.models import Filing
from tests import factories

pytestmark = pytest.mark.e2e


def signed_in(browser, live_server, username):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("correct-horse-battery")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")
    return context, page


def test_reviewer_returns_with_field_comment_filer_corrects_reviewer_approves(browser, live_server, transactional_db):
    year = factories.ReportingYearFactory(year=2025)
    institution = factories.filing_ready_institution(name="湖南湘江检验检测有限公司")
    filer = factories.FilerFactory(institution=institution)
    reviewer = factories.ProvincialReviewerFactory(first_name="省局审核员")
    filing = factories.make_filing(institution, year=year)
    filing_services.submit_filing(filing, actor=filer, expected_version=filing.version)

    # The reviewer finds the filing in the queue, opens it and returns it with a comment on the revenue field.
    context, page = signed_in(browser, live_server, reviewer.username)
    page.get_by_role("link", name="审核队列").first.click()
    row = page.get_by_test_id("queue-table").get_by_role("row", name="湖南湘江检验检测有限公司")
    row.get_by_role("link", name="审核").click()
    assert page.get_by_test_id("filing-status").inner_text() == "审核中"
    form = page.get_by_test_id("return-form")
    form.get_by_label("退回意见").fill("营业收入与出具报告数不匹配，请核实。")
    form.get_by_label("字段 1", exact=True).select_option(label="统计调查数据 · 营业收入（万元）")
    form.get_by_label("对字段 1 的意见").fill("请按财务报表填写营业收入。")
    form.get_by_role("button", name="退回更正").click()
    assert page.get_by_test_id("filing-status").inner_text() == "已退回"
    assert "请按财务报表填写营业收入。" in page.get_by_test_id("timeline").inner_text()
    context.close()

    # The filer is told on the home page, sees the comment beside the field, corrects and resubmits.
    context, page = signed_in(browser, live_server, filer.username)
    page.get_by_test_id("notifications").get_by_role("link").first.click()
    assert "营业收入与出具报告数不匹配" in page.get_by_test_id("review-comments").inner_text()
    page.get_by_role("link", name="按意见修改").click()
    assert "审核意见：请按财务报表填写营业收入。" in page.locator("#id_revenue_helptext").inner_text()
    page.fill("#id_revenue", "1260.5")
    page.get_by_role("button", name="保存草稿").click()
    page.get_by_role("link", name="校验与提交").click()
    page.get_by_role("button", name="提交审核").click()
    assert page.get_by_test_id("filing-status").inner_text() == "已提交"
    context.close()

    # The reviewer sees the change from the previous submission and approves.
    context, page = signed_in(browser, live_server, reviewer.username)
    page.goto(f"/review/filings/{filing.pk}/")
    changes = page.get_by_test_id("comparison-1").inner_text()
    assert "营业收入（万元）" in changes and "860.5" in changes and "1260.5" in changes
    page.get_by_role("button", name="审核通过").click()
    page.wait_for_url("**/review/")
    context.close()

    filing = Filing.objects.get(pk=filing.pk)
    assert filing.status == Filing.Status.APPROVED
    assert str(filing.statistics.revenue) == "1260.50"
    assert list(filing.transitions.values_list("action", flat=True)) == [
        "submit", "start_review", "return_for_correction", "submit", "start_review", "approve"]
