"""A provincial reviewer starts an export, watches its progress bar finish (built by a real worker), downloads it."""
import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import assert_accessible

pytestmark = [pytest.mark.e2e, pytest.mark.worker]


def test_reviewer_exports_and_downloads(page, login, transactional_db, celery_worker_process, tmp_path):
    reviewer = factories.ProvincialReviewerFactory()
    factories.InstitutionFactory(name="长沙导出检测有限公司", city=factories.region("430100"))
    factories.InstitutionFactory(name="株洲导出检测有限公司", city=factories.region("430200"))
    login(reviewer.username)
    page.get_by_role("link", name="数据导出").click()
    assert_accessible(page)
    page.get_by_label("导出内容").select_option(label="机构名录")
    page.get_by_label("范围").select_option(label="湖南省（省级）")
    page.get_by_role("button", name="开始生成").click()
    row = page.get_by_test_id("export-table").locator("tbody tr").first
    expect(row).to_contain_text("湖南省 机构名录")
    assert_accessible(page)
    download_link = row.get_by_role("link", name="下载")
    expect(download_link).to_be_visible(timeout=60000)
    # The meter carries the value whether the page was drawn with the job done or the poller finished it.
    expect(row.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(row.locator(".progress-bar")).to_have_text("100%")
    assert_accessible(page)
    with page.expect_download() as download_info:
        download_link.click()
    target = tmp_path / "export.xlsx"
    download_info.value.save_as(target)
    names = {row[0] for row in load_workbook(target)["机构名录"].iter_rows(min_row=3, values_only=True)}
    assert names == {"长沙导出检测有限公司", "株洲导出检测有限公司"}


def test_reviewer_builds_the_years_summary_and_downloads_it(
    page, login, transactional_db, celery_worker_process, tmp_path
):
    reviewer = factories.ProvincialReviewerFactory()
    year = factories.ReportingYearFactory(year=2025)
    approved = factories.InstitutionFactory(name="长沙汇总检测有限公司", city=factories.region("430100"))
    submitted = factories.InstitutionFactory(name="株洲汇总检测有限公司", city=factories.region("430200"))
    factories.make_filing(approved, year=year, status="approved")
    factories.make_filing(submitted, year=year, status="submitted")
    login(reviewer.username)
    page.get_by_role("link", name="数据导出").click()
    page.get_by_label("导出内容").select_option(label="机构名录")
    expect(page.get_by_label("统计年度")).to_be_hidden()  # only the summary asks for a year
    expect(page.get_by_label("包含已提交但尚未审核通过的填报")).to_be_hidden()
    page.get_by_label("导出内容").select_option(label="年度汇总")
    expect(page.get_by_label("统计年度")).to_be_visible()
    page.get_by_label("统计年度").select_option(label="2025年度")
    page.get_by_label("范围").select_option(label="湖南省（省级）")
    page.get_by_label("包含已提交但尚未审核通过的填报").check()
    page.get_by_role("button", name="开始生成").click()
    row = page.get_by_test_id("export-table").locator("tbody tr").first
    expect(row).to_contain_text("2025年度 湖南省 年度汇总（含已提交）")
    download_link = row.get_by_role("link", name="下载")
    expect(download_link).to_be_visible(timeout=90000)
    expect(row.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(row).to_contain_text("已完成")
    with page.expect_download() as download_info:
        download_link.click()
    target = tmp_path / "summary.xlsx"
    download_info.value.save_as(target)
    workbook = load_workbook(target)
    assert workbook.sheetnames[0] == "总体情况" and workbook.sheetnames[-1] == "机构明细"
    overview = {row[0]: row for row in workbook["总体情况"].iter_rows(values_only=True)}
    assert overview["机构数"][6] == 2  # 全部机构 (columns 3–6 are 同口径)
    notes = [row[0] or "" for row in workbook["总体情况"].iter_rows(max_row=4, values_only=True)]
    assert any("审核通过、审核中和已提交" in note for note in notes)
