"""Writing workbooks: openpyxl write-only sheets with Chinese headers, frozen header rows, widths and number formats.

User-typed text that a spreadsheet would read as a formula (=, +, -, @, tab, carriage return first) is written as a
quote-prefixed text cell, so that Excel and LibreOffice show it and never run it.
"""
import contextlib
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

INTEGER = "#,##0"
DECIMAL = "#,##0.00"
PERCENT = "0.0%"
TEXT = None


@dataclass(frozen=True)
class Column:
    header: str
    width: int = 14
    number_format: str | None = TEXT


class SheetWriter:
    """One write-only sheet: a title block, a header row frozen in place, then rows of plain values."""

    def __init__(self, workbook: Workbook, title: str, columns: list[Column], notes: list[str] = ()):
        self.sheet = workbook.create_sheet(title)
        self.columns = columns
        for index, column in enumerate(columns, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = column.width
        header_row = len(notes) + 1
        self.sheet.freeze_panes = f"A{header_row + 1}"
        for note in notes:
            self.sheet.append([self._styled(note, italic=True)])
        self.sheet.append([self._styled(column.header, bold=True, fill=True) for column in columns])
        # One styled cell per numeric column, reused row after row: a write-only sheet writes each row out as it is
        # appended, so the cell is free again by the next row (and no style lookup is repeated per cell).
        self._cells = [self._number_cell(column.number_format) for column in columns]
        self._plain = Cell(self.sheet)
        self.sheet._values_to_row = self._values_to_row

    def _styled(self, value, bold=False, italic=False, fill=False):
        if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
            cell = text_cell(self.sheet, value)  # a note naming a region, say, is text too
        else:
            cell = WriteOnlyCell(self.sheet, value=value)
        cell.font = Font(bold=bold, italic=italic)
        if fill:
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        return cell

    def _number_cell(self, number_format):
        if not number_format:
            return None
        cell = _ColumnCell(self.sheet)
        cell.number_format = number_format
        return cell

    def _values_to_row(self, values, row_idx):
        """Replaces openpyxl's WriteOnlyWorksheet._values_to_row (openpyxl 3.1) for this sheet: the same cells, without
        its per-cell exception and fresh cell for every styled value, which made formatted rows twice as slow to
        write. The row is written out cell by cell as this generator yields, so reusing a cell object is safe."""
        plain = self._plain
        for column, value in enumerate(values, 1):
            if value is None:
                continue
            if isinstance(value, Cell):
                cell = value
            else:
                cell = plain
                cell.value = value
            cell.column = column
            cell.row = row_idx
            yield cell

    def append(self, values, *, bold=False, number_format=None):
        """Append one row. Numbers go into their column's number format (or `number_format`, for a row whose numbers
        differ from the column's, e.g. counts in a column of amounts); text that looks like a formula is kept as
        text. `bold` marks a totals row."""
        if number_format:
            cells = [self._formatted(value, column, number_format) for value, column in zip(values, self.columns)]
            self.sheet.append(cells)
            return
        if bold:
            self.sheet.append([self._bold(value, column) for value, column in zip(values, self.columns)])
            return
        row = []
        for value, cell in zip(values, self._cells):
            if value is None:
                row.append(None)
            elif isinstance(value, str):
                row.append(text_cell(self.sheet, value) if value.startswith(FORMULA_TRIGGERS) else value)
            elif cell is not None:
                cell.value = value
                row.append(cell)
            else:
                row.append(value)
        self.sheet.append(row)

    def _formatted(self, value, column, number_format):
        if isinstance(value, str):
            return text_cell(self.sheet, value) if value.startswith(FORMULA_TRIGGERS) else value
        if value is None or not column.number_format or column.number_format == PERCENT:
            cell = WriteOnlyCell(self.sheet, value=value)
            if column.number_format and value is not None:
                cell.number_format = column.number_format
            return cell
        cell = WriteOnlyCell(self.sheet, value=value)
        cell.number_format = number_format
        return cell

    def _bold(self, value, column):
        if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
            cell = text_cell(self.sheet, value)
        else:
            cell = WriteOnlyCell(self.sheet, value=value)
            if column.number_format and not isinstance(value, str):
                cell.number_format = column.number_format
        cell.font = Font(bold=True)
        return cell


class _ColumnCell(Cell):
    """A cell whose style is set once and never changes: its style id is looked up once, not for every row."""

    __slots__ = ("_style_id",)

    @property
    def style_id(self):
        try:
            return self._style_id
        except AttributeError:
            self._style_id = Cell.style_id.fget(self)
            return self._style_id


def text_cell(sheet, value: str) -> WriteOnlyCell:
    """A cell that holds `value` as text even when it looks like a formula."""
    cell = WriteOnlyCell(sheet, value=None)
    cell.value = value
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def new_workbook() -> Workbook:
    return Workbook(write_only=True)


def discard(workbook: Workbook) -> None:
    """Finish and drop the sheets of a workbook that will not be saved, so no half-written stream or temp file lingers."""
    for sheet in workbook.worksheets:
        # Best effort: we are already unwinding from the failure that matters.
        with contextlib.suppress(Exception):
            if not sheet.closed:
                sheet.close()
            sheet._writer.cleanup()
