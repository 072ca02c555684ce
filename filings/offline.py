"""离线填报: the statistics part as an XLSX template, prefilled with the saved draft and last year's approved values,
and the upload of the filled-in template, checked cell by cell and saved by `services.save_part` as a web save is.

The file names its filing only by a signed token (filing, institution, year, nature and the filing's version at
download) in a very hidden sheet; rows are matched to fields by the field names in a hidden column, so a moved row
still lands on its field. Uploads pass the file guards of report-number uploads (`config.uploads`: size, content,
zip bomb) and are read by its bounded reader with formulas as their cached values, never evaluated. Nothing is saved
while any cell has a problem; a problem names its cell ("D12 出具检验检测报告：须为不小于 0 的整数")."""
import datetime
import io
import math
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core import signing
from django.core.exceptions import PermissionDenied
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from accounts import permissions
from config import uploads
from config.refusals import DomainRefusal
from config.uploads import FileRefused, Formula, Overlong, excerpt

from . import services
from .checks import PARTS, REQUIRED_STATISTICS, SPLITS, check_statistics, run_checks
from .forms import STATISTICS_SECTIONS, Indicator, StatisticsForm
from .models import FilingStatistics
from .selectors import previous_approved_statistics
from .workflow import TransitionRefused

SHEET = "统计调查数据"
META_SHEET = "模板标识"
TOKEN_SALT = "filings.offline.statistics"
HEADERS = ("序号", "项目", "单位", "本年填报", "上年审核通过值", "说明", "字段")
WIDTHS = (7, 34, 10, 16, 16, 48, 24)
VALUE, PREVIOUS, KEY = "D", "E", "G"
FIRST_ROW = 4  # rows 1–3: title, how to fill in, headers

MAX_BYTES = 2 * 1024 * 1024  # the template is about 10 KB; Excel's own additions stay far below this
LIMITS = uploads.XlsxLimits(
    zip=uploads.ZipLimits(max_total=20 * 1024 * 1024, max_members=200),
    cell_chars=200, shared_bytes=4 * 1024 * 1024,
)
MAX_ROWS = 1000  # rows of the data sheet read; the template has about 50
MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlsb", ".xlam")
OLD_SUFFIXES = (".xls", ".et", ".ett", ".wps", ".csv")

EDITABLE_FILL = PatternFill("solid", fgColor="FFF2CC")
SECTION_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_FILL = PatternFill("solid", fgColor="BDD7EE")

STALE = ("本模板下载后，该填报已在网页上或由他人保存过（模板为第 {got} 版，当前为第 {now} 版），"
         "为免覆盖新的内容，本次上传未保存。请重新下载模板，填写后再上传。")
RACE = "该填报刚刚在网页上或由他人保存过，为免覆盖新的内容，本次上传未保存。请重新下载模板，填写后再上传。"
NO_TOKEN = "文件中没有离线填报模板的标识，无法确定所属填报：请在“统计调查数据”页下载模板，在模板中填写后上传。"
BAD_TOKEN = "文件中的模板标识无效或已被改动，本次上传未保存。请重新下载模板，在模板中填写后上传。"
UNCALCULATED = "公式未计算出结果，请在 Excel/WPS 中重新计算并保存后上传（或直接填写数值）。"


class OfflineRefused(DomainRefusal):
    """An offline file refused as a whole (not a template of this filing, stale, not a safe XLSX); nothing saved."""


# --- the fields, in the form's sections -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    """One statistics field as a row of the template."""

    number: str
    name: str
    label: str
    unit: str
    places: int | None  # None for a count (a whole number)
    signed: bool

    @property
    def rule(self) -> str:
        if self.places is None:
            return "须为不小于 0 的整数"
        if self.signed:
            return f"须为数值（可为负数），最多 {self.places} 位小数"
        return f"须为不小于 0 的数值，最多 {self.places} 位小数"


def _nature(institution) -> str:
    return "enterprise" if institution.nature == "enterprise" else "public"


def sections(nature: str) -> list[tuple[str, list[Line]]]:
    """(section title, lines) of the statistics form for an institution of this nature (forms.STATISTICS_SECTIONS)."""
    result = []
    for index, (_, title, rows) in enumerate(STATISTICS_SECTIONS, start=1):
        rows = rows[nature] if isinstance(rows, dict) else rows
        names = [name for row in rows for name in row]
        lines = []
        for position, name in enumerate(names, start=1):
            model_field = FilingStatistics._meta.get_field(name)
            label, unit = Indicator.split_label(name)
            places = getattr(model_field, "decimal_places", None)
            signed = places is not None and not any(getattr(v, "limit_value", None) == 0
                                                    for v in model_field.validators)
            lines.append(Line(f"{index}.{position}", name, label, unit, places, signed))
        if lines:
            result.append((f"{index}. {title}", lines))
    return result


def _notes(line: Line) -> str:
    """The rule of the cell and the checks it takes part in (from checks.py's tables)."""
    notes = [line.rule + ("，必填" if line.name in REQUIRED_STATISTICS else "")]
    for _, whole, parts, _ in SPLITS:
        if line.name == whole:
            notes.append("等于分项之和：" + "、".join(Indicator.split_label(p)[0] for p in parts))
        elif line.name in parts:
            notes.append(f"与同组分项之和应等于“{Indicator.split_label(whole)[0]}”")
    for _, part, whole in PARTS:
        if line.name == part:
            notes.append(f"不能大于“{Indicator.split_label(whole)[0]}”")
    return "；".join(notes)


# --- the template ---------------------------------------------------------------------------------------------------

def make_token(filing) -> str:
    return signing.dumps({"filing": filing.pk, "institution": filing.institution_id, "year": filing.year.year,
                          "version": filing.version, "nature": _nature(filing.institution)}, salt=TOKEN_SALT)


def template_filename(filing) -> str:
    return f"{filing.year.year}年度统计调查数据-离线填报-第{filing.version}版.xlsx"


def build_template(filing, *, actor) -> bytes:
    """The filing's statistics as an XLSX template for its own filers."""
    if not permissions.can_edit_filing(actor, filing):
        raise PermissionDenied("只有本机构的填报人可以下载离线填报模板。")
    stats, previous = filing.statistics, previous_approved_statistics(filing)
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    # A title that starts with the year: an institution name beginning with "=" can never become a formula.
    sheet["A1"] = f"{filing.year.year}年度统计调查数据（离线填报）：{filing.institution.name}"
    sheet["A1"].font = Font(bold=True, size=13)
    sheet["A2"] = ("只填写黄色的“本年填报”列（没有的填 0），其他单元格已保护。请勿使用未计算的公式。"
                   "填好后保存为 .xlsx，在系统“统计调查数据”页上传；上传时逐格校验，有错误时不保存。")
    sheet["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.merge_cells("A1:F1")
    sheet.merge_cells("A2:F2")
    sheet.row_dimensions[2].height = 32
    for column, (header, width) in enumerate(zip(HEADERS, WIDTHS, strict=True), start=1):
        cell = sheet.cell(row=3, column=column, value=header)
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        sheet.column_dimensions[cell.column_letter].width = width
    sheet.column_dimensions[KEY].hidden = True
    validations = {
        "count": DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0"),
        "amount": DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0"),
        "signed": DataValidation(type="decimal", operator="between", formula1="-999999999999.99",
                                 formula2="999999999999.99"),
    }
    row, used = FIRST_ROW, set()
    for title, lines in sections(_nature(filing.institution)):
        sheet.cell(row=row, column=2, value=title).font = Font(bold=True)
        for column in range(1, 7):
            sheet.cell(row=row, column=column).fill = SECTION_FILL
        row += 1
        for line in lines:
            number_format = "0" if line.places is None else "0." + "0" * line.places
            for column, value in enumerate((line.number, line.label, line.unit), start=1):
                sheet.cell(row=row, column=column, value=value)
            value = sheet.cell(row=row, column=4, value=getattr(stats, line.name))
            value.number_format, value.fill, value.protection = number_format, EDITABLE_FILL, Protection(locked=False)
            before = sheet.cell(row=row, column=5,
                                value=getattr(previous, line.name) if previous is not None else None)
            before.number_format = number_format
            sheet.cell(row=row, column=6, value=_notes(line)).alignment = Alignment(wrap_text=True)
            sheet.cell(row=row, column=7, value=line.name)
            kind = "count" if line.places is None else "signed" if line.signed else "amount"
            validations[kind].add(f"{VALUE}{row}")
            validations[kind].error = f"{line.rule}。"
            used.add(kind)
            row += 1
    for kind in used:
        validation = validations[kind]
        validation.showErrorMessage, validation.errorTitle, validation.allow_blank = True, "输入有误", True
        sheet.add_data_validation(validation)
    sheet.freeze_panes = f"A{FIRST_ROW}"
    sheet.protection.sheet = True  # no password: it prevents slips, not a determined user (the upload checks all)
    sheet.protection.formatColumns = False
    meta = book.create_sheet(META_SHEET)
    meta["A1"] = make_token(filing)
    meta["A2"] = "离线填报模板标识，请勿修改；上传时据此确定所属填报和版本。"
    meta.protection.sheet = True
    meta.sheet_state = "veryHidden"
    book.security = WorkbookProtection(lockStructure=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- reading an upload ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CellProblem:
    """A problem of the file shown to the filer: the cells it concerns (the first carries it), the field, the text."""

    cells: tuple[str, ...]
    field: str
    message: str

    @property
    def cell(self) -> str:
        return "、".join(self.cells)

    def __str__(self) -> str:
        return f"{self.cells[0]} {self.field}：{self.message}"


@dataclass
class Outcome:
    problems: list[CellProblem] = field(default_factory=list)
    warnings: list = field(default_factory=list)  # checks.Finding of the saved figures that need an explanation
    filing: object = None

    @property
    def saved(self) -> bool:
        return not self.problems


def _refuse_name(name: str) -> None:
    suffix = Path(name or "").suffix.lower()
    if suffix in MACRO_SUFFIXES:
        raise OfflineRefused(
            "不接受含宏或二进制格式的工作簿（.xlsm、.xlsb 等）：请在 Excel/WPS 中另存为 .xlsx 后上传。"
        )
    if suffix in OLD_SUFFIXES:
        raise OfflineRefused("只接受 .xlsx 格式：请在 Excel/WPS 中将模板另存为 .xlsx（Excel 工作簿）后上传。")
    if suffix != ".xlsx":
        raise OfflineRefused("只接受下载的离线填报模板（.xlsx 文件）。")


def _refuse_macros(workbook) -> None:
    names = workbook.archive.namelist()
    macro = any(name.lower().endswith("vbaproject.bin") for name in names)
    if not macro and "[Content_Types].xml" in names:
        with workbook.archive.open("[Content_Types].xml") as types:
            macro = b"macroEnabled" in types.read(LIMITS.part_bytes)
    if macro:
        raise OfflineRefused("该文件含有宏（VBA），已拒收：请在 Excel/WPS 中另存为不含宏的 .xlsx 后上传。")


def _verify_token(text, filing) -> int:
    """The version the template was downloaded at, once the token proves it is this filing's; else a refusal."""
    if not isinstance(text, str) or not text.strip():
        raise OfflineRefused(NO_TOKEN)
    try:
        token = signing.loads(text.strip(), salt=TOKEN_SALT)
        identity = (token["filing"], token["institution"], token["year"], token["nature"])
        version = int(token["version"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise OfflineRefused(BAD_TOKEN) from None
    if identity[:3] != (filing.pk, filing.institution_id, filing.year.year):
        raise OfflineRefused(f"该文件是其他填报（{identity[2]}年度）的模板，不是本机构{filing.year.year}年度的填报，"
                             "本次上传未保存。请在本填报的“统计调查数据”页下载模板。")
    if version != filing.version:
        raise OfflineRefused(STALE.format(got=version, now=filing.version), status=409)
    if identity[3] != _nature(filing.institution):
        raise OfflineRefused("本机构的机构性质在模板下载后已变更，财务指标随之不同：请重新下载模板，填写后再上传。")
    return version


def _number(value, line: Line):
    """(the cell's value for the form, or None when blank; the problem, or None)."""
    if isinstance(value, Formula):
        if value.cached is None:
            return None, UNCALCULATED
        if isinstance(value.cached, str) and value.cached.startswith("#"):
            return None, f"公式计算出错（{excerpt(value.cached, 20)}），请更正公式或直接填写数值。"
        value = value.cached
    if value is None:
        return None, None
    if isinstance(value, Overlong):
        return None, f"{line.rule}（填写的是 {value.length:,} 个字符的文字）"
    if isinstance(value, bool) or isinstance(value, datetime.date):
        return None, f"{line.rule}（填写的是{'日期' if not isinstance(value, bool) else '逻辑值'}）"
    if isinstance(value, float):
        if not math.isfinite(value):
            return None, line.rule
        number = Decimal(format(value, ".15g"))  # the digits Excel shows, not the binary float's tail
    elif isinstance(value, int):
        number = Decimal(value)
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "")
        if not text:
            return None, None
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None, f"{line.rule}（填写的是“{excerpt(str(value), 20)}”）"
        if not number.is_finite():
            return None, line.rule
    whole = number == number.to_integral_value()
    if line.places is None:
        ok = whole and number >= 0
    else:
        ok = (line.signed or number >= 0) and (whole or -number.normalize().as_tuple().exponent <= line.places)
    if not ok:
        return None, f"{line.rule}（填写的是 {excerpt(format(number.normalize(), 'f'), 30)}）"
    return (int(number) if line.places is None else format(number, "f")), None


def _read(workbook, filing):
    """(version of the template, {field name: (cell, raw value)}) of the upload, or a refusal."""
    names = workbook.sheet_names
    if META_SHEET not in names:
        raise OfflineRefused(NO_TOKEN)
    token = None
    for number, cells in workbook.rows(names.index(META_SHEET), columns=1):
        if number == 1 and cells:
            token = cells[0]
    version = _verify_token(token, filing)
    if SHEET not in names:
        raise OfflineRefused(f"文件中找不到“{SHEET}”工作表：请勿改名或删除，重新下载模板后填写。")
    found = {}
    for number, cells in workbook.rows(names.index(SHEET), columns=7, cached_formulas=True):
        if number > MAX_ROWS:
            raise OfflineRefused(f"“{SHEET}”工作表超过 {MAX_ROWS} 行，不是下载的模板，请重新下载后填写。")
        key = cells[6] if len(cells) > 6 else None
        if isinstance(key, Formula):
            key = key.cached
        if key is None or number < FIRST_ROW:
            continue
        if key in found:
            raise OfflineRefused(f"模板的第 {number} 行与第 {found[key][0][1:]} 行是同一项目（行被复制），"
                                 "请重新下载模板后填写。")
        found[key] = (f"{VALUE}{number}", cells[3] if len(cells) > 3 else None)
    return version, found


def check_upload(filing, upload, *, actor) -> tuple[int, dict, list[CellProblem]]:
    """Read and check an uploaded template without saving: (template version, data for save_part, problems).
    Refusals of the whole file raise OfflineRefused."""
    services.check_editable(filing, actor)
    _refuse_name(getattr(upload, "name", ""))
    if upload.size > MAX_BYTES:
        raise OfflineRefused(f"文件超过 {MAX_BYTES // 1024 // 1024} MB，不是离线填报模板，请重新下载模板后填写。")
    if upload.size == 0:
        raise OfflineRefused("文件是空的。")
    try:
        if not uploads.is_zip(uploads.read_head(upload, 4)):
            raise OfflineRefused("该文件不是真正的 XLSX 工作簿（可能是改了扩展名的其他文件），"
                                 "请在 Excel/WPS 中将模板另存为 .xlsx 后上传。")
        with uploads.open_xlsx(upload, LIMITS) as workbook:
            _refuse_macros(workbook)
            version, found = _read(workbook, filing)
    except FileRefused as refusal:
        raise OfflineRefused(refusal.message) from refusal
    lines = [line for _, section_lines in sections(_nature(filing.institution)) for line in section_lines]
    known = {line.name for line in lines}
    unknown = [key for key in found if key not in known]
    missing = [line.label for line in lines if line.name not in found]
    if unknown or missing:
        detail = f"缺少“{'、'.join(missing[:5])}”" if missing else f"有模板之外的项目“{excerpt(str(unknown[0]), 30)}”"
        raise OfflineRefused(f"文件的行与本填报的指标不一致（{detail}），请重新下载模板后填写。")
    cells = {name: cell for name, (cell, _) in found.items()}
    problems, data = [], {"version": version}
    for line in lines:
        value, problem = _number(found[line.name][1], line)
        if problem:
            problems.append(CellProblem((cells[line.name],), line.label, problem))
        data[line.name] = "" if value is None else value
    if problems:
        return version, {}, problems
    # The web form's own validation (digits, ranges), then the checks of checks.py on the figures as they would be.
    part = FilingStatistics.objects.get(pk=filing.statistics.pk)
    form = StatisticsForm(data, instance=part, nature=filing.institution.nature)
    if not form.is_valid():
        labels = {line.name: line.label for line in lines}
        for name, errors in form.errors.items():
            if name in cells:
                problems.extend(CellProblem((cells[name],), labels[name], error) for error in errors)
        return version, {}, problems or [CellProblem(("—",), "", "文件内容无效，请重新下载模板后填写。")]
    findings = check_statistics(form.instance, previous_approved_statistics(filing))
    for finding in findings:
        if finding.is_error:
            names = [name.removeprefix("statistics.") for name in finding.fields]
            involved = tuple(cells[name] for name in names if name in cells) or ("—",)
            label = Indicator.split_label(names[0])[0] if names[0] in cells else ""
            problems.append(CellProblem(involved, label, f"【{finding.code}】{finding.message}"))
    cleaned = {name: value for name, value in form.cleaned_data.items() if name != "version"}
    return version, cleaned, problems


def import_statistics(filing, upload, *, actor) -> Outcome:
    """Save the statistics of an uploaded template, or nothing when any cell has a problem (returned by cell)."""
    version, data, problems = check_upload(filing, upload, actor=actor)
    if problems:
        return Outcome(problems=problems)
    try:
        saved = services.save_part(filing, filing.statistics, actor=actor, expected_version=version, data=data)
    except TransitionRefused as refusal:
        if refusal.status == 409:  # saved on the web between our reading and the save
            raise OfflineRefused(RACE, status=409) from refusal
        raise
    # Warnings do not block a save; those still unexplained are told, as the web form shows them after a save.
    explained = set(saved.explanations.exclude(text="").values_list("code", flat=True))
    warnings = [finding for finding in run_checks(saved) if not finding.is_error
                and finding.field.startswith("statistics.") and finding.code not in explained]
    return Outcome(warnings=warnings, filing=saved)
