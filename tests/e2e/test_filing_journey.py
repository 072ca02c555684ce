"""A filer fills the three parts, sees an error and a warning, explains the warning, submits, downloads the receipt."""
import subprocess

import pytest

from filings.models import Filing
from tests import factories
from tests.factories import COMPLETE_ANNUAL_REPORT, COMPLETE_STATISTICS

pytestmark = pytest.mark.e2e


def test_filer_files_the_year(page, login, transactional_db, tmp_path):
    institution = factories.filing_ready_institution(name="湖南湘江检验检测有限公司")
    factories.NationalCentreFactory(lead_institution=institution, name="国家工程机械质量检验检测中心（湖南）")
    filer = factories.FilerFactory(institution=institution)
    factories.ReportingYearFactory(year=2025)
    login(filer.username)
    page.get_by_role("link", name="开始填报").click()
    page.get_by_role("link", name="填写 / 继续填写").click()

    # Statistics with a split that does not add up (error) and reports without revenue (warning).
    values = {**COMPLETE_STATISTICS, "staff_master": 9, "revenue": 0}
    for name, value in values.items():
        page.fill(f"#id_{name}", str(value))
    page.get_by_role("button", name="保存并下一步").click()
    for name, text in COMPLETE_ANNUAL_REPORT.items():
        page.fill(f"#id_{name}", text)
    page.get_by_role("button", name="保存并下一步").click()
    assert "社会责任报告" in page.locator("h1").inner_text() or "国家工程机械" in page.content()
    for name, value in {"director_name": "张主任", "director_mobile": "13800000000",
                        "quality_manager_name": "李质量", "staff_total": "30", "contribution": "服务工程机械产业。",
                        "responsibility": "履行社会责任。"}.items():
        page.fill(f"#id_{name}", value)
    page.get_by_role("button", name="保存并下一步").click()

    errors = page.get_by_test_id("errors").inner_text()
    assert "E102" in errors
    assert page.get_by_role("button", name="提交审核").is_disabled()
    assert "W211" in page.get_by_test_id("explanations").inner_text()

    page.get_by_role("link", name="1. 统计调查数据").click()
    assert "【E102】" in page.content()
    page.fill("#id_staff_master", "8")
    page.get_by_role("button", name="保存草稿").click()
    page.get_by_role("link", name="4. 校验与提交").click()
    assert "没有错误" in page.get_by_test_id("errors").inner_text()
    page.fill("#id_explain_W211", "本年度全部为政府委托免费检测，无营业收入。")
    page.get_by_role("button", name="提交审核").click()
    assert page.get_by_test_id("filing-status").inner_text() == "已提交"

    with page.expect_download() as download_info:
        page.get_by_test_id("receipt-link").click()
    receipt = tmp_path / "receipt.pdf"
    download_info.value.save_as(receipt)
    text = subprocess.run(["pdftotext", str(receipt), "-"], capture_output=True, text=True).stdout
    assert "湖南湘江检验检测有限公司" in text and "提交回执" in text
    assert Filing.objects.get(institution=institution).status == "submitted"
