"""A filer fills the three parts, sees an error and a warning, explains the warning, submits, downloads the receipt."""
import subprocess

import pytest
from playwright.sync_api import expect

from filings.models import Filing
from tests import factories
from tests.e2e.conftest import assert_accessible
from tests.factories import COMPLETE_ANNUAL_REPORT, COMPLETE_SR_REPORT, COMPLETE_STATISTICS

pytestmark = pytest.mark.e2e


def test_filer_files_the_year(page, login, transactional_db, tmp_path):
    institution = factories.filing_ready_institution(name="湖南湘江检验检测有限公司")
    factories.NationalCentreFactory(lead_institution=institution, name="国家工程机械质量检验检测中心（湖南）")
    filer = factories.FilerFactory(institution=institution)
    factories.ReportingYearFactory(year=2025)
    login(filer.username)
    page.get_by_role("link", name="开始填报").click()
    assert_accessible(page)
    page.get_by_role("link", name="填写 / 继续填写").click()
    assert_accessible(page)

    # Statistics with a split that does not add up (error) and reports without revenue (warning).
    values = {**COMPLETE_STATISTICS, "staff_master": 9, "revenue": 0}
    for name, value in values.items():
        page.fill(f"#id_{name}", str(value))
    page.get_by_role("button", name="保存并下一步").click()
    assert_accessible(page)
    for name, text in COMPLETE_ANNUAL_REPORT.items():
        page.fill(f"#id_{name}", text)
    page.get_by_role("button", name="保存并下一步").click()
    expect(page.get_by_test_id("steps").locator(".active")).to_contain_text("社会责任报告：国家工程机械")
    assert_accessible(page)
    for name, value in {**COMPLETE_SR_REPORT, "cma_certificate_number": institution.cma_certificates.first().number,
                        "contribution": "服务工程机械产业。"}.items():
        page.fill(f"#id_{name}", str(value))
    page.get_by_role("button", name="保存并下一步").click()

    expect(page.get_by_test_id("errors")).to_contain_text("E102")
    expect(page.get_by_role("button", name="提交审核")).to_be_disabled()
    expect(page.get_by_test_id("explanations")).to_contain_text("W211")
    assert_accessible(page)

    page.get_by_role("link", name="1. 统计调查数据").click()
    expect(page.get_by_test_id("findings")).to_contain_text("【E102】")
    assert_accessible(page)  # a page showing its errors
    page.fill("#id_staff_master", "8")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_text("已保存草稿。")).to_be_visible()
    page.get_by_role("link", name="4. 校验与提交").click()
    expect(page.get_by_test_id("errors")).to_contain_text("没有错误")
    page.fill("#id_explain_W211", "本年度全部为政府委托免费检测，无营业收入。")
    page.get_by_role("button", name="提交审核").click()
    page.get_by_role("dialog").get_by_role("button", name="确认提交").click()
    expect(page.get_by_test_id("filing-status")).to_have_text("已提交")
    assert_accessible(page)

    with page.expect_download() as download_info:
        page.get_by_test_id("receipt-link").click()
    receipt = tmp_path / "receipt.pdf"
    download_info.value.save_as(receipt)
    text = subprocess.run(["pdftotext", str(receipt), "-"], capture_output=True, text=True).stdout
    assert "湖南湘江检验检测有限公司" in text and "提交回执" in text
    assert Filing.objects.get(institution=institution).status == "submitted"
