"""A reviewer returns a filing with a comment on one field; the filer sees it beside the field, corrects and
resubmits; the reviewer approves."""
import pytest
from playwright.sync_api import expect

from filings import services as filing_services
from filings.models import Filing
from tests import factories
from tests.e2e.conftest import assert_accessible, log_in, open_page

pytestmark = pytest.mark.e2e


def signed_in(browser, live_server, username):
    context, page = open_page(browser, live_server)
    log_in(page, username)
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
    # Opening the screen changes nothing; the reviewer starts the review with a button.
    expect(page.get_by_test_id("filing-status")).to_have_text("已提交")
    assert_accessible(page)
    page.get_by_role("button", name="开始审核").click()
    expect(page.get_by_test_id("filing-status")).to_have_text("审核中")
    form = page.get_by_test_id("return-form")
    form.get_by_label("退回意见").fill("营业收入与出具报告数不匹配，请核实。")
    form.get_by_text("针对字段的意见").click()
    form.get_by_label("字段 1", exact=True).select_option(label="统计调查数据 · 营业收入（万元）")
    form.get_by_label("对字段 1 的意见").fill("请按财务报表填写营业收入。")
    form.get_by_role("button", name="退回更正").click()
    page.get_by_role("dialog").get_by_role("button", name="确认退回更正").click()
    # Back in the queue, which the filing has left.
    expect(page.get_by_role("alert")).to_contain_text("已退回“湖南湘江检验检测有限公司”的填报")
    expect(page.get_by_test_id("queue-table")).to_contain_text("没有待审核的填报")
    page.goto(f"/review/filings/{filing.pk}/")
    expect(page.get_by_test_id("filing-status")).to_have_text("已退回")
    page.get_by_role("tab", name="记录").click()
    expect(page.get_by_test_id("timeline")).to_contain_text("请按财务报表填写营业收入。")
    assert_accessible(page)
    context.close()

    # The filer is told on the home page, sees the comment beside the field, corrects and resubmits.
    context, page = signed_in(browser, live_server, filer.username)
    page.get_by_test_id("notifications").get_by_role("link").first.click()
    expect(page.get_by_test_id("review-comments")).to_contain_text("营业收入与出具报告数不匹配")
    page.get_by_role("link", name="按意见修改").click()
    expect(page.locator("#id_revenue_helptext")).to_contain_text("审核意见：请按财务报表填写营业收入。")
    assert_accessible(page)
    page.fill("#id_revenue", "1260.5")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_text("已保存草稿。")).to_be_visible()
    page.get_by_role("link", name="校验与提交").click()
    page.get_by_role("button", name="提交审核").click()
    page.get_by_role("dialog").get_by_role("button", name="确认提交").click()
    expect(page.get_by_test_id("filing-status")).to_have_text("已提交")
    context.close()

    # The reviewer sees the change from the previous submission and approves.
    context, page = signed_in(browser, live_server, reviewer.username)
    page.goto(f"/review/filings/{filing.pk}/")
    page.get_by_role("tab", name="与上次提交比较").click()
    changes = page.get_by_test_id("comparison-1")
    for text in ("营业收入（万元）", "860.5", "1260.5"):
        expect(changes).to_contain_text(text)
    expect(page.get_by_test_id("filing-status")).to_have_text("已提交")
    page.get_by_role("button", name="开始审核").click()
    expect(page.get_by_test_id("filing-status")).to_have_text("审核中")
    page.get_by_role("button", name="审核通过").click()
    page.get_by_role("dialog").get_by_role("button", name="确认审核通过").click()
    expect(page).to_have_url(f"/review/?after={filing.pk}")
    context.close()

    filing = Filing.objects.get(pk=filing.pk)
    assert filing.status == Filing.Status.APPROVED
    assert str(filing.statistics.revenue) == "1260.50"
    assert list(filing.transitions.values_list("action", flat=True)) == [
        "submit", "start_review", "return_for_correction", "submit", "start_review", "approve"]
