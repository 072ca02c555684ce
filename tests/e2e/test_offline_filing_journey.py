"""离线填报: a filer downloads the statistics template, uploads it with mistakes, reads them by cell, uploads the
corrected file and finds the figures saved on the form."""
import io
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from filings import offline
from filings.models import Filing, FilingStatistics
from tests import factories
from tests.e2e.conftest import assert_accessible

pytestmark = pytest.mark.e2e


def filled(template: bytes, **values) -> tuple[bytes, dict]:
    """The template with these 本年填报 cells set, and each field's cell reference."""
    book = load_workbook(io.BytesIO(template))
    sheet = book[offline.SHEET]
    cells = {sheet[f"G{row}"].value: f"D{row}" for row in range(1, sheet.max_row + 1) if sheet[f"G{row}"].value}
    for name, value in values.items():
        sheet[cells[name]] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), cells


def upload(page, content: bytes):
    page.set_input_files("#offline-file", files=[{
        "name": "统计调查数据.xlsx", "buffer": content,
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }])
    page.get_by_role("button", name="上传并校验").click()


def test_filer_fills_the_statistics_offline_after_fixing_the_reported_cells(page, login, transactional_db):
    institution = factories.filing_ready_institution(name="湖南离线检测有限公司")
    filer = factories.FilerFactory(institution=institution)
    filing = factories.make_filing(institution, year=factories.ReportingYearFactory(year=2025))
    factories.make_filing(institution, year=factories.ReportingYearFactory(year=2024),
                          status=Filing.Status.APPROVED, research_projects=5)
    login(filer.username)
    page.goto(f"/filings/{filing.pk}/statistics/")
    card = page.get_by_test_id("offline-card")
    expect(card.get_by_role("heading", name="离线填报")).to_be_visible()
    assert_accessible(page)
    with page.expect_download() as download:
        card.get_by_test_id("offline-download").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    template = Path(download.value.path()).read_bytes()
    sheet = load_workbook(io.BytesIO(template))[offline.SHEET]
    row = next(r for r in range(1, sheet.max_row + 1) if sheet[f"G{r}"].value == "research_projects")
    assert (sheet[f"D{row}"].value, sheet[f"E{row}"].value) == (2, 5)  # the draft, and last year's approved value

    # Mistakes: text in a count, an uncalculated formula, and parts that no longer add up to the total.
    bad, cells = filled(template, reports_total="一万二", research_projects="=2+5", staff_master=9)
    upload(page, bad)
    expect(page.get_by_text("本次上传未保存任何内容")).to_be_visible()
    problems = page.get_by_test_id("offline-problems")
    expect(problems.get_by_role("row").filter(has_text=cells["reports_total"])).to_contain_text("须为不小于 0 的整数")
    expect(problems.get_by_role("row").filter(has_text=cells["research_projects"])).to_contain_text("公式未计算出结果")
    assert_accessible(page)
    assert FilingStatistics.objects.get(filing=filing).research_projects == 2

    # The type errors fixed, the sum still wrong: the check names every cell of the split.
    bad, _ = filled(template, staff_master=9)
    upload(page, bad)
    expect(problems.get_by_role("row").filter(has_text="【E102】")).to_contain_text(cells["staff_total"])
    assert_accessible(page)

    good, _ = filled(template, research_projects=7, revenue=1234.5)
    upload(page, good)
    expect(page.get_by_text("已按上传的文件保存草稿")).to_be_visible()
    expect(page.get_by_test_id("offline-problems")).to_have_count(0)
    expect(page.locator("#id_research_projects")).to_have_value("7")
    assert_accessible(page)
    statistics = FilingStatistics.objects.get(filing=filing)
    assert (statistics.research_projects, statistics.revenue) == (7, Decimal("1234.50"))

    # The same file again is older than the save it made: refused, with the advice to download again.
    upload(page, good)
    expect(page.get_by_text("请重新下载模板")).to_be_visible()
    assert_accessible(page)
