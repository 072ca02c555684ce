"""Reading an uploaded report-number file line by line without holding it in memory, and checking each line.

Text files (TXT, CSV: one number per line, CSV's first column) are UTF-8 with or without BOM, or GBK; the encoding is
detected by a first streaming pass and anything else (UTF-16 named as such) is refused. XLSX files are read from their
only worksheet's first column (an optional header row is skipped), after checking the archive is not a zip bomb, by
the bounded streaming reader of `config.uploads`: a cell longer than a line may be is a rejected line, never built
whole. JSON (from the LIMS API) is a list of strings, at most a few megabytes.

`read_records(path, kind)` yields each accepted number (a string) and, for each rejected non-empty line, a `Record`
with its line number, trimmed text and the reason. Whole-file problems raise `FileRefused` with a message for the user.
"""
import csv
import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from config import uploads
from config.uploads import FileRefused

MAX_BYTES = 100 * 1024 * 1024
MAX_LINES = 2_000_000
MAX_LENGTH = 64
# XLSX (a zip of XML): refuse archives whose members would unpack to more than this, or that compress suspiciously well.
MAX_XLSX_UNCOMPRESSED = 1024 * 1024 * 1024
MAX_XLSX_RATIO = 100
MAX_XLSX_MEMBERS = 500
_LINE_LIMIT = 4096  # a line (or cell) longer than this is counted, not kept, and rejected as too long
XLSX_LIMITS = uploads.XlsxLimits(
    zip=uploads.ZipLimits(max_total=MAX_XLSX_UNCOMPRESSED, max_ratio=MAX_XLSX_RATIO, max_members=MAX_XLSX_MEMBERS),
    cell_chars=_LINE_LIMIT,
    shared_bytes=128 * 1024 * 1024,  # about four million short numbers; Excel holds at most 1,048,576 rows
)

ENCODING_LABELS = {"utf-8-sig": "UTF-8（带 BOM）", "utf-8": "UTF-8", "gbk": "GBK", "xlsx": "XLSX", "json": "JSON"}

# Letters, digits, CJK ideographs and the punctuation report numbers use.
_ALLOWED = re.compile(r"[A-Za-z0-9\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\-_/.()（）〔〕\[\]#]+")
_INVISIBLE_CATEGORIES = {"Cf", "Zl", "Zp", "Co", "Cs", "Cn"}
_INVISIBLE_EXTRA = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}  # fillers that render as blanks
HEADERS = {
    "报告编号", "检验检测报告编号", "检验报告编号", "检测报告编号", "报告号", "编号", "报告编号（必填）",
    "number", "report number", "report_number", "report no", "report no.", "reportno", "report_no",
}


@dataclass(frozen=True, slots=True)
class Record:
    line: int
    text: str
    number: str | None  # the accepted number, or None when rejected
    reason: str = ""


def check_number(text: str) -> tuple[str | None, str]:
    """(number, "") for an acceptable trimmed line, else (None, reason in Chinese)."""
    if len(text) <= MAX_LENGTH and _ALLOWED.fullmatch(text):
        return text, ""
    if len(text) > MAX_LENGTH:
        return None, f"长度超过{MAX_LENGTH}个字符（共{len(text)}个）"
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc":
            return None, f"含控制字符（U+{ord(char):04X}）"
        if category in _INVISIBLE_CATEGORIES or char in _INVISIBLE_EXTRA:
            return None, f"含不可见字符（U+{ord(char):04X}）"
    for char in text:
        if not _ALLOWED.fullmatch(char):
            if char.isspace():
                return None, "含空格（编号中间不能有空格）"
            return None, f"含不允许的字符“{char}”（只允许字母、数字、汉字和 -_/.()（）〔〕[]#）"
    return None, "格式不正确"  # pragma: no cover - every failing text has a character named above


def kind_of(name: str) -> str:
    suffix = Path(name or "").suffix.lower()
    if suffix in (".txt", ".csv", ".xlsx", ".json"):
        return suffix[1:]
    if suffix in (".xls", ".et", ".wps"):
        raise FileRefused("不支持旧版 Excel（.xls）等格式，请另存为 .xlsx、.csv 或 .txt 后上传。")
    raise FileRefused("只接受 .txt、.csv（每行一个编号）或 .xlsx（第一列）文件。")


def sniff(path: Path, kind: str) -> None:
    """Cheap checks of the file's beginning, done at once when it is uploaded."""
    size = path.stat().st_size
    if size == 0:
        raise FileRefused("文件是空的。")
    if size > MAX_BYTES:
        raise FileRefused(f"文件超过 {MAX_BYTES // 1024 // 1024} MB，请分成几个文件上传。")
    with path.open("rb") as handle:
        head = uploads.read_head(handle)
        if kind == "xlsx":
            if not uploads.is_zip(head):
                raise FileRefused(uploads.NOT_XLSX)
            uploads.open_zip(handle, XLSX_LIMITS.zip).close()  # the directory only: cheap, and refuses a zip bomb now
        elif kind in ("txt", "csv"):
            uploads.refuse_binary_text(head)


def detect_encoding(path: Path) -> str:
    """"utf-8-sig", "utf-8" or "gbk", from one streaming pass; binary files and other encodings are refused."""
    with path.open("rb") as handle:
        return uploads.text_encoding(handle, fallback="gbk")


def _first_csv_field(text: str) -> str:
    if text.lstrip().startswith('"'):
        try:
            return next(csv.reader([text]), [""])[0]
        except csv.Error:
            return text
    return text.split(",", 1)[0]


def _xlsx_values(path: Path, progress: Callable[[float], None]) -> Iterator[tuple[int, str, int]]:
    with uploads.open_xlsx(path, XLSX_LIMITS) as workbook:
        names = workbook.sheet_names
        if len(names) != 1:
            listed = "、".join(uploads.excerpt(name, 31) for name in names[:5])
            raise FileRefused(f"工作簿含有 {len(names)} 个工作表（{listed}），请只保留一个工作表，编号放在第一列。")
        if not workbook.worksheets:
            raise FileRefused("工作簿中没有工作表（只有图表），请把编号放在工作表的第一列。")
        for number, cells in workbook.rows(0, columns=1, progress=progress):
            if number > MAX_LINES:
                raise FileRefused(f"工作表超过 {MAX_LINES:,} 行，请分成几个文件上传。")
            value = cells[0] if cells else None
            if value is None:
                continue
            if isinstance(value, uploads.Overlong):
                yield number, value.head, value.length
                continue
            if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
                text = str(int(value))
            else:
                text = str(value)
            yield number, text[:_LINE_LIMIT], len(text)


def _json_values(path: Path) -> Iterator[tuple[int, str, int]]:
    try:
        with path.open("rb") as handle:
            data = json.load(handle)
    except (ValueError, UnicodeDecodeError):
        raise FileRefused("JSON 格式不正确。") from None
    numbers = data.get("numbers") if isinstance(data, dict) else data
    if not isinstance(numbers, list):
        raise FileRefused("JSON 应为编号列表，或含 \"numbers\" 列表的对象。")
    if len(numbers) > MAX_LINES:
        raise FileRefused(f"一次最多提交 {MAX_LINES:,} 个编号。")
    for number, value in enumerate(numbers, start=1):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            yield number, json.dumps(value, ensure_ascii=False)[:_LINE_LIMIT], -1
            continue
        yield number, value[:_LINE_LIMIT], len(value)


def _rejection(line_number: int, trimmed: str, length: int) -> Record:
    if length > len(trimmed) and length > MAX_LENGTH:
        return Record(line_number, trimmed[:100], None, f"长度超过{MAX_LENGTH}个字符（共{length}个）")
    return Record(line_number, trimmed, None, check_number(trimmed)[1])


def _text_records(path: Path, encoding: str, progress, first_field) -> Iterator["str | Record"]:
    """The hot loop for TXT/CSV (a million lines per upload): lines are read with a length limit (a huge line is never
    held whole), trimmed, checked; accepted numbers are yielded as plain strings, rejected lines as Records."""
    size = max(path.stat().st_size, 1)
    fullmatch = _ALLOWED.fullmatch
    seen_content = False
    with path.open("rb") as raw, open(raw.fileno(), encoding=encoding, newline=None, closefd=False) as text:
        readline = text.readline
        number = 0
        while line := readline(_LINE_LIMIT):
            number += 1
            if line[-1] == "\n":
                line = line[:-1]
                length = -1
            elif len(line) == _LINE_LIMIT:  # longer than the limit: read the rest in pieces, only counting it
                length = len(line)
                while more := readline(_LINE_LIMIT):
                    if more[-1] == "\n":
                        length += len(more) - 1
                        break
                    length += len(more)
            else:
                length = -1
            if number & 0xFFFF == 0:
                if number > MAX_LINES:
                    raise FileRefused(f"文件超过 {MAX_LINES:,} 行，请分成几个文件上传。")
                progress(raw.tell() / size)
            if first_field is not None:
                line = first_field(line)
            trimmed = line.strip()
            if not trimmed:
                continue
            if not seen_content:
                seen_content = True
                if trimmed.lower() in HEADERS:
                    continue
            if length < 0 and len(trimmed) <= MAX_LENGTH and fullmatch(trimmed):
                yield trimmed
            else:
                yield _rejection(number, trimmed, length if length >= 0 else len(trimmed))
        if number > MAX_LINES:
            raise FileRefused(f"文件超过 {MAX_LINES:,} 行，请分成几个文件上传。")
    if not seen_content:
        raise FileRefused("文件中没有报告编号（没有数据行）。")


def _value_records(lines) -> Iterator["str | Record"]:
    """XLSX cells and JSON items, with the same checks."""
    seen_content = False
    for line_number, text, length in lines:
        if length < 0:
            yield Record(line_number, text, None, "不是文本（JSON 列表中应为字符串）")
            seen_content = True
            continue
        trimmed = text.strip()
        if not trimmed:
            continue
        if not seen_content:
            seen_content = True
            if trimmed.lower() in HEADERS:
                continue
        if length <= len(text) and check_number(trimmed)[0] is not None:
            yield trimmed
        else:
            yield _rejection(line_number, trimmed, length)
    if not seen_content:
        raise FileRefused("文件中没有报告编号（没有数据行）。")


def read_records(path: Path, kind: str, progress: Callable[[float], None] = lambda fraction: None):
    """(encoding, iterator): the iterator gives each accepted number as a string and each rejected non-empty line as
    a Record (line number, text, reason). It raises FileRefused if the file turns out unacceptable midway, or when it
    holds no number at all."""
    path = Path(path)
    if kind == "xlsx":
        return "xlsx", _value_records(_xlsx_values(path, progress))
    if kind == "json":
        return "json", _value_records(_json_values(path))
    encoding = detect_encoding(path)
    return encoding, _text_records(path, encoding, progress, _first_csv_field if kind == "csv" else None)
