"""Reading and checking a register file (XLSX or CSV in UTF-8, UTF-8 with BOM or GBK), and the file's template.

One row is one institution and at most one of its CMA certificates; an institution with several certificates takes
several rows with the same credit code. Institutions are keyed by credit code and certificates by number, so that
importing the same file again updates rather than duplicates. Blank optional cells leave stored values alone.
Nothing here writes: `check_file` says what an import would do; `register_import` stores and writes it.
"""
import csv
import datetime
import io
import re
import unicodedata
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from accounts.scoping import visible_to
from config import uploads
from config.uploads import FileRefused, Overlong, excerpt

from .codes import ReferenceCache, credit_code_problem, decode_cma_number, normalise_cma_number, normalise_credit_code
from .models import CmaCertificate, Institution, Region
from .selectors import frozen_institution_ids

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ROWS = 20_000
MAX_STORED_ERRORS = 500
MAX_COLUMNS = 256  # cells further right are not read
CELL_CHARS = 320  # more than any column allows (300): a longer cell is an error of its row, counted, never kept
CSV_LINE_CHARS = 64 * 1024
XLSX_LIMITS = uploads.XlsxLimits(
    zip=uploads.ZipLimits(max_total=256 * 1024 * 1024), cell_chars=CELL_CHARS, shared_bytes=32 * 1024 * 1024,
)


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False
    example: str = ""
    width: int = 16


COLUMNS = [
    Column("credit_code", "统一社会信用代码", True, "91430100MA4L0000X1", 22),
    Column("name", "机构名称", True, "湖南示例检测有限公司", 30),
    Column("city", "所在市州", True, "长沙市", 12),
    Column("nature", "机构性质", example="企业"),
    Column("legal_status", "法人状态", example="独立法人"),
    Column("ownership", "所有制", example="私营"),
    Column("legal_representative", "法定代表人", example="张三"),
    Column("registered_address", "注册地址", example="湖南省长沙市岳麓区麓谷大道1号", width=30),
    Column("established_year", "成立年份", example="2012", width=10),
    Column("contact_person", "联系人", example="李四", width=10),
    Column("contact_phone", "联系电话", example="0731-88880000"),
    Column("contact_email", "电子邮箱", example="lab@example.com", width=20),
    Column("site_address", "场所地址", example="湖南省长沙市岳麓区麓谷大道1号", width=30),
    Column("cma_number", "资质认定证书编号", example="211801060001", width=18),
    Column("issue_date", "发证日期", example="2021-03-01", width=12),
    Column("expiry_date", "有效期至", example="2027-02-28", width=12),
    Column("capability_items", "能力范围项数", example="120", width=12),
]
HEADERS = {column.header: column for column in COLUMNS}
CERTIFICATE_KEYS = ("cma_number", "issue_date", "expiry_date", "capability_items")
INSTITUTION_KEYS = (
    "name", "nature", "legal_status", "ownership", "legal_representative", "registered_address", "established_year",
    "contact_person", "contact_phone", "contact_email",
)
PHONE = re.compile(r"^[0-9+\-() ]{7,30}$")


def _choices(choices, extra=None):
    table = {}
    for value, label in choices:
        table[value] = value
        table[label] = value
        table[label.split("（")[0]] = value
    table.update(extra or {})
    return table


NATURES = _choices(Institution.Nature.choices, {"机关": "other", "社会团体": "other"})
LEGAL_STATUSES = _choices(Institution.LegalStatus.choices, {"非独立法人": "non_independent"})
OWNERSHIPS = _choices(
    Institution.Ownership.choices, {"国有": "state", "民营": "private", "外资": "foreign", "集体": "collective"}
)


@dataclass
class Row:
    number: int  # the row's number as the spreadsheet shows it (the header is row 1)
    values: dict


@dataclass
class CheckedRow:
    number: int
    credit_code: str
    institution: dict
    city: Region | None
    site_address: str = ""
    certificate: dict | None = None


@dataclass
class Outcome:
    rows: list[CheckedRow] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    total_rows: int = 0
    empty_rows: int = 0
    summary: dict = field(default_factory=dict)

    def add(self, row: int, column: str, message: str):
        self.errors.append({"row": row, "column": column, "message": message})


# --- reading ----------------------------------------------------------------------------------------------------

def read_rows(handle, filename: str) -> tuple[list[Row], int]:
    """The data rows (non-empty) and the number of empty rows; FileRefused if the file cannot be used at all.
    Memory stays bounded whatever a cell holds: a cell longer than CELL_CHARS is kept as an Overlong."""
    handle.seek(0, io.SEEK_END)
    if handle.tell() > MAX_UPLOAD_BYTES:
        raise FileRefused(f"文件超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB，请拆分后分批导入。")
    handle.seek(0)
    if filename.lower().endswith(".xlsx"):
        raw_rows = _xlsx_rows(handle)
    elif filename.lower().endswith(".csv"):
        raw_rows = _csv_rows(handle)
    else:
        raise FileRefused("只能导入 .xlsx 或 .csv 文件。")
    try:
        number, header = next(raw_rows)
    except StopIteration:
        raise FileRefused("文件中没有任何内容：第1行应为列标题，请使用下载的模板。") from None
    columns = _map_header(header if number == 1 else [])
    rows, empty, last = [], 0, number
    for number, cells in raw_rows:
        empty += number - last - 1  # rows a workbook leaves out are empty rows
        last = number
        values = {key: cells[index] if index < len(cells) else None for index, key in columns.items()}
        if all(_blank(value) for value in values.values()):
            empty += 1
            continue
        if len(rows) >= MAX_ROWS:
            raise FileRefused(
                f"文件超过单次导入上限 {MAX_ROWS:,} 行数据（第 {number} 行起超出），请拆分为多个文件分批导入。"
            )
        rows.append(Row(number, values))
    if not rows:
        raise FileRefused("文件中除列标题外没有数据行。")
    return rows, empty


def sniff(handle, filename: str) -> None:
    """Cheap checks of an upload's content, done at once (the background check reads it all again): a workbook must
    be a zip that is safe to open, a CSV must be text and not UTF-16."""
    head = uploads.read_head(handle)
    if filename.lower().endswith(".xlsx"):
        if not uploads.is_zip(head):
            raise FileRefused(uploads.NOT_XLSX)
        uploads.open_zip(handle, XLSX_LIMITS.zip).close()
        handle.seek(0)
    else:
        uploads.refuse_binary_text(head)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _xlsx_rows(handle):
    with uploads.open_xlsx(handle, XLSX_LIMITS) as workbook:
        worksheets = workbook.worksheets
        if not worksheets:
            raise FileRefused("工作簿中没有工作表，请使用下载的模板。")
        yield from workbook.rows(worksheets[0], columns=MAX_COLUMNS)


def _csv_rows(handle):
    """(record number, cells) of a CSV in UTF-8 (with or without BOM) or GBK/GB18030, read as a stream: a physical
    line longer than CSV_LINE_CHARS refuses the file, a cell longer than CELL_CHARS becomes an Overlong."""
    encoding = uploads.text_encoding(handle, fallback="gb18030")
    text = io.TextIOWrapper(handle, encoding=encoding, newline="")

    def lines():
        line_number = 0
        while line := text.readline(CSV_LINE_CHARS):
            line_number += 1
            if len(line) == CSV_LINE_CHARS and not line.endswith(("\n", "\r")):
                raise FileRefused(
                    f"CSV 文件第 {line_number} 行超过 {CSV_LINE_CHARS:,} 个字符，不是名录模板的内容，请检查后重新保存。"
                )
            yield line

    try:
        for number, cells in enumerate(csv.reader(lines()), start=1):
            yield number, [
                cell if len(cell) <= CELL_CHARS else Overlong(cell[:CELL_CHARS], len(cell)) for cell in cells
            ]
    except csv.Error as error:
        raise FileRefused(f"CSV 文件格式错误（{error}），请用 Excel 或记事本重新保存为 CSV。") from error
    finally:
        text.detach()  # the caller closes its own file


def _map_header(header) -> dict[int, str]:
    found, unknown = {}, []
    for index, cell in enumerate(header):
        title = re.sub(r"[\s*＊]", "", str(cell or ""))[:CELL_CHARS]
        if not title:
            continue
        column = HEADERS.get(title)
        if column is None:
            unknown.append(title)
        elif column.key in found.values():
            raise FileRefused(f"第1行的列标题“{excerpt(title, 30)}”出现了两次。")
        else:
            found[index] = column.key
    missing = [column.header for column in COLUMNS if column.required and column.key not in found.values()]
    if missing:
        hint = f"；无法识别的列：{'、'.join(excerpt(title, 30) for title in unknown[:5])}" if unknown else ""
        raise FileRefused(f"第1行缺少必需的列：{'、'.join(missing)}{hint}。请使用下载的模板。")
    if unknown:
        titles = "、".join(excerpt(title, 30) for title in unknown[:5])
        raise FileRefused(f"第1行有模板之外的列：{titles}。请使用下载的模板，不要增改列标题。")
    return found


# --- checking ---------------------------------------------------------------------------------------------------

class _Checker:
    def __init__(self, actor, region):
        self.actor = actor
        self.today = timezone.localdate()
        self.reference = ReferenceCache()
        cities = Region.objects.current().filter(level=Region.Level.CITY).select_related("parent")
        if region.level == Region.Level.PROVINCE:
            cities = cities.filter(parent=region)
        self.region = region
        self.cities = {}
        for city in cities:
            self.cities[city.code] = city
            self.cities[city.name] = city
        self.all_city_names = set(
            Region.objects.current().filter(level=Region.Level.CITY).values_list("name", flat=True)
        )

    def text(self, outcome, row, key, limit, required=False):
        value = row.values.get(key)
        header = _header(key)
        if isinstance(value, Overlong):
            outcome.add(row.number, header, f"超过 {limit} 个字符（共 {value.length:,} 个）。")
            return ""
        if isinstance(value, (datetime.date, datetime.datetime)):
            outcome.add(row.number, header, "应为文字，不应是日期。")
            return ""
        text = "" if value is None else str(value).strip()
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))
        if text.startswith("="):
            outcome.add(row.number, header, "单元格含公式，请粘贴为数值或文字后再导入。")
            return ""
        if text.startswith(("+", "@")) and key != "contact_phone":
            outcome.add(row.number, header, "不能以“+”或“@”开头（可能被表格软件当作公式）。")
            return ""
        if required and not text:
            outcome.add(row.number, header, "必填，不能为空。")
        if len(text) > limit:
            outcome.add(row.number, header, f"超过 {limit} 个字符（共 {len(text):,} 个）。")
            return ""
        if hidden := _hidden_character(text):
            outcome.add(row.number, header, f"含控制字符或不可见字符（U+{ord(hidden):04X}），请删除后再导入。")
            return ""
        return text

    def choice(self, outcome, row, key, table):
        text = self.text(outcome, row, key, 30)
        if not text:
            return ""
        if text not in table:
            options = "、".join(dict.fromkeys(label for label in table if not label.isascii()))
            outcome.add(row.number, _header(key), f"“{excerpt(text)}”不是可选值（可填：{options}）。")
            return ""
        return table[text]

    def integer(self, outcome, row, key, low, high):
        value = row.values.get(key)
        if _blank(value):
            return None
        if isinstance(value, Overlong):
            outcome.add(row.number, _header(key), f"应为整数，该单元格却有 {value.length:,} 个字符。")
            return None
        if isinstance(value, str) and value.strip().startswith("="):
            outcome.add(row.number, _header(key), "单元格含公式，请粘贴为数值后再导入。")
            return None
        try:
            number = float(str(value).strip())
            if not number.is_integer():
                raise ValueError
            number = int(number)
        except ValueError:
            outcome.add(row.number, _header(key), f"“{excerpt(str(value))}”不是整数。")
            return None
        if not low <= number <= high:
            outcome.add(row.number, _header(key), f"应在 {low} 到 {high} 之间。")
            return None
        return number

    def date(self, outcome, row, key):
        value = row.values.get(key)
        if _blank(value):
            outcome.add(row.number, _header(key), "填写了证书编号时必填。")
            return None
        if isinstance(value, Overlong):
            outcome.add(row.number, _header(key), f"应为日期，该单元格却有 {value.length:,} 个字符。")
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        text = str(value).strip()
        if text.startswith("="):
            outcome.add(row.number, _header(key), "单元格含公式，请粘贴为数值后再导入。")
            return None
        for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日"):
            try:
                return datetime.datetime.strptime(text, pattern).date()  # noqa: DTZ007 -- a calendar date, no time
            except ValueError:
                continue
        outcome.add(row.number, _header(key), f"“{excerpt(text)}”不是有效日期（格式如 2021-03-01）。")
        return None

    def check(self, row: Row, outcome: Outcome) -> CheckedRow | None:
        before = len(outcome.errors)
        code = normalise_credit_code(self.text(outcome, row, "credit_code", 30, required=True))
        if code:
            problem = credit_code_problem(code)
            if problem is not None and problem.code == "credit_code_checksum":
                # A pilot-region code with a bad check character passes only where an admin recorded the exception.
                if not Institution.objects.filter(credit_code=code).exclude(credit_code_override_reason="").exists():
                    outcome.add(
                        row.number, "统一社会信用代码",
                        f"{code} 的校验位错误。早期试点代码确属合法的，请管理员在系统管理中登记例外原因后再导入。",
                    )
            elif problem is not None:
                outcome.add(row.number, "统一社会信用代码", f"“{excerpt(code)}”{problem.messages[0]}")
        data = {
            "name": " ".join(self.text(outcome, row, "name", 200, required=True).split()),
            "nature": self.choice(outcome, row, "nature", NATURES),
            "legal_status": self.choice(outcome, row, "legal_status", LEGAL_STATUSES),
            "ownership": self.choice(outcome, row, "ownership", OWNERSHIPS),
            "legal_representative": self.text(outcome, row, "legal_representative", 50),
            "registered_address": self.text(outcome, row, "registered_address", 300),
            "established_year": self.integer(outcome, row, "established_year", 1900, self.today.year),
            "contact_person": self.text(outcome, row, "contact_person", 50),
            "contact_phone": self.text(outcome, row, "contact_phone", 30),
            "contact_email": self.text(outcome, row, "contact_email", 254),
        }
        if data["name"] and len(data["name"]) < 4:
            outcome.add(row.number, "机构名称", "请填写机构的完整名称（与营业执照或法人证书一致）。")
        if data["contact_phone"] and not PHONE.match(data["contact_phone"]):
            outcome.add(row.number, "联系电话", "只能包含数字、空格、“-”、“+”和括号，7至30位。")
        if data["contact_email"]:
            try:
                validate_email(data["contact_email"])
            except ValidationError:
                outcome.add(row.number, "电子邮箱", f"“{excerpt(data['contact_email'])}”不是有效的电子邮箱地址。")
        city_text = self.text(outcome, row, "city", 50, required=True)
        city = self.cities.get(city_text)
        if city_text and city is None:
            if city_text in self.all_city_names:
                outcome.add(row.number, "所在市州", f"“{city_text}”不在您的管辖范围（{self.region.name}）内。")
            else:
                outcome.add(row.number, "所在市州", f"“{excerpt(city_text)}”不是已登记的市州名称或6位区划代码。")
        site = " ".join(self.text(outcome, row, "site_address", 300).split())
        certificate = self.check_certificate(row, outcome)
        if len(outcome.errors) > before:
            return None
        return CheckedRow(row.number, code, data, city, site, certificate)

    def check_certificate(self, row, outcome):
        if all(_blank(row.values.get(key)) for key in CERTIFICATE_KEYS):
            return None
        number = normalise_cma_number(self.text(outcome, row, "cma_number", 20))
        if not number:
            outcome.add(row.number, "资质认定证书编号", "填写了证书日期或能力项数时，证书编号必填。")
            return None
        decoded = None
        try:
            decoded = decode_cma_number(number, reference=self.reference, today=self.today)
        except ValidationError as error:
            outcome.add(row.number, "资质认定证书编号", error.messages[0])
        issue, expiry = self.date(outcome, row, "issue_date"), self.date(outcome, row, "expiry_date")
        if issue and issue > self.today:
            outcome.add(row.number, "发证日期", "发证日期不能晚于今天。")
        if issue and expiry and expiry <= issue:
            outcome.add(row.number, "有效期至", f"有效期至（{expiry:%Y-%m-%d}）必须晚于发证日期（{issue:%Y-%m-%d}）。")
        items = self.integer(outcome, row, "capability_items", 1, 100_000)
        if items is None and _blank(row.values.get("capability_items")):
            outcome.add(row.number, "能力范围项数", "填写了证书编号时必填（至少为1）。")
        if decoded is None:
            return None
        return {
            "number": number, "level": decoded.level, "issuer": decoded.issuer, "cma_field": decoded.cma_field,
            "supervising_department": decoded.supervising_department, "issue_date": issue, "expiry_date": expiry,
            "capability_items": items,
        }


def _hidden_character(text: str) -> str | None:
    """The first control or invisible character of a cell (line breaks and tabs aside, which are blanks)."""
    if text.isprintable():
        return None
    for char in text:
        if char not in "\t\n\r" and unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"):
            return char
    return None


def _header(key) -> str:
    return next(column.header for column in COLUMNS if column.key == key)


def check_file(handle, filename: str, *, actor, region, progress=lambda fraction, stage: None) -> Outcome:
    """Every error by row and column, and what an import would do; writes nothing."""
    outcome = Outcome()
    try:
        rows, outcome.empty_rows = read_rows(handle, filename)
    except FileRefused as refusal:
        outcome.add(1, "文件", str(refusal))
        return outcome
    outcome.total_rows = len(rows)
    checker = _Checker(actor, region)
    for index, row in enumerate(rows):
        checked = checker.check(row, outcome)
        if checked:
            outcome.rows.append(checked)
        if index % 500 == 0:
            progress(index / len(rows) * 0.8, f"正在校验第 {row.number} 行")
    progress(0.85, "正在与已登记数据比对")
    _check_across_rows(outcome, actor)
    outcome.errors.sort(key=lambda error: error["row"])
    return outcome


def _check_across_rows(outcome: Outcome, actor):
    first_by_code, certificate_rows = {}, {}
    for row in outcome.rows:
        first = first_by_code.setdefault(row.credit_code, row)
        if first is not row:
            if row.institution["name"] != first.institution["name"]:
                outcome.add(row.number, "机构名称", f"与第 {first.number} 行同一信用代码的机构名称不一致。")
            if row.city != first.city:
                outcome.add(row.number, "所在市州", f"与第 {first.number} 行同一信用代码的所在市州不一致。")
        if row.certificate:
            number = row.certificate["number"]
            if number in certificate_rows:
                outcome.add(
                    row.number, "资质认定证书编号", f"证书编号 {number} 与第 {certificate_rows[number]} 行重复。"
                )
            else:
                certificate_rows[number] = row.number

    codes = list(first_by_code)
    existing = {}
    for start in range(0, len(codes), 2000):
        for inst in Institution.objects.filter(credit_code__in=codes[start:start + 2000]).only(
            "pk", "credit_code", "name", "city_id", "credit_code_override_reason"
        ):
            existing[inst.credit_code] = inst
    visible = set(
        visible_to(actor, Institution).filter(pk__in=[i.pk for i in existing.values()]).values_list("pk", flat=True)
    )
    for code, first in first_by_code.items():
        inst = existing.get(code)
        if inst is not None and inst.pk not in visible:
            outcome.add(first.number, "统一社会信用代码", f"{code} 已登记为“{inst.name}”，该机构不在您的管辖范围内。")
    _check_province_moves(outcome, first_by_code, existing)
    numbers = list(certificate_rows)
    owners = {}
    for start in range(0, len(numbers), 2000):
        for number, code, name in CmaCertificate.objects.filter(number__in=numbers[start:start + 2000]).values_list(
            "number", "institution__credit_code", "institution__name"
        ):
            owners[number] = (code, name)
    for row in outcome.rows:
        if row.certificate and row.certificate["number"] in owners:
            code, name = owners[row.certificate["number"]]
            if code != row.credit_code:
                outcome.add(
                    row.number, "资质认定证书编号", f"证书编号 {row.certificate['number']} 已登记在“{name}”名下。"
                )

    new_codes = [code for code in first_by_code if code not in existing]
    known = set(owners)
    outcome.summary = {
        "institutions_new": len(new_codes),
        "institutions_updated": len(first_by_code) - len(new_codes),
        "certificates_new": len([n for n in certificate_rows if n not in known]),
        "certificates_updated": len([n for n in certificate_rows if n in known]),
        "rows": outcome.total_rows,
        "empty_rows": outcome.empty_rows,
    }


def _check_province_moves(outcome: Outcome, first_by_code, existing):
    """An institution whose filing is under review may not move to another province (its reviewer would change)."""
    moved = {code: inst for code, inst in existing.items()
             if first_by_code[code].city is not None and inst.city_id != first_by_code[code].city.pk}
    if not moved:
        return
    provinces = dict(
        Region.objects.filter(pk__in={inst.city_id for inst in moved.values()}).values_list("pk", "parent_id")
    )
    moved = {
        code: inst for code, inst in moved.items() if provinces.get(inst.city_id) != first_by_code[code].city.parent_id
    }
    frozen = frozen_institution_ids(inst.pk for inst in moved.values())
    for code, inst in moved.items():
        if inst.pk in frozen:
            outcome.add(first_by_code[code].number, "所在市州",
                        f"“{inst.name}”的年度填报正在审核（已提交、审核中或已退回），审核决定作出前不能迁往其他省份。")


def template_workbook():
    """The register template: headers, one example row, and a notes sheet."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "机构名录"
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header + ("*" if column.required else ""))
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        sheet.cell(row=2, column=index, value=column.example).number_format = "@"
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet("填写说明")
    for line in [
        "每行一个机构及其一张资质认定证书；同一机构有多张证书时，用相同的统一社会信用代码填写多行。",
        "带 * 的列必填。所在市州填名称（如 长沙市）或6位区划代码。",
        (
            "机构性质：企业 / 事业单位 / 其他；法人状态：独立法人 / 非独立法人；"
            "所有制：国有及国有控股 / 集体控股 / 私营 / 港澳台及外商投资 / 其他。"
        ),
        "资质认定证书编号为12位数字，发证机关、级别、领域和主管部门由编号识别；填写编号时发证日期、有效期至、能力范围项数必填。",
        "再次导入同一文件会更新已有机构（按统一社会信用代码）和证书（按证书编号），不会重复创建；空白单元格不会清除已有内容。",
        "请勿在单元格中使用公式；CSV 文件请保存为 UTF-8 或 GBK 编码。",
        f"单个文件不超过 {MAX_ROWS:,} 行数据、{MAX_UPLOAD_BYTES // (1024 * 1024)} MB。",
    ]:
        notes.append([line])
    notes.column_dimensions["A"].width = 120
    return workbook
