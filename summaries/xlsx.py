"""Writing workbooks with XlsxWriter in constant-memory mode: Chinese headers, frozen header rows, column widths and
number formats set once per column.

Rows are streamed: each sheet's cells go to a temporary file as soon as the next row is started, and `save()`
assembles the file, so memory does not grow with the number of rows. Rows must therefore be appended in order.

User-typed text that a spreadsheet would read as a formula (=, +, -, @, tab, carriage return first) is written as a
quote-prefixed text cell, so that Excel and LibreOffice show it and never run it. Workbooks are read (uploads, tests)
with openpyxl; see docs/adr/0020-workbook-writer.md.
"""
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

import xlsxwriter

from .figures import is_whole

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

INTEGER = "#,##0"
DECIMAL = "#,##0.00"  # a whole number in such a column is shown as INTEGER (summaries.figures' rule)
PERCENT = "0.0%"
TEXT = None

HEADER_FILL = "#DDEBF7"
_NUMBERS = (int, float, Decimal)


# The writer's scratch directories under the system's temporary directory (a killed worker leaves its own behind).
SCRATCH_PREFIX = "qts-xlsx-"


@dataclass(frozen=True)
class Column:
    header: str
    width: int = 14
    number_format: str | None = TEXT


class Workbook:
    """An XLSX workbook written to `target` (a path or a binary file object) when `save()` is called. Until then
    nothing is written to `target`; `discard()` drops a workbook that will not be saved."""

    def __init__(self, target):
        self.target = target
        # The sheets' row files live here, so that a discarded workbook leaves none behind.
        self._scratch = tempfile.TemporaryDirectory(prefix=SCRATCH_PREFIX)
        self.book = xlsxwriter.Workbook(target, {
            "constant_memory": True,
            "tmpdir": self._scratch.name,
            # Only write() reads these; text is written with write_string, but no path may turn text into a formula.
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "default_date_format": "yyyy-mm-dd",
        })
        self._formats = {}

    def format(self, *, bold=False, italic=False, text=False, header=False, number_format=None):
        """The workbook's one Format object for this combination (XlsxWriter formats belong to a workbook); None for
        no style at all, so that the column's format applies."""
        key = (bold, italic, text, header, number_format)
        if not any(key):
            return None
        cell_format = self._formats.get(key)
        if cell_format is None:
            properties = {}
            if bold:
                properties["bold"] = True
            if italic:
                properties["italic"] = True
            if text:
                properties["quote_prefix"] = True
            if header:
                properties.update(pattern=1, bg_color=HEADER_FILL, align="center", valign="vcenter", text_wrap=True)
            if number_format:
                properties["num_format"] = number_format
            cell_format = self._formats[key] = self.book.add_format(properties)
        return cell_format

    def add_sheet(self, title: str):
        return self.book.add_worksheet(title)

    def save(self) -> None:
        try:
            self.book.close()
        finally:
            self._scratch.cleanup()

    def discard(self) -> None:
        """Drop the sheets of a workbook that will not be saved: their row files go, `target` is never written."""
        self._scratch.cleanup()


def new_workbook(target) -> Workbook:
    return Workbook(target)


class SheetWriter:
    """One streamed sheet: a title block, a header row frozen in place, then rows of plain values."""

    def __init__(self, workbook: Workbook, title: str, columns: list[Column], notes: list[str] = ()):
        self.workbook = workbook
        self.sheet = workbook.add_sheet(title)
        self.columns = columns
        # A column's number format is the default of every cell written into it without a format of its own.
        for index, column in enumerate(columns):
            number_format = workbook.format(number_format=column.number_format) if column.number_format else None
            self.sheet.set_column(index, index, column.width, number_format)
        self._text = workbook.format(text=True)
        self._whole = workbook.format(number_format=INTEGER)
        self._decimal_columns = {index for index, column in enumerate(columns) if column.number_format == DECIMAL}
        for row, note in enumerate(notes):
            self._write_value(row, 0, note, italic=True)
        header_row = len(notes)
        for index, column in enumerate(columns):
            self._write_value(header_row, index, column.header, bold=True, header=True)
        self.sheet.freeze_panes(header_row + 1, 0)
        self._next_row = header_row + 1

    def append(self, values, *, bold=False, number_format=None):
        """Append one row. Numbers go into their column's number format (or `number_format`, for a row whose numbers
        differ from the column's, e.g. counts in a column of amounts); text that looks like a formula is kept as
        text. `bold` marks a totals row."""
        row = self._next_row
        self._next_row += 1
        if number_format or bold:
            self._append_styled(row, values, bold=bold, number_format=number_format)
            return
        sheet = self.sheet
        for col, value in enumerate(values):
            if value is None:
                continue
            kind = value.__class__
            if kind is str:
                if not value:
                    continue
                if value.startswith(FORMULA_TRIGGERS):
                    sheet.write_string(row, col, value, self._text)
                else:
                    sheet.write_string(row, col, value)
            elif kind in _NUMBERS:
                if col in self._decimal_columns and is_whole(value):
                    sheet.write_number(row, col, value, self._whole)
                else:
                    sheet.write_number(row, col, value)  # in the column's format
            else:
                self._write_value(row, col, value)

    def _append_styled(self, row, values, *, bold, number_format):
        # A row's own number format is for rows of plain numbers (percentages and text columns keep their own);
        # such a row is not bold.
        for col, (value, column) in enumerate(zip(values, self.columns, strict=False)):
            if value is None or value == "":
                continue
            if number_format and column.number_format and column.number_format != PERCENT:
                self._write_value(row, col, value, number_format=number_format)
            else:
                self._write_value(row, col, value, bold=bold and not number_format, number_format=column.number_format)

    def _write_value(self, row, col, value, *, bold=False, italic=False, header=False, number_format=None):
        """Any value, in the given style; text (of any kind) that looks like a formula is quote-prefixed text."""
        sheet, style = self.sheet, {"bold": bold, "italic": italic, "header": header}
        if number_format == DECIMAL and isinstance(value, _NUMBERS) and is_whole(value):
            number_format = INTEGER
        if isinstance(value, bool):
            sheet.write_boolean(row, col, value, self.workbook.format(**style, number_format=number_format))
        elif isinstance(value, _NUMBERS):
            sheet.write_number(row, col, value, self.workbook.format(**style, number_format=number_format))
        elif isinstance(value, (date, time)):
            default = "yyyy-mm-dd hh:mm" if isinstance(value, datetime) else "hh:mm" if isinstance(value, time) \
                else "yyyy-mm-dd"
            sheet.write_datetime(row, col, value, self.workbook.format(**style, number_format=default))
        else:
            text = str(value)
            sheet.write_string(row, col, text, self.workbook.format(**style, text=text.startswith(FORMULA_TRIGGERS)))
