"""The review screen at 1366×768 (the common office screen): the decision stays in view beside the tabs while the
reviewer reads to the bottom of a long comparison, and the confirmation dialog works with the keyboard alone and is
skipped, not required, without JavaScript. With QTS_SCREENSHOT_DIR set, the screen is saved as review-screen.png."""
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from filings import services as filing_services
from filings.models import Filing
from tests import factories
from tests.factories import COMPLETE_STATISTICS

pytestmark = pytest.mark.e2e
OFFICE_SCREEN = {"width": 1366, "height": 768}


def filing_in_review():
    """A filing in review whose institution filed twice the figures last year (three times the revenue, no patents):
    every indicator changed, revenue fell by two thirds (explained), patents rose from zero."""
    institution = factories.filing_ready_institution(name="湖南湘江检验检测有限公司")
    filer = factories.FilerFactory(institution=institution)
    reviewer = factories.ProvincialReviewerFactory(first_name="省局审核员")
    doubled = {name: value * 2 for name, value in COMPLETE_STATISTICS.items()}
    last_year = factories.make_filing(institution, year=factories.ReportingYearFactory(year=2024), **{
        **doubled, "revenue": COMPLETE_STATISTICS["revenue"] * 3, "patents_valid": 0, "patents_invention": 0})
    last_year = filing_services.submit_filing(last_year, actor=filer, expected_version=last_year.version)
    last_year = filing_services.start_review(last_year, actor=reviewer)
    filing_services.approve_filing(last_year, actor=reviewer, expected_version=last_year.version)
    filing = factories.make_filing(institution, year=factories.ReportingYearFactory(year=2025))
    filing = filing_services.save_explanations(filing, actor=filer, expected_version=filing.version,
                                               explanations={"W202": "上年含一次性大额检测合同。"})
    filing = filing_services.submit_filing(filing, actor=filer, expected_version=filing.version)
    return filing_services.start_review(filing, actor=reviewer), reviewer


def test_the_decision_stays_in_view_at_the_bottom_of_a_long_comparison(page, login, transactional_db):
    filing, reviewer = filing_in_review()
    page.set_viewport_size(OFFICE_SCREEN)
    login(reviewer.username)
    page.goto(f"/review/filings/{filing.pk}/")
    page.get_by_role("tab", name="与上年比较").click()
    comparison = page.get_by_test_id("comparison-2")
    expect(comparison).to_be_visible()
    expect(comparison.get_by_role("columnheader", name="业务量")).to_be_visible()  # rows grouped by section

    def row(label):
        return comparison.get_by_role("row").filter(has=page.get_by_role("rowheader", name=label, exact=True))

    expect(row("营业收入（万元）")).to_contain_text("大幅减少")
    expect(row("有效专利（项）")).to_contain_text("由 0 变为非零")

    # Content and decision side by side; the comparison is longer than the window.
    decision = page.get_by_test_id("decision")
    assert decision.bounding_box()["x"] > comparison.bounding_box()["x"] + comparison.bounding_box()["width"] - 1
    assert comparison.bounding_box()["height"] > OFFICE_SCREEN["height"]
    comparison.get_by_role("row").last.scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert page.evaluate("window.scrollY") > OFFICE_SCREEN["height"] / 2
    expect(decision).to_be_in_viewport()
    expect(decision.get_by_role("button", name="审核通过")).to_be_in_viewport()

    if os.environ.get("QTS_SCREENSHOT_DIR"):
        page.evaluate("window.scrollTo(0, 0)")
        Path(os.environ["QTS_SCREENSHOT_DIR"]).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(os.environ["QTS_SCREENSHOT_DIR"]) / "review-screen.png"), animations="disabled")


def test_the_confirmation_dialog_works_with_the_keyboard(page, login, transactional_db):
    filing, reviewer = filing_in_review()
    page.set_viewport_size(OFFICE_SCREEN)
    login(reviewer.username)
    page.goto(f"/review/filings/{filing.pk}/?next=/review/%3Fq%3D%E6%B9%98%E6%B1%9F")
    approve = page.get_by_role("button", name="审核通过", exact=True)
    dialog = page.get_by_role("dialog")

    # Enter on the button asks first; Esc cancels, back on the button, and nothing was sent.
    approve.focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("审核通过后，“湖南湘江检验检测有限公司”的2025年度填报即告完成")
    expect(dialog.get_by_role("button", name="确认审核通过")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(approve).to_be_focused()
    expect(page.get_by_test_id("filing-status")).to_have_text("审核中")

    # Space on the button, Enter on 确认: approved, and back to the same filtered queue.
    page.keyboard.press("Space")
    expect(dialog.get_by_role("button", name="确认审核通过")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"/review/?q=%E6%B9%98%E6%B1%9F&after={filing.pk}")
    expect(page.get_by_role("alert")).to_contain_text("已审核通过“湖南湘江检验检测有限公司”的填报")
    assert Filing.objects.get(pk=filing.pk).status == Filing.Status.APPROVED


def test_without_javascript_the_decision_posts_directly(browser, live_server, transactional_db):
    filing, reviewer = filing_in_review()
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  java_script_enabled=False, viewport=OFFICE_SCREEN)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(reviewer.username)
    page.get_by_label("密码").fill("correct-horse-battery")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url("/")
    page.goto(f"/review/filings/{filing.pk}/")
    page.get_by_role("button", name="审核通过", exact=True).click()
    expect(page).to_have_url(f"/review/?after={filing.pk}")
    context.close()
    assert Filing.objects.get(pk=filing.pk).status == Filing.Status.APPROVED
