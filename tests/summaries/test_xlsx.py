"""The workbook writer (summaries.xlsx): what a reader sees in every kind of row, and no temporary files left."""
import io
import tempfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from summaries.xlsx import DECIMAL, INTEGER, PERCENT, Column, SheetWriter, new_workbook

COLUMNS = [Column("指标", 20), Column("机构数", 12, INTEGER), Column("金额", 14, DECIMAL), Column("比例", 10, PERCENT)]


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """The system temporary directory, watched: the writer's per-sheet row files go there."""
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


def written(build):
    buffer = io.BytesIO()
    workbook = new_workbook(buffer)
    sheet = SheetWriter(workbook, "汇总", COLUMNS, notes=["=说明：公式样的说明也是文字", "口径"])
    build(sheet)
    workbook.save()
    return load_workbook(buffer)["汇总"]


def test_every_kind_of_row_reads_back_with_its_values_formats_and_styles(scratch):
    def build(sheet):
        sheet.append(["机构数", 7, Decimal("1200.50"), 0.25])
        sheet.append(["=HYPERLINK(\"x\")", None, "", None])
        sheet.append(["计数", 3, 4, 0.5], number_format=INTEGER)
        sheet.append(["合计", 10, Decimal("3.5"), None], bold=True)

    sheet = written(build)
    assert sheet.freeze_panes == "A4"
    assert sheet["A1"].value.startswith("=说明") and sheet["A1"].quotePrefix and sheet["A1"].font.i
    assert [cell.value for cell in sheet[3]] == ["指标", "机构数", "金额", "比例"] and sheet["B3"].font.b
    plain, formula, counts, total = sheet[4], sheet[5], sheet[6], sheet[7]
    assert [cell.value for cell in plain] == ["机构数", 7, 1200.5, 0.25]
    assert [cell.number_format for cell in plain[1:]] == [INTEGER, DECIMAL, PERCENT]
    assert formula[0].data_type == "s" and formula[0].quotePrefix and formula[0].value == '=HYPERLINK("x")'
    assert [cell.value for cell in formula[1:]] == [None, None, None]
    # A row's own number format applies to its numbers, not to a percentage column.
    assert [cell.number_format for cell in counts[1:]] == [INTEGER, INTEGER, PERCENT]
    assert all(cell.font.b for cell in total[:3]) and total[2].number_format == DECIMAL
    assert sheet.column_dimensions["A"].width >= 20
    assert not list(scratch.iterdir())


def test_a_discarded_workbook_writes_nothing_and_leaves_no_row_files(scratch, tmp_path):
    target = tmp_path / "never.xlsx"
    workbook = new_workbook(target)
    sheet = SheetWriter(workbook, "明细", COLUMNS)
    for number in range(5000):
        sheet.append([f"机构{number}", number, Decimal(number), None])
    assert any(path.is_file() and path.stat().st_size for path in scratch.rglob("*"))  # rows on disk, not in memory
    workbook.discard()
    assert not target.exists() and not list(scratch.iterdir())
