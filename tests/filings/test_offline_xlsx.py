"""离线填报: the statistics part downloaded as an XLSX template (draft and last year's approved values), filled in and
uploaded again. The same checks run, every problem names its cell, nothing is saved while the file has an error, and
only a template of this very filing, at its current version, from its own filer inside the window is accepted."""
import datetime
import io
import re
import shutil
import subprocess
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from filings import offline
from filings.models import Filing, FilingStatistics
from tests import factories
from tests.factories import COMPLETE_STATISTICS

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, filer):
    client.force_login(filer)
    return client


def download(client, filing) -> bytes:
    response = client.get(reverse("filings:offline_template", args=[filing.pk]))
    assert response.status_code == 200, response
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    return b"".join(response.streaming_content)


def rows_by_field(sheet) -> dict:
    """{field name: row number} from the hidden key column."""
    return {sheet[f"G{row}"].value: row for row in range(1, sheet.max_row + 1) if sheet[f"G{row}"].value}


def fill(content: bytes, **values) -> bytes:
    """The template with these fields' 本年填报 cells set (as Excel would store what the filer typed)."""
    book = load_workbook(io.BytesIO(content))
    sheet = book[offline.SHEET]
    rows = rows_by_field(sheet)
    for name, value in values.items():
        sheet[f"D{rows[name]}"] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def cell_of(content: bytes, name: str) -> str:
    return f"D{rows_by_field(load_workbook(io.BytesIO(content))[offline.SHEET])[name]}"


def replace_member(content: bytes, member: str, change) -> bytes:
    """The zip with one member's bytes changed by `change` (or added when absent)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info, change(data) if info.filename == member else data)
        if member not in source.namelist():
            target.writestr(member, change(b""))
    return out.getvalue()


def upload(client, filing, content: bytes, name="统计调查数据.xlsx"):
    return client.post(reverse("filings:offline_upload", args=[filing.pk]),
                       {"file": SimpleUploadedFile(name, content)}, follow=True)


def saved_state(filing):
    fresh = Filing.objects.get(pk=filing.pk)
    return fresh.version, {name: getattr(fresh.statistics, name) for name in COMPLETE_STATISTICS}


@pytest.fixture
def last_year(filer):
    return factories.make_filing(filer.institution, year=factories.ReportingYearFactory(year=2024),
                                 status=Filing.Status.APPROVED, staff_total=48, lab_area=Decimal("2300.50"))


# --- the template ---------------------------------------------------------------------------------------------------

def test_the_template_holds_the_draft_and_last_years_approved_values(logged_in, filing, last_year):
    book = load_workbook(io.BytesIO(download(logged_in, filing)))
    sheet = book[offline.SHEET]
    assert [cell.value for cell in sheet[3]][:6] == ["序号", "项目", "单位", "本年填报", "上年审核通过值", "说明"]
    rows = rows_by_field(sheet)
    staff, area = rows["staff_total"], rows["lab_area"]
    assert (sheet[f"B{staff}"].value, sheet[f"C{staff}"].value) == ("从业人员", "人")
    assert (sheet[f"D{staff}"].value, sheet[f"E{staff}"].value) == (50, 48)
    assert (Decimal(str(sheet[f"D{area}"].value)), Decimal(str(sheet[f"E{area}"].value))) == (
        Decimal("2400"), Decimal("2300.5"))
    assert "必填" in sheet[f"F{staff}"].value
    # Grouped by the form's sections, with only this nature's finance figures.
    titles = [sheet[f"B{row}"].value for row in range(4, sheet.max_row + 1) if not sheet[f"G{row}"].value]
    assert titles == ["2. 人员", "3. 仪器设备", "4. 场地与资产", "5. 业务量", "6. 科研与标准", "7. 财务"]
    assert "enterprise_costs" in rows and "public_income_total" not in rows
    # Only the 本年填报 cells are open; the sheet is protected without a password; numbers are validated.
    assert sheet.protection.sheet and not sheet.protection.password
    assert not sheet[f"D{staff}"].protection.locked and sheet[f"E{staff}"].protection.locked
    assert sheet[f"B{staff}"].protection.locked and sheet.column_dimensions["G"].hidden
    kinds = {str(validation.sqref): (validation.type, validation.operator, validation.formula1)
             for validation in sheet.data_validations.dataValidation}
    cells = {cell: kind for sqref, kind in kinds.items() for cell in sqref.split()}
    assert cells[f"D{staff}"] == ("whole", "greaterThanOrEqual", "0")
    assert cells[f"D{area}"] == ("decimal", "greaterThanOrEqual", "0")
    assert cells[f"D{rows['enterprise_profit']}"][:2] == ("decimal", "between")  # a profit may be a loss
    # The filing is named by a signed token in a very hidden sheet.
    meta = book[offline.META_SHEET]
    assert meta.sheet_state == "veryHidden"
    token = offline.signing.loads(meta["A1"].value, salt=offline.TOKEN_SALT)
    assert token == {"filing": filing.pk, "institution": filing.institution_id, "year": 2025,
                     "version": filing.version, "nature": "enterprise"}


def test_the_template_lines_are_the_forms_fields(filing):
    from filings.forms import StatisticsForm

    for nature in ("enterprise", "public"):
        names = {line.name for _, lines in offline.sections(nature) for line in lines}
        assert names == set(StatisticsForm(instance=filing.statistics, nature=nature).fields) - {"version"}


def test_a_draft_with_blank_figures_gives_blank_cells(logged_in, filer, year):
    filing = factories.make_filing(filer.institution, year=year, complete=False)
    sheet = load_workbook(io.BytesIO(download(logged_in, filing)))[offline.SHEET]
    assert sheet[f"D{rows_by_field(sheet)['staff_total']}"].value is None


# --- a good file is saved as a web save --------------------------------------------------------------------------

def test_a_filled_template_is_saved_like_a_web_save(logged_in, filing):
    before = Filing.objects.get(pk=filing.pk).version
    content = fill(download(logged_in, filing), research_projects=7, revenue=912.25, reports_other="600",
                   reports_total=12100)
    response = upload(logged_in, filing, content)
    assert response.redirect_chain[-1][0] == reverse("filings:statistics", args=[filing.pk])
    assert "已按上传的文件保存草稿" in response.content.decode()
    version, values = saved_state(filing)
    assert version == before + 1
    assert (values["research_projects"], values["revenue"], values["reports_other"]) == (7, Decimal("912.25"), 600)
    assert Filing.objects.get(pk=filing.pk).statistics_saved_at is not None
    # The same file again is a stale template: it was downloaded before the save it made.
    again = upload(logged_in, filing, content).content.decode()
    assert "请重新下载模板" in again and saved_state(filing)[0] == version


def test_warnings_are_saved_and_the_filer_is_told_to_explain_them_on_the_web(logged_in, filing, last_year):
    content = fill(download(logged_in, filing), revenue=5000)
    body = upload(logged_in, filing, content).content.decode()
    assert "已按上传的文件保存草稿" in body and "W202" in body and "校验与提交" in body
    assert saved_state(filing)[1]["revenue"] == Decimal("5000")


def test_numbers_typed_as_text_and_floats_are_read_as_the_spreadsheet_shows_them(logged_in, filing):
    content = fill(download(logged_in, filing), lab_area="２,４００.5", total_assets=0.1 + 0.2)
    upload(logged_in, filing, content)
    values = saved_state(filing)[1]
    assert (values["lab_area"], values["total_assets"]) == (Decimal("2400.50"), Decimal("0.30"))


def test_a_formula_counts_by_its_cached_value(logged_in, filing):
    content = fill(download(logged_in, filing), research_projects="=3+4")
    cell = cell_of(content, "research_projects")
    sheet = "xl/worksheets/sheet1.xml"
    cached = replace_member(content, sheet, lambda xml: xml.replace(b"<f>3+4</f><v></v>", b"<f>3+4</f><v>7</v>"))
    assert b"<v>7</v>" in zipfile.ZipFile(io.BytesIO(cached)).read(sheet)
    upload(logged_in, filing, cached)
    assert saved_state(filing)[1]["research_projects"] == 7, cell


# --- problems by cell, nothing saved ------------------------------------------------------------------------------

def problems_table(body: str) -> list[tuple[str, str, str]]:
    table = re.search(r'data-testid="offline-problems".*?</table>', body, re.S)
    assert table, "no table of problems on the page"
    rows = re.findall(r"<tr><td[^>]*>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table.group(0))
    return [tuple(part.strip() for part in row) for row in rows]


def test_type_errors_are_reported_by_cell_and_nothing_is_saved(logged_in, filing):
    before = saved_state(filing)
    content = fill(download(logged_in, filing), reports_total="很多", staff_total=-1, revenue=1.234,
                   research_projects=2.5, patents_valid=datetime.date(2025, 1, 1))
    body = upload(logged_in, filing, content).content.decode()
    assert "本次上传未保存任何内容" in body
    rows = {cell: (field, message) for cell, field, message in problems_table(body)}
    assert rows[cell_of(content, "reports_total")] == ("出具检验检测报告", "须为不小于 0 的整数（填写的是“很多”）")
    assert rows[cell_of(content, "staff_total")][1].startswith("须为不小于 0 的整数")
    assert rows[cell_of(content, "revenue")][1].startswith("须为不小于 0 的数值，最多 2 位小数")
    assert "整数" in rows[cell_of(content, "research_projects")][1]
    assert "日期" in rows[cell_of(content, "patents_valid")][1]
    assert saved_state(filing) == before


def test_a_problem_reads_cell_field_and_message():
    problem = offline.CellProblem(("D12",), "出具检验检测报告", "须为不小于 0 的整数")
    assert str(problem) == "D12 出具检验检测报告：须为不小于 0 的整数"


def test_a_formula_without_a_cached_value_is_never_evaluated(logged_in, filing):
    before = saved_state(filing)
    content = fill(download(logged_in, filing), research_projects="=3+4")
    body = upload(logged_in, filing, content).content.decode()
    (cell, field, message), = problems_table(body)
    assert (cell, field) == (cell_of(content, "research_projects"), "科研项目")
    assert message.startswith("公式未计算出结果，请在 Excel/WPS 中重新计算并保存后上传")
    assert saved_state(filing) == before


def test_cross_field_errors_name_every_cell_involved(logged_in, filing):
    before = saved_state(filing)
    content = fill(download(logged_in, filing), staff_master=9, patents_invention=5)
    rows = problems_table(upload(logged_in, filing, content).content.decode())
    education = next(row for row in rows if "【E102】" in row[2])
    cells = education[0].split("、")
    assert cells[0] == cell_of(content, "staff_doctorate")
    assert set(cells) == {cell_of(content, name) for name in ("staff_doctorate", "staff_total", "staff_master",
                                                                "staff_bachelor", "staff_college_or_below")}
    patents = next(row for row in rows if "【E108】" in row[2])
    assert patents[0].split("、") == [cell_of(content, "patents_invention"), cell_of(content, "patents_valid")]
    assert saved_state(filing) == before


def test_a_required_figure_left_blank_blocks_the_save(logged_in, filing):
    before = saved_state(filing)
    content = fill(download(logged_in, filing), lab_area=None)
    rows = problems_table(upload(logged_in, filing, content).content.decode())
    assert (cell_of(content, "lab_area"), "实验室面积") == rows[0][:2] and "【E101】" in rows[0][2]
    assert saved_state(filing) == before


def test_a_figure_too_large_for_the_field_is_named_by_the_forms_own_message(logged_in, filing):
    content = fill(download(logged_in, filing), total_assets=10 ** 13)
    rows = problems_table(upload(logged_in, filing, content).content.decode())
    assert rows[0][0] == cell_of(content, "total_assets") and "小数点前不超过 12 位" in rows[0][2]


# --- refused files ------------------------------------------------------------------------------------------------

def refused(response, text):
    body = response.content.decode()
    assert "上传未保存：" in body and text in body, re.findall(r"上传未保存：[^<]*", body)


def test_a_file_that_is_not_really_xlsx_is_refused(logged_in, filing):
    before = saved_state(filing)
    refused(upload(logged_in, filing, "序号,项目\n1,从业人员\n".encode()), "不是真正的 XLSX 工作簿")
    refused(upload(logged_in, filing, b"PK\x03\x04 broken"), "已损坏")
    assert saved_state(filing) == before


def test_an_oversized_file_is_refused(logged_in, filing):
    refused(upload(logged_in, filing, b"PK\x03\x04" + b"\0" * offline.MAX_BYTES), "文件超过 2 MB")


def test_macro_workbooks_are_refused_by_name_and_by_content(logged_in, filing):
    content = fill(download(logged_in, filing), research_projects=9)
    refused(upload(logged_in, filing, content, name="统计.xlsm"), "不接受含宏")
    with_macro = replace_member(content, "xl/vbaProject.bin", lambda data: b"\xd0\xcf\x11\xe0 macro")
    refused(upload(logged_in, filing, with_macro), "含有宏")
    refused(upload(logged_in, filing, content, name="统计.xls"), "只接受 .xlsx")
    assert saved_state(filing)[1]["research_projects"] == 2


def test_a_zip_bomb_is_refused(logged_in, filing):
    bomb = replace_member(download(logged_in, filing), "xl/media/image1.bin", lambda data: b"\0" * (30 * 1024 * 1024))
    assert len(bomb) < offline.MAX_BYTES
    refused(upload(logged_in, filing, bomb), "压缩炸弹")


def test_a_tampered_or_missing_token_is_refused(logged_in, filing):
    content = download(logged_in, filing)
    book = load_workbook(io.BytesIO(content))
    token = book[offline.META_SHEET]["A1"].value
    book[offline.META_SHEET]["A1"] = token.replace(f'"version":{filing.version}', '"version":99')[:-3] + "abc"
    out = io.BytesIO()
    book.save(out)
    refused(upload(logged_in, filing, out.getvalue()), "模板标识无效或已被改动")
    del book[offline.META_SHEET]
    out = io.BytesIO()
    book.save(out)
    refused(upload(logged_in, filing, out.getvalue()), "文件中没有离线填报模板的标识")


def test_another_filings_template_is_refused(logged_in, filer, filing):
    older = factories.make_filing(filer.institution, year=factories.ReportingYearFactory(year=2024))
    content = fill(download(logged_in, older), research_projects=9)
    refused(upload(logged_in, filing, content), "是其他填报（2024年度）的模板")
    other_lab = factories.make_filing(year=filing.year)
    other_filer = factories.FilerFactory(institution=other_lab.institution)
    logged_in.force_login(other_filer)
    foreign = download(logged_in, other_lab)
    logged_in.force_login(filer)
    refused(upload(logged_in, filing, foreign), "不是本机构2025年度的填报")
    assert saved_state(filing)[1]["research_projects"] == 2


def test_a_template_older_than_a_web_save_is_refused(logged_in, filing):
    content = fill(download(logged_in, filing), research_projects=9)
    data = {**COMPLETE_STATISTICS, "research_projects": 3, "version": Filing.objects.get(pk=filing.pk).version,
            "save": "1"}
    assert logged_in.post(reverse("filings:statistics", args=[filing.pk]), data).status_code == 302
    response = upload(logged_in, filing, content)
    refused(response, "请重新下载模板")
    assert saved_state(filing)[1]["research_projects"] == 3


def test_nothing_is_accepted_after_the_window_closes(logged_in, filing):
    content = fill(download(logged_in, filing), research_projects=9)
    filing.year.closes_at = timezone.now() - datetime.timedelta(minutes=1)
    filing.year.save()
    refused(upload(logged_in, filing, content), "截止")
    assert saved_state(filing)[1]["research_projects"] == 2
    body = logged_in.get(reverse("filings:statistics", args=[filing.pk])).content.decode()
    assert 'data-testid="offline-download"' in body and 'action="' + reverse(
        "filings:offline_upload", args=[filing.pk]) not in body


def test_a_submitted_filing_takes_no_upload(logged_in, filing):
    content = fill(download(logged_in, filing), research_projects=9)
    Filing.objects.filter(pk=filing.pk).update(status=Filing.Status.SUBMITTED)
    refused(upload(logged_in, filing, content), "不能修改")


def test_an_extension_reopens_the_upload(logged_in, filing, province_reviewer):
    content = fill(download(logged_in, filing), research_projects=9)
    filing.year.closes_at = timezone.now() - datetime.timedelta(minutes=1)
    filing.year.save()
    from filings.models import Extension

    Extension.objects.create(institution=filing.institution, year=filing.year, reason="设备检修",
                             until=timezone.now() + datetime.timedelta(days=3), granted_by=province_reviewer)
    upload(logged_in, filing, content)
    assert saved_state(filing)[1]["research_projects"] == 9


def test_other_users_can_neither_download_nor_upload(client, filer, filing):
    content = fill(download(client_for(client, filer), filing), research_projects=9)
    other = factories.FilerFactory(institution=factories.filing_ready_institution())
    for user, status in [(other, 404), (factories.CityOfficerFactory(region=filing.institution.city), 403)]:
        client.force_login(user)
        assert client.get(reverse("filings:offline_template", args=[filing.pk])).status_code == status
        response = client.post(reverse("filings:offline_upload", args=[filing.pk]),
                               {"file": SimpleUploadedFile("a.xlsx", content)})
        assert response.status_code == status
    client.logout()
    response = client.post(reverse("filings:offline_upload", args=[filing.pk]),
                           {"file": SimpleUploadedFile("a.xlsx", content)})
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert saved_state(filing)[1]["research_projects"] == 2
    assert FilingStatistics.objects.get(filing=filing).research_projects == 2


def client_for(client, user):
    client.force_login(user)
    return client


# --- the reader's cached-formula mode -----------------------------------------------------------------------------

def test_the_reader_gives_formulas_with_their_cached_values_only_when_asked(logged_in, filing):
    from config import uploads

    content = fill(download(logged_in, filing), research_projects="=3+4", patents_valid="=1/0")
    sheet = "xl/worksheets/sheet1.xml"
    content = replace_member(content, sheet, lambda xml: re.sub(
        rb"(<c [^>]*)><f>1/0</f><v></v>", rb'\1 t="e"><f>1/0</f><v>#DIV/0!</v>',
        xml.replace(b"<f>3+4</f><v></v>", b"<f>3+4</f><v>7</v>")))
    row = int(cell_of(content, "research_projects")[1:])
    with uploads.open_xlsx(io.BytesIO(content), offline.LIMITS) as workbook:
        plain = dict(workbook.rows(0, columns=4))
    with uploads.open_xlsx(io.BytesIO(content), offline.LIMITS) as workbook:
        cached = dict(workbook.rows(0, columns=4, cached_formulas=True))
    assert plain[row][3] == "=3+4"
    assert cached[row][3] == uploads.Formula("=3+4", 7)
    body = upload(logged_in, filing, content).content.decode()
    assert "公式计算出错（#DIV/0!）" in body


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice (soffice) is not installed")
def test_a_template_saved_again_by_an_office_suite_is_accepted_with_its_formulas_calculated(logged_in, filing,
                                                                                          tmp_path):
    """LibreOffice stands in for Excel/WPS: it keeps the hidden sheet and column, and stores each formula's result."""
    source = tmp_path / "in" / "统计.xlsx"
    source.parent.mkdir()
    source.write_bytes(fill(download(logged_in, filing), research_projects="=3+4", revenue=912.25))
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--convert-to", "xlsx", "--outdir", str(tmp_path / "out"), str(source)],
                   check=True, capture_output=True, timeout=600)
    body = upload(logged_in, filing, (tmp_path / "out" / "统计.xlsx").read_bytes()).content.decode()
    assert "已按上传的文件保存草稿" in body, re.findall(r"上传未保存：[^<]*", body)
    values = saved_state(filing)[1]
    assert (values["research_projects"], values["revenue"]) == (7, Decimal("912.25"))
