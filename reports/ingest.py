"""Reading an uploaded report-number file line by line without holding it in memory, and checking each line.

Text files (TXT, CSV: one number per line, CSV's first column) are UTF-8 with or without BOM, or GBK; the encoding is
detected by a first streaming pass and anything else is refused. XLSX files are read from their only worksheet's first
column (an optional header row is skipped), after checking the archive is not a zip bomb. JSON (from the LIMS API) is
a list of strings, at most a few megabytes.

`read_records(path, kind)` yields each accepted number (a string) and, for each rejected non-empty line, a `Record`
with its line number, trimmed text and the reason. Whole-file problems raise `FileRefused` with a message for the user.
"""
import codecs
import csv
import json
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

MAX_BYTES = 100 * 1024 * 1024
MAX_LINES = 2_000_000
MAX_LENGTH = 64
# XLSX (a zip of XML): refuse archives whose members would unpack to more than this, or that compress suspiciously well.
MAX_XLSX_UNCOMPRESSED = 1024 * 1024 * 1024
MAX_XLSX_RATIO = 100
MAX_XLSX_MEMBERS = 500
_CHUNK = 1024 * 1024
_LINE_LIMIT = 4096  # a line longer than this is read in pieces and rejected as too long

ENCODING_LABELS = {"utf-8-sig": "UTF-8（带 BOM）", "utf-8": "UTF-8", "gbk": "GBK", "xlsx": "XLSX", "json": "JSON"}

# Letters, digits, CJK ideographs and the punctuation report numbers use.
_ALLOWED = re.compile(r"[A-Za-z0-9\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\-_/.()（）〔〕\[\]#]+")
_INVISIBLE_CATEGORIES = {"Cf", "Zl", "Zp", "Co", "Cs", "Cn"}
_INVISIBLE_EXTRA = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}  # fillers that render as blanks
HEADERS = {
    "报告编号", "检验检测报告编号", "检验报告编号", "检测报告编号", "报告号", "编号", "报告编号（必填）",
    "number", "report number", "report_number", "report no", "report no.", "reportno", "report_no",
}


class FileRefused(Exception):
    """The whole file is refused (nothing is stored); the message is for the user."""


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
        head = handle.read(65536)
    is_zip = head.startswith(b"PK\x03\x04")
    if kind == "xlsx" and not is_zip:
        raise FileRefused("该文件不是有效的 XLSX 工作簿，请用 Excel 另存为 .xlsx 后重新上传。")
    if kind in ("txt", "csv") and (is_zip or b"\x00" in head):
        raise FileRefused("该文件是二进制文件，不是文本文件；TXT/CSV 请每行一个编号，Excel 工作簿请以 .xlsx 上传。")


def detect_encoding(path: Path) -> str:
    """"utf-8-sig", "utf-8" or "gbk", from one streaming pass; binary files and other encodings are refused."""
    with path.open("rb") as handle:
        bom = handle.read(3) == codecs.BOM_UTF8
    for encoding in ("utf-8-sig" if bom else "utf-8", "gbk"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    if b"\x00" in chunk:
                        raise FileRefused("该文件含有二进制内容（空字节），不是文本文件，已拒收。")
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            if bom:
                break
            continue
    raise FileRefused("无法识别文件编码：只接受 UTF-8（可带 BOM）或 GBK 编码的文本文件，请用记事本或 Excel 另存为 UTF-8 后重新上传。")


def _first_csv_field(text: str) -> str:
    if text.lstrip().startswith('"'):
        try:
            return next(csv.reader([text]), [""])[0]
        except csv.Error:
            return text
    return text.split(",", 1)[0]


def _check_xlsx_archive(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_XLSX_MEMBERS:
                raise FileRefused("该 XLSX 文件结构异常（成员过多），已拒收。")
            names = {member.filename for member in members}
            if "xl/workbook.xml" not in names:
                raise FileRefused("该文件不是有效的 XLSX 工作簿，请用 Excel 另存为 .xlsx 后重新上传。")
            total = 0
            for member in members:
                total += member.file_size
                ratio = member.file_size / max(member.compress_size, 1)
                if total > MAX_XLSX_UNCOMPRESSED or (member.file_size > 10 * 1024 * 1024 and ratio > MAX_XLSX_RATIO):
                    raise FileRefused("该 XLSX 文件解压后异常巨大（疑似“压缩炸弹”），已拒收。")
    except zipfile.BadZipFile:
        raise FileRefused("该 XLSX 文件已损坏，无法打开。")


def _xlsx_values(path: Path, progress: Callable[[float], None]) -> Iterator[tuple[int, str, int]]:
    import openpyxl

    _check_xlsx_archive(path)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for broken workbooks
        raise FileRefused(f"无法读取该 XLSX 工作簿（{exc.__class__.__name__}），请用 Excel 另存后重新上传。")
    try:
        if len(workbook.sheetnames) != 1:
            names = "、".join(workbook.sheetnames[:5])
            raise FileRefused(f"工作簿含有 {len(workbook.sheetnames)} 个工作表（{names}），请只保留一个工作表，编号放在第一列。")
        sheet = workbook[workbook.sheetnames[0]]
        total_rows = sheet.max_row or 0
        for number, row in enumerate(sheet.iter_rows(min_col=1, max_col=1, values_only=True), start=1):
            if number > MAX_LINES:
                raise FileRefused(f"工作表超过 {MAX_LINES:,} 行，请分成几个文件上传。")
            if number % 65536 == 0 and total_rows:
                progress(number / total_rows)
            value = row[0] if row else None
            if value is None:
                continue
            if isinstance(value, bool):
                text = str(value)
            elif isinstance(value, int):
                text = str(value)
            elif isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
                text = str(int(value))
            else:
                text = str(value)
            yield number, text[:_LINE_LIMIT], len(text)
    finally:
        workbook.close()


def _json_values(path: Path) -> Iterator[tuple[int, str, int]]:
    try:
        with path.open("rb") as handle:
            data = json.load(handle)
    except (ValueError, UnicodeDecodeError):
        raise FileRefused("JSON 格式不正确。")
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
