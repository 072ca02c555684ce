"""通知公告 in the browser: the admin publishes a notice to Hunan with an attachment, a Changsha city officer finds it
unread on the home page and opens it, and the admin's read receipts show it read."""
import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import assert_accessible, log_in, open_page

pytestmark = pytest.mark.e2e

TITLE = "关于报送2023年度检验检测统计数据的通知"


def test_admin_publishes_and_city_officer_reads(page, login, browser, live_server, transactional_db, settings,
                                                tmp_path):
    settings.MEDIA_ROOT = tmp_path
    admin = factories.AdminFactory()
    officer = factories.CityOfficerFactory(region=factories.region("430100"), first_name="长沙督办员")

    login(admin.username)
    page.get_by_test_id("nav").get_by_role("link", name="通知公告").click()
    page.get_by_role("link", name="通知管理").click()
    page.get_by_role("link", name="发布通知").click()
    assert_accessible(page)
    page.get_by_label("标题").fill(TITLE)
    page.get_by_label("发布范围").select_option(label="湖南省")
    page.get_by_label("正文").fill("各市州市场监督管理局：\n\n请于月底前完成报送。")
    page.get_by_label("附件").set_input_files(
        files=[{"name": "附件1：统计报表.pdf", "mimeType": "application/pdf", "buffer": factories.PDF_BYTES}]
    )
    page.get_by_role("button", name="发布").click()
    expect(page.get_by_role("alert")).to_contain_text(f"通知“{TITLE}”已发布")
    expect(page.get_by_test_id("manage-notices")).to_contain_text(TITLE)
    assert_accessible(page)

    context, officer_page = open_page(browser, live_server)
    try:
        log_in(officer_page, officer.username)
        panel = officer_page.get_by_test_id("home-notices")
        expect(panel).to_contain_text("1 条未读")
        panel.get_by_role("link", name=TITLE).click()
        expect(officer_page.get_by_test_id("notice-body")).to_contain_text("请于月底前完成报送")
        expect(officer_page.get_by_test_id("notice-attachments")).to_contain_text("附件1：统计报表.pdf")
        assert_accessible(officer_page)
        with officer_page.expect_download() as download:
            officer_page.get_by_role("link", name="附件1：统计报表.pdf").click()
        assert download.value.suggested_filename == "附件1：统计报表.pdf"
        officer_page.goto("/")
        expect(officer_page.get_by_test_id("home-notices")).not_to_contain_text("未读")
    finally:
        context.close()

    page.goto("/notices/manage/")
    page.get_by_role("link", name="阅读情况").click()
    expect(page.get_by_test_id("receipt-counts")).to_have_text("已读 1 / 应读 1")
    expect(page.get_by_test_id("read-officers")).to_contain_text("长沙督办员")
    assert_accessible(page)
