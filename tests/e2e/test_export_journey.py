"""A provincial reviewer starts an export, watches its progress bar finish (built by a real worker), downloads it."""
import pytest
from openpyxl import load_workbook

from tests import factories

pytestmark = [pytest.mark.e2e, pytest.mark.worker]


def test_reviewer_exports_and_downloads(page, login, transactional_db, celery_worker_process, tmp_path):
    reviewer = factories.ProvincialReviewerFactory()
    factories.InstitutionFactory(name="长沙导出检测有限公司", city=factories.region("430100"))
    factories.InstitutionFactory(name="株洲导出检测有限公司", city=factories.region("430200"))
    login(reviewer.username)
    page.get_by_role("link", name="数据导出").click()
    page.get_by_label("导出内容").select_option(label="机构名录")
    page.get_by_label("范围").select_option(label="湖南省（省级）")
    page.get_by_role("button", name="开始生成").click()
    row = page.get_by_test_id("export-table").locator("tbody tr").first
    assert "湖南省 机构名录" in row.inner_text()
    download_link = row.get_by_role("link", name="下载")
    download_link.wait_for(state="visible", timeout=60000)
    assert row.locator(".progress-bar").get_attribute("aria-valuenow") == "100" or "100%" in row.inner_text()
    with page.expect_download() as download_info:
        download_link.click()
    target = tmp_path / "export.xlsx"
    download_info.value.save_as(target)
    names = {row[0] for row in load_workbook(target)["机构名录"].iter_rows(min_row=3, values_only=True)}
    assert names == {"长沙导出检测有限公司", "株洲导出检测有限公司"}
