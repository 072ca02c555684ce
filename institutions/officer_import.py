"""Officer accounts imported in bulk from an XLSX workbook (admins: any region; provincial reviewers: their province
and its cities). Like the register import, every row is checked first and each problem reported by row and column;
if any row fails nothing is written, otherwise every account is created in one transaction, inactive until its owner
sets a password from the e-mailed link. Officer files are small (at most MAX_ROWS rows), so the import runs in the
request."""
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from accounts import permissions
from accounts.institution_accounts import send_invitation_on_commit
from accounts.models import IMPORTABLE_OFFICER_ROLES, User
from accounts.validators import validate_new_username
from config import uploads
from config.uploads import FileRefused, Overlong, excerpt

from .imports import XLSX_LIMITS
from .models import Region

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000
COLUMNS = {"username": "用户名", "full_name": "姓名", "email": "电子邮箱", "role": "角色", "region": "所属区划"}
ROLE_LABELS = [label for _, label in IMPORTABLE_OFFICER_ROLES]
EXAMPLE = ["cs_wangwu", "王五", "wangwu@example.gov.cn", ROLE_LABELS[0], "长沙市"]


@dataclass
class ImportOutcome:
    errors: list[dict] = field(default_factory=list)
    created: list[User] = field(default_factory=list)

    def add(self, row: int, column: str, message: str):
        self.errors.append({"row": row, "column": column, "message": message})


def import_officers(handle, filename: str, *, actor, base_url: str) -> ImportOutcome:
    """Check every row; create all the accounts, or none if any row fails (the outcome lists the problems)."""
    if not permissions.can_import_officers(actor):
        raise FileRefused("您没有导入监管人员账号的权限。", status=403)
    outcome = ImportOutcome()
    try:
        rows = _read(handle, filename)
    except FileRefused as refusal:
        outcome.add(1, "文件", str(refusal))
        return outcome
    users = _check(rows, actor, outcome)
    if outcome.errors:
        return outcome
    with transaction.atomic():
        for user in users:
            user.set_unusable_password()
            user.save()
            send_invitation_on_commit(user.pk, base_url)
    outcome.created = users
    return outcome


def _read(handle, filename: str) -> list[tuple[int, dict]]:
    handle.seek(0, 2)
    if handle.tell() > MAX_UPLOAD_BYTES:
        raise FileRefused(f"文件超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB。")
    handle.seek(0)
    if not filename.lower().endswith(".xlsx"):
        raise FileRefused("只能导入 .xlsx 文件，请使用下载的模板。")
    rows = []
    with uploads.open_xlsx(handle, XLSX_LIMITS) as workbook:
        if not workbook.worksheets:
            raise FileRefused("工作簿中没有工作表，请使用下载的模板。")
        columns = None
        for number, cells in workbook.rows(workbook.worksheets[0], columns=len(COLUMNS) + 5):
            if columns is None:
                columns = _header(cells) if number == 1 else _header([])
                continue
            values = {key: _text(cells[index]) if index < len(cells) else "" for key, index in columns.items()}
            if not any(values.values()):
                continue
            if len(rows) >= MAX_ROWS:
                raise FileRefused(f"一次最多导入 {MAX_ROWS} 个账号，请拆分文件。")
            rows.append((number, values))
    if not rows:
        raise FileRefused("文件中除列标题外没有数据行。")
    return rows


def _text(value):
    if isinstance(value, Overlong):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def _header(cells) -> dict[str, int]:
    titles = {str(cell or "").strip().rstrip("*＊"): index for index, cell in enumerate(cells)}
    missing = [title for title in COLUMNS.values() if title not in titles]
    if missing:
        raise FileRefused(f"第1行缺少列：{'、'.join(missing)}。请使用下载的模板。")
    return {key: titles[title] for key, title in COLUMNS.items()}


def _check(rows, actor, outcome: ImportOutcome) -> list[User]:
    regions = {}
    for region in Region.objects.filter(level__in=[Region.Level.PROVINCE, Region.Level.CITY]).current():
        regions.setdefault(region.code, region)
        regions.setdefault(region.name, region)
    seen: dict[str, int] = {}
    users = []
    for number, values in rows:
        errors_before = len(outcome.errors)
        for key, title in COLUMNS.items():
            value = values[key]
            if isinstance(value, Overlong):
                outcome.add(number, title, f"内容过长（共 {value.length:,} 个字符）。")
                values[key] = ""
            elif not value:
                outcome.add(number, title, "必填，不能为空。")
            elif value.startswith(("=", "+", "@")):
                outcome.add(number, title, "不能以“=”“+”或“@”开头（可能被表格软件当作公式）。")
                values[key] = ""
        username, email = values["username"], values["email"]
        if username:
            try:
                validate_new_username(username)
            except ValidationError as error:
                outcome.add(number, COLUMNS["username"], f"“{excerpt(username, 30)}”：{error.messages[0]}")
            if username.casefold() in seen:
                outcome.add(number, COLUMNS["username"], f"与第 {seen[username.casefold()]} 行的用户名重复。")
            seen.setdefault(username.casefold(), number)
        if email:
            try:
                validate_email(email)
            except ValidationError:
                outcome.add(number, COLUMNS["email"], f"“{excerpt(email, 40)}”不是有效的电子邮箱地址。")
        user = User.objects.new_officer(values["role"], username=username, first_name=values["full_name"],
                                        email=email, is_active=False)
        if values["role"] and user is None:
            options = "、".join(ROLE_LABELS)
            outcome.add(number, COLUMNS["role"], f"“{excerpt(values['role'], 20)}”不是可选值（可填：{options}）。")
        region = regions.get(values["region"]) if values["region"] else None
        if values["region"] and region is None:
            outcome.add(number, COLUMNS["region"], f"没有名称或代码为“{excerpt(values['region'], 20)}”的省份或市州。")
        if user and region:
            level = user.required_region_level()
            if region.level != level:
                wanted = "市州" if level == Region.Level.CITY else "省份"
                outcome.add(number, COLUMNS["region"], f"{values['role']}的所属区划应为{wanted}，“{region.name}”不是。")
            elif not permissions.can_import_officer(actor, region):
                outcome.add(number, COLUMNS["region"], f"“{region.name}”不在您的辖区内，只能导入本省的人员账号。")
        if len(outcome.errors) == errors_before:
            user.region = region
            users.append(user)
    return users


def template_workbook() -> Workbook:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "监管人员账号"
    for index, title in enumerate(COLUMNS.values(), start=1):
        cell = sheet.cell(row=1, column=index, value=title)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        sheet.cell(row=2, column=index, value=EXAMPLE[index - 1]).number_format = "@"
        sheet.column_dimensions[chr(64 + index)].width = 24
    notes = workbook.create_sheet("填写说明")
    for line in [
        "每行一个账号，五列均必填；角色填“市州局人员”或“省局审核人员”。",
        "所属区划填名称（如 长沙市、湖南省）或6位区划代码：市州局人员填市州，省局审核人员填省份。",
        "用户名只能使用半角字母、数字和 . _ - @，不能与已有账号重复（不区分大小写）。",
        "任何一行有错误时不会创建任何账号；请按提示逐行改正后重新上传。",
        "导入成功后，系统向每个账号的电子邮箱发送设置密码的链接，设置密码后账号即可登录。",
    ]:
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    return workbook
