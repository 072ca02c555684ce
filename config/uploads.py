"""Guards for uploaded files, shared by report-number uploads (reports/ingest.py) and register imports
(institutions/imports.py): what a file is by its content, whether a zip (XLSX) is safe to open, which text encoding
it is in, reading an XLSX worksheet in bounded memory whatever its cells hold, and echoing user text back visibly.

XLSX sheets and shared strings are read with expat, fed in small chunks, keeping at most `cell_chars` characters of
any cell (a longer one becomes an `Overlong` with its true length): a 200-million-character cell is counted, never
built. openpyxl is not used for reading because even in read-only mode it loads every shared string whole.
"""
import codecs
import datetime
import posixpath
import unicodedata
import zipfile
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pyexpat import ExpatError, ParserCreate
from typing import BinaryIO

from .refusals import DomainRefusal

_CHUNK = 64 * 1024
_HEAD = 64 * 1024
# Expat holds an unfinished tag, attribute or comment whole and parses it again with every chunk: one that runs on for
# this many bytes without an event is refused (legitimate tags are tiny; long text comes as events along the way).
_MAX_TOKEN = 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"


class FileRefused(DomainRefusal):
    """The whole file is refused (nothing is stored); the message is for the user."""


class UnsafeArchive(FileRefused):
    """A zip that is dangerous to unpack (a suspected zip bomb, too many members, unsafe or repeated names)."""


# --- visible text ---------------------------------------------------------------------------------------------------

_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Zs", "Co", "Cs", "Cn"})
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")  # letters that render as blanks
_PLAIN_SPACES = frozenset(" \u3000")


def visible(text: str) -> str:
    """`text` with every control, format (bidi overrides, zero-width), private-use, unassigned or blank-looking
    character written as a `\\uXXXX` escape, so that what a user sent is shown as it is and never reorders or hides
    the text around it (rejected-lines files, error messages, file names)."""
    if text.isprintable() and _FILLERS.isdisjoint(text):
        return text
    out = []
    for char in text:
        if char in _PLAIN_SPACES or (char not in _FILLERS and unicodedata.category(char) not in _INVISIBLE_CATEGORIES):
            out.append(char)
        elif ord(char) > 0xFFFF:
            out.append(f"\\U{ord(char):08x}")
        else:
            out.append(f"\\u{ord(char):04x}")
    return "".join(out)


def excerpt(text: str, limit: int = 50) -> str:
    """A short, visible quotation of user text for a message."""
    text = visible(text)
    return text if len(text) <= limit else text[:limit] + "…"


# --- what a file is -------------------------------------------------------------------------------------------------

def read_head(handle: BinaryIO, size: int = _HEAD) -> bytes:
    """The first bytes of a seekable binary file, leaving it at its start."""
    handle.seek(0)
    head = handle.read(size)
    handle.seek(0)
    return head


def is_zip(head: bytes) -> bool:
    return head.startswith(_ZIP_MAGIC)


_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"),
)


def wide_encoding(head: bytes) -> str | None:
    """"UTF-16" or "UTF-32" when the bytes are text in one of them (a byte-order mark, or NUL bytes falling in the
    pattern that ASCII characters leave in it); otherwise None."""
    for bom, name in _WIDE_BOMS:
        if head.startswith(bom):
            return name
    if b"\x00" not in head:
        return None
    length = len(head) - len(head) % 4
    if length < 4:
        return None
    nuls = [head[k:length:4].count(0) for k in range(4)]
    quads = length // 4
    # UTF-32: the top byte of every character is NUL (LE: position 3, BE: position 0), the next mostly so.
    if nuls[3] == quads and nuls[2] * 2 >= quads and nuls[0] < quads:
        return "UTF-32"
    if nuls[0] == quads and nuls[1] * 2 >= quads and nuls[3] < quads:
        return "UTF-32"
    # UTF-16: NULs (from ASCII characters and line ends) in the odd (LE) or even (BE) bytes only, but for the
    # occasional character like 一 (U+4E00) whose other byte is NUL; and the bytes decode.
    odd, even = nuls[1] + nuls[3], nuls[0] + nuls[2]
    for major, minor, codec in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if major >= 2 and major >= 4 * minor and major * 16 >= length:
            try:
                codecs.getincrementaldecoder(codec)().decode(head[:length])
            except UnicodeDecodeError:
                continue
            return "UTF-16"
    return None


def refuse_wide_text(head: bytes) -> None:
    name = wide_encoding(head)
    if name:
        raise FileRefused(
            f"不接受 {name} 编码的文件（如 Excel 另存的“Unicode 文本”）：请另存为 UTF-8 或 GBK 编码后重新上传。"
        )


BINARY_TEXT = "该文件是二进制文件（含空字节），不是文本文件，已拒收；Excel 工作簿请以 .xlsx 上传。"


def refuse_binary_text(head: bytes) -> None:
    """For a file that should be text: UTF-16/UTF-32 named as such, archives and other binary content refused."""
    refuse_wide_text(head)
    if is_zip(head) or b"\x00" in head:
        raise FileRefused(BINARY_TEXT)


def text_encoding(handle: BinaryIO, *, fallback: str = "gbk") -> str:
    """"utf-8-sig", "utf-8" or `fallback` (GBK or GB18030), from one streaming pass over a seekable binary file;
    UTF-16/UTF-32, binary files and any other encoding are refused."""
    head = read_head(handle)
    refuse_binary_text(head)
    bom = head.startswith(codecs.BOM_UTF8)
    try:
        for encoding in ("utf-8-sig" if bom else "utf-8", fallback):
            decoder = codecs.getincrementaldecoder(encoding)()
            handle.seek(0)
            try:
                while chunk := handle.read(1024 * 1024):
                    if b"\x00" in chunk:
                        raise FileRefused(BINARY_TEXT)
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
                return encoding
            except UnicodeDecodeError:
                if bom:
                    break
    finally:
        handle.seek(0)
    raise FileRefused(
        "无法识别文件编码：只接受 UTF-8（可带 BOM）或 GBK 编码的文本文件，"
        "请用记事本或 Excel 另存为 UTF-8 后重新上传。"
    )


# --- zip archives ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ZipLimits:
    max_total: int  # bytes of all members unpacked
    max_ratio: int = 100  # unpacked / packed, for a large member or the whole archive
    max_members: int = 500
    large_member: int = 10 * 1024 * 1024  # the ratio is checked from this unpacked size on
    max_name_parts: int = 10


BOMB = "该文件解压后异常巨大（疑似“压缩炸弹”），已拒收。"
NOT_XLSX = "该文件不是有效的 XLSX 工作簿，请用 Excel 另存为 .xlsx 后重新上传。"


def _unsafe_name(name: str, limits: ZipLimits) -> bool:
    if not name or len(name) > 255 or "\\" in name or name.startswith("/") or ":" in name.split("/", 1)[0]:
        return True
    if any(unicodedata.category(char) == "Cc" for char in name):
        return True
    parts = name.rstrip("/").split("/")
    return ".." in parts or len(parts) > limits.max_name_parts


def open_zip(source, limits: ZipLimits) -> zipfile.ZipFile:
    """The archive, once its directory shows nothing dangerous: too many members, unsafe or repeated names, encrypted
    members, or members that would inflate hugely (a suspected zip bomb, whatever the members are called)."""
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, EOFError, ValueError):
        raise FileRefused("该文件已损坏，无法打开；请重新保存（Excel 工作簿另存为 .xlsx）后上传。") from None
    try:
        members = archive.infolist()
        if len(members) > limits.max_members:
            raise UnsafeArchive(f"该压缩文件结构异常（含 {len(members):,} 个成员），已拒收。")
        total = packed = 0
        names = set()
        for member in members:
            total += member.file_size
            packed += member.compress_size
            ratio = member.file_size / max(member.compress_size, 1)
            if total > limits.max_total or (member.file_size > limits.large_member and ratio > limits.max_ratio):
                raise UnsafeArchive(BOMB)
            if member.filename in names or _unsafe_name(member.filename, limits):
                raise UnsafeArchive("该压缩文件含有异常的成员名称（重复、绝对路径或“..”），已拒收。")
            names.add(member.filename)
            if member.flag_bits & 0x1:
                raise FileRefused("该文件已加密，请取消密码后重新保存再上传。")
        if total > limits.large_member and total / max(packed, 1) > limits.max_ratio:
            raise UnsafeArchive(BOMB)
        return archive
    except BaseException:
        archive.close()
        raise


# --- XLSX -----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Overlong:
    """A text cell longer than the reader keeps: its first characters and its full length."""
    head: str
    length: int

    def __str__(self) -> str:
        return self.head


@dataclass(frozen=True, slots=True)
class Formula:
    """A formula cell read with `cached_formulas`: its text ("=" in front) and the value the spreadsheet last
    calculated, None when it never was (a file written by a program and not opened since). Never evaluated here."""
    text: "str | Overlong"
    cached: object


@dataclass(frozen=True)
class XlsxLimits:
    zip: ZipLimits
    cell_chars: int  # characters kept of one cell; a longer cell is an Overlong
    shared_bytes: int  # memory allowed for the table of shared strings
    part_bytes: int = 16 * 1024 * 1024  # workbook.xml, relationships, styles: small documents
    max_column: int = 16384  # Excel's last column, XFD


_REL_ID = "http://schemas.openxmlformats.org/officeDocument/2006/relationships id"
_STRICT_REL_ID = "http://purl.oclc.org/ooxml/officeDocument/relationships id"


def _local(name: str) -> str:
    return name.rpartition(" ")[2]


def _refuse_dtd(*args):
    raise FileRefused("该 XLSX 文件含有文档类型声明（DTD），不是 Excel 生成的工作簿，已拒收。")


def _parser(start, end=None, chars=None):
    """An expat parser that refuses any DTD (so no entity can expand) and reports local names."""
    parser = ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.buffer_text = True
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if chars is not None:
        parser.CharacterDataHandler = chars
    return parser


def _feed(
    archive: zipfile.ZipFile, name: str, parser, progress: Callable[[float], None] | None = None
) -> Iterator[None]:
    """Feed a member to the parser chunk by chunk, yielding after each chunk so the caller can take what it found."""
    size = max(archive.getinfo(name).file_size, 1)
    done = 0
    try:
        with archive.open(name) as member:
            while chunk := member.read(_CHUNK):
                parser.Parse(chunk, False)
                done += len(chunk)
                if done - parser.CurrentByteIndex > _MAX_TOKEN:
                    raise FileRefused("该 XLSX 文件含有异常的超长 XML 标记，已拒收。")
                if progress is not None:
                    progress(min(done / size, 1.0))
                yield
            parser.Parse(b"", True)
            yield
    except ExpatError:
        raise FileRefused("该 XLSX 文件内容已损坏（XML 格式错误），请用 Excel 另存后重新上传。") from None
    except (zipfile.BadZipFile, EOFError, OSError) as error:  # a CRC mismatch or a truncated member
        raise FileRefused(f"该 XLSX 文件已损坏，无法读取（{error.__class__.__name__}）。") from error


class _Text:
    """Character data of one element, keeping at most `cap` characters and counting the rest."""

    __slots__ = ("cap", "kept", "length", "parts")

    def __init__(self, cap: int):
        self.cap, self.parts, self.kept, self.length = cap, [], 0, 0

    def add(self, data: str) -> None:
        self.length += len(data)
        if self.kept < self.cap:
            piece = data[: self.cap - self.kept]
            self.parts.append(piece)
            self.kept += len(piece)

    def value(self) -> "str | Overlong":
        text = "".join(self.parts)
        return text if self.length <= self.cap else Overlong(text, self.length)


class _SharedStrings:
    """The shared-string table in two flat buffers (UTF-8 text and end offsets), within a memory budget."""

    def __init__(self, limits: XlsxLimits):
        self.limits = limits
        self.text = bytearray()
        self.ends = array("q")
        self.overlong: dict[int, int] = {}

    def append(self, value: "str | Overlong") -> None:
        if isinstance(value, Overlong):
            self.overlong[len(self.ends)] = value.length
            value = value.head
        self.text += value.encode("utf-8", "surrogatepass")
        self.ends.append(len(self.text))
        if len(self.text) + 8 * len(self.ends) > self.limits.shared_bytes:
            raise FileRefused(
                f"工作簿中的文字总量过大（共享字符串超过 {self.limits.shared_bytes // 1024 // 1024} MB），"
                "请只保留需要的列、分成几个文件上传。"
            )

    def __getitem__(self, index: int) -> "str | Overlong":
        start = self.ends[index - 1] if index else 0
        text = self.text[start:self.ends[index]].decode("utf-8", "surrogatepass")
        length = self.overlong.get(index)
        return text if length is None else Overlong(text, length)

    def __len__(self) -> int:
        return len(self.ends)


def _column_index(reference: str) -> int:
    """1 for "A12", 28 for "AB3"; 0 when the reference has no letters."""
    number = 0
    for char in reference:
        if "A" <= char <= "Z":
            number = number * 26 + ord(char) - 64
        elif "a" <= char <= "z":
            number = number * 26 + ord(char) - 96
        else:
            break
    return number


def _row_index(reference: str) -> int:
    digits = reference.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    return int(digits) if digits.isdigit() else 0


def _number(text: str):
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


class Workbook:
    """An XLSX workbook opened for streaming reads. Use `open_xlsx` and read `sheet_names` and `rows(index)`."""

    def __init__(self, archive: zipfile.ZipFile, limits: XlsxLimits):
        self.archive = archive
        self.limits = limits
        names = set(archive.namelist())
        if "xl/workbook.xml" not in names:
            raise FileRefused(NOT_XLSX)
        self._names = names
        self._sheets: list[tuple[str, str, bool]] = []  # (name, member, is a worksheet)
        self._epoch_1904 = False
        rels = self._relationships("xl/_rels/workbook.xml.rels")

        def start(tag, attrs):
            local = _local(tag)
            if local == "sheet":
                target, kind = rels.get(attrs.get(_REL_ID) or attrs.get(_STRICT_REL_ID) or "", ("", ""))
                self._sheets.append((attrs.get("name", ""), target, kind.endswith("/worksheet")))
            elif local == "workbookPr":
                self._epoch_1904 = attrs.get("date1904") in ("1", "true")

        self._parse_part("xl/workbook.xml", start)
        self._shared_target = next(
            (t for t, k in rels.values() if k.endswith("/sharedStrings")), "xl/sharedStrings.xml"
        )
        self._styles_target = next((t for t, k in rels.values() if k.endswith("/styles")), "xl/styles.xml")
        self._shared: _SharedStrings | None = None
        self._date_styles: set[int] | None = None

    @property
    def sheet_names(self) -> list[str]:
        return [name for name, _, _ in self._sheets]

    @property
    def worksheets(self) -> list[int]:
        """Indexes (into sheet_names) of the sheets that are worksheets, not chart sheets."""
        return [index for index, (_, _, is_sheet) in enumerate(self._sheets) if is_sheet]

    def _parse_part(self, name: str, start) -> None:
        if self.archive.getinfo(name).file_size > self.limits.part_bytes:
            raise FileRefused("该 XLSX 文件结构异常（描述部分过大），已拒收。")
        for _ in _feed(self.archive, name, _parser(start)):
            pass

    def _relationships(self, name: str) -> dict[str, tuple[str, str]]:
        """Id → (member name, relationship type) of a .rels part."""
        if name not in self._names:
            return {}
        base = posixpath.dirname(posixpath.dirname(name))
        found = {}

        def start(tag, attrs):
            if _local(tag) == "Relationship" and attrs.get("TargetMode") != "External":
                target = attrs.get("Target", "")
                if target.startswith("/"):
                    path = target.lstrip("/")
                else:
                    path = posixpath.normpath(posixpath.join(base, target))
                found[attrs.get("Id", "")] = (path, attrs.get("Type", ""))

        self._parse_part(name, start)
        return found

    def _load_styles(self) -> set[int]:
        """The cell styles (indexes of cellXfs) whose number format is a date."""
        from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

        if self._styles_target not in self._names:
            return set()
        formats = dict(BUILTIN_FORMATS)
        styles: list[int] = []
        stack: list[str] = []

        def start(tag, attrs):
            local = _local(tag)
            if local == "numFmt" and attrs.get("numFmtId", "").isdigit():
                formats[int(attrs["numFmtId"])] = attrs.get("formatCode", "")
            elif local == "xf" and stack and stack[-1] == "cellXfs":
                styles.append(int(attrs.get("numFmtId", "0")) if attrs.get("numFmtId", "0").isdigit() else 0)
            stack.append(local)

        def end(tag):
            stack.pop()

        parser = _parser(start, end)
        if self.archive.getinfo(self._styles_target).file_size > self.limits.part_bytes:
            raise FileRefused("该 XLSX 文件结构异常（样式部分过大），已拒收。")
        for _ in _feed(self.archive, self._styles_target, parser):
            pass
        return {index for index, fmt in enumerate(styles) if is_date_format(formats.get(fmt) or "")}

    def _load_shared_strings(self) -> _SharedStrings:
        table = _SharedStrings(self.limits)
        if self._shared_target not in self._names:
            return table
        cap = self.limits.cell_chars
        state = {"item": None, "text": False, "phonetic": 0}

        def start(tag, attrs):
            local = _local(tag)
            if local == "si":
                state["item"] = _Text(cap)
            elif local == "t" and state["item"] is not None and not state["phonetic"]:
                state["text"] = True
            elif local == "rPh":
                state["phonetic"] += 1

        def end(tag):
            local = _local(tag)
            if local == "t":
                state["text"] = False
            elif local == "rPh":
                state["phonetic"] -= 1
            elif local == "si" and state["item"] is not None:
                table.append(state["item"].value())
                state["item"] = None

        def chars(data):
            if state["text"]:
                state["item"].add(data)

        for _ in _feed(self.archive, self._shared_target, _parser(start, end, chars)):
            pass
        return table

    def rows(self, index: int, *, columns: int | None = None, progress: Callable[[float], None] | None = None,
             cached_formulas: bool = False) -> Iterator[tuple[int, list]]:
        """(row number, cell values) for each row present in sheet `index`, in order. A value is None, str, int,
        float, bool, datetime, or Overlong; a formula is its text with "=" in front, or with `cached_formulas` a
        `Formula` carrying its cached value too. Only the first `columns` columns are kept when given."""
        _, member, _ = self._sheets[index]
        if member not in self._names:
            raise FileRefused(NOT_XLSX)
        if self._shared is None:
            self._shared = self._load_shared_strings()
            self._date_styles = self._load_styles()
        shared, date_styles = self._shared, self._date_styles
        # Excel serial dates are naive by definition (no zone in the file).
        epoch = datetime.datetime(1904, 1, 1) if self._epoch_1904 else None  # noqa: DTZ001
        cap, max_column = self.limits.cell_chars, min(columns or self.limits.max_column, self.limits.max_column)
        finished: list[tuple[int, list]] = []
        # The row being read, and the cell being read: its column, type, style, and the text of <v>, <f> or <is>.
        row = {"number": 0, "cells": None, "column": 0}
        cell = {"keep": False, "type": "n", "style": 0, "value": None, "formula": None, "inline": None, "text": None,
                "phonetic": 0}

        def start(tag, attrs):
            local = _local(tag)
            if local == "c":
                reference = attrs.get("r", "")
                column = _column_index(reference) if reference else row["column"] + 1
                if not row["column"] < column <= self.limits.max_column:
                    raise FileRefused("该 XLSX 文件含有位置异常的单元格，已拒收。")
                row["column"] = column
                keep = column <= max_column
                cell.update(keep=keep, type=attrs.get("t", "n"), value=None, formula=None, inline=None, text=None)
                style = attrs.get("s", "0")
                cell["style"] = int(style) if style.isdigit() else 0
            elif local == "row":
                reference = attrs.get("r", "")
                number = int(reference) if reference.isdigit() else row["number"] + 1
                if number <= row["number"]:
                    raise FileRefused("该 XLSX 文件的行顺序异常，已拒收。")
                row.update(number=number, cells=[], column=0)
            elif not cell["keep"]:
                return
            elif local == "v":  # a number or date needs a few dozen characters whatever the cap
                cell["value"] = cell["text"] = _Text(max(cap, 100))
            elif local == "f":
                cell["formula"] = cell["text"] = _Text(cap)
            elif local == "is":
                cell["inline"] = _Text(cap)
            elif local == "t" and cell["inline"] is not None and not cell["phonetic"]:
                cell["text"] = cell["inline"]
            elif local == "rPh":
                cell["phonetic"] += 1

        def end(tag):
            local = _local(tag)
            if local in ("v", "f", "t"):
                cell["text"] = None
            elif local == "rPh":
                cell["phonetic"] -= 1
            elif local == "c" and cell["keep"]:
                cells = row["cells"]
                if cells is None:  # a cell outside any row: ignored, as Excel does
                    return
                cells.extend([None] * (row["column"] - 1 - len(cells)))
                cells.append(self._cell_value(cell, shared, date_styles, epoch, cached_formulas))
                cell["keep"] = False
            elif local == "row":
                finished.append((row["number"], row["cells"]))
                row["cells"] = None

        def chars(data):
            if cell["text"] is not None:
                cell["text"].add(data)

        parser = _parser(start, end, chars)
        for _ in _feed(self.archive, member, parser, progress):
            if finished:
                yield from finished
                finished.clear()

    @staticmethod
    def _cell_value(cell, shared, date_styles, epoch, cached_formulas=False):
        if cell["formula"] is not None:
            formula = cell["formula"].value()
            text = Overlong("=" + formula.head, formula.length + 1) if isinstance(formula, Overlong) else "=" + formula
            if not cached_formulas:
                return text
            return Formula(text, Workbook._stored_value(cell, shared, date_styles, epoch))
        return Workbook._stored_value(cell, shared, date_styles, epoch)

    @staticmethod
    def _stored_value(cell, shared, date_styles, epoch):
        kind = cell["type"]
        if kind == "inlineStr":
            return cell["inline"].value() if cell["inline"] is not None else None
        if cell["value"] is None:
            return None
        value = cell["value"].value()
        if isinstance(value, Overlong) or value == "":
            return value or None
        try:
            if kind == "s":
                return shared[int(value)]
            if kind == "n":
                number = _number(value)
                if cell["style"] in date_styles:
                    from openpyxl.utils.datetime import WINDOWS_EPOCH, from_excel

                    try:
                        return from_excel(number, epoch or WINDOWS_EPOCH)
                    except (OverflowError, ValueError):
                        return number  # a number styled as a date that is no date: the checks name it
                return number
            if kind == "b":
                return value.strip() in ("1", "true")
            if kind == "d":
                return datetime.datetime.fromisoformat(value)
        except (ValueError, IndexError, OverflowError):
            raise FileRefused("该 XLSX 文件含有无法识别的单元格值，请用 Excel 另存后重新上传。") from None
        return value  # "str" (a formula's cached text), "e" (an error such as #N/A)


@contextmanager
def open_xlsx(source, limits: XlsxLimits) -> Iterator[Workbook]:
    """`with open_xlsx(path_or_file, limits) as workbook:` the checked archive, closed afterwards."""
    if hasattr(source, "seek"):
        head = read_head(source, 4)
    else:
        with open(source, "rb") as handle:
            head = handle.read(4)
    if not is_zip(head):
        raise FileRefused(NOT_XLSX)
    with open_zip(source, limits.zip) as archive:
        yield Workbook(archive, limits)
