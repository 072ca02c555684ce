"""A filer uploads a small GBK file with bad lines, watches the progress bar finish (a real worker ingests it),
downloads the rejected lines; then a visitor verifies one of the numbers on the public page linked from the login
page."""
import csv
import io

import pytest
from playwright.sync_api import expect

from reports.quarters import recent_quarters
from tests import factories
from tests.e2e.conftest import assert_accessible

pytestmark = [pytest.mark.e2e, pytest.mark.worker]

GBK_FILE = "\n".join([
    "报告编号",
    "湘检〔2024〕第0001号",
    "湘检〔2024〕第0002号",
    "湘检〔2024〕第0001号",
    "=HYPERLINK(\"http://example.com\",\"点我\")",
    "湘检 第0003号",
    "",
    "X" * 80,
]).encode("gbk")


def test_filer_uploads_gbk_file_and_downloads_rejected_lines(
    page, login, transactional_db, celery_worker_process, tmp_path
):
    institution = factories.InstitutionFactory(name="长沙浏览器检测有限公司", city=factories.region("430100"))
    filer = factories.FilerFactory(institution=institution)
    previous = recent_quarters(1)[0]
    source = tmp_path / "编号.txt"
    source.write_bytes(GBK_FILE)

    login(filer.username)
    page.get_by_role("link", name="报告编号上传").click()
    expect(page.get_by_label("季度")).to_have_value(previous.code)  # the previous quarter is proposed
    assert_accessible(page)
    page.get_by_label("编号文件").set_input_files(str(source))
    page.get_by_role("button", name="上传并检查").click()

    card = page.get_by_test_id("batch")
    rejects_link = card.get_by_role("link", name="下载不合格行清单")
    expect(rejects_link).to_be_visible(timeout=60000)
    expect(card.locator(".progress-bar")).to_have_text("100%")
    counts = page.get_by_test_id("batch-counts")
    expect(counts).to_be_visible()
    expect(counts.locator("[data-count=encoding]")).to_have_text("GBK")
    expect(counts.locator("[data-count=accepted]")).to_have_text("2")
    expect(counts.locator("[data-count=duplicate_in_file]")).to_have_text("1")
    expect(counts.locator("[data-count=rejected]")).to_have_text("3")
    assert_accessible(page)

    with page.expect_download() as download_info:
        rejects_link.click()
    target = tmp_path / "rejects.csv"
    download_info.value.save_as(target)
    rows = list(csv.reader(io.StringIO(target.read_bytes().decode("utf-8-sig"))))
    assert rows[0] == ["行号", "内容", "原因"]
    assert [row[0] for row in rows[1:]] == ["5", "6", "8"]
    assert rows[1][1].startswith("'=HYPERLINK")  # neutralised for spreadsheets
    assert "含空格" in rows[2][2] and "长度超过64个字符" in rows[3][2]

    # The institution's status now shows the quarter as uploaded.
    page.get_by_role("link", name="返回上传页面").click()
    expect(page.get_by_test_id("quarter-status").locator("tbody tr").first).to_contain_text("已上传")
    assert_accessible(page)

    # A member of the public checks a number, without logging in.
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_test_id("verify-link").click()
    page.get_by_label("报告编号").fill("湘检〔2024〕第0002号")
    page.get_by_role("button", name="查询").click()
    found = page.get_by_test_id("verify-found")
    expect(found).to_contain_text("长沙浏览器检测有限公司（长沙市）")
    expect(found).to_contain_text(previous.label)
    assert_accessible(page)
