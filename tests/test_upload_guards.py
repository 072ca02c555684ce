"""Uploads are bounded by what they contain, not only by their size (config/uploads.py), for report-number uploads and
register imports alike: a huge cell is counted, never built (memory measured in a subprocess); a zip that inflates
hugely is a suspected zip bomb whatever its members; UTF-16 is named as such; what a user sent is echoed back with
control and invisible characters escaped."""
import csv
import io
import json
import random
import re
import subprocess
import sys
import time
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from config import uploads
from institutions import imports, register_import, selectors as institution_selectors
from institutions.models import ImportJob, Institution
from reports import ingest, staging
from reports.ingest import FileRefused, read_records
from reports.models import ReportNumber, ReportNumberBatch
from reports.quarters import recent_quarters
from tests import factories

HEADER = [column.header for column in imports.COLUMNS]
HUGE = 64_000_000  # characters in one cell: compresses to about 2 MB
MEMORY_BOUND = 40 * 1024 * 1024  # reading the whole cell would take more than 64 MB


def _huge_text(member, chars: int) -> None:
    """Write `chars` characters that compress about 30:1 (under the zip-bomb ratio, as real text would)."""
    rnd = random.Random(1)
    block = "".join(rnd.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") + "7" * 39 for _ in range(25_000)).encode()
    left = chars
    while left > 0:
        piece = block[:left]
        member.write(piece)
        left -= len(piece)


def xlsx_with_huge_cell(path: Path, rows, chars: int, shared: bool = False) -> Path:
    """A workbook made by openpyxl (which writes text inline in the sheet; with `shared`, moved to a shared-string
    table as Excel keeps it) whose cell "HUGE" is replaced, in the zip, by `chars` characters."""
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    with zipfile.ZipFile(buffer) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    if shared:
        _share_strings(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            if b">HUGE<" not in data:
                target.writestr(name, data)
                continue
            before, after = data.split(b">HUGE<")
            with target.open(name, "w") as member:
                member.write(before + b">")
                _huge_text(member, chars)
                member.write(b"<" + after)
    return path


def _share_strings(parts: dict) -> None:
    strings = []

    def share(match):
        strings.append(match.group(1))
        return b't="s"><v>%d</v>' % (len(strings) - 1)

    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = re.sub(rb't="inlineStr"><is><t>(.*?)</t></is>', share, parts[sheet])
    parts["xl/sharedStrings.xml"] = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + b"".join(b"<si><t>%s</t></si>" % text for text in strings) + b"</sst>"
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(b"</Relationships>", (
        b'<Relationship Id="rIdShared" Target="sharedStrings.xml" '
        b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>'
    ))
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", (
        b'<Override PartName="/xl/sharedStrings.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    ))


_MEASURE = """
import json, resource, sys
import django
django.setup()
from reports import ingest
from institutions import imports
from config.uploads import Overlong

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

path, kind = sys.argv[1], sys.argv[2]
baseline = peak()
if kind == "report-numbers":
    encoding, records = ingest.read_records(path, "xlsx")
    result = [item if isinstance(item, str) else [item.line, item.reason, len(item.text)] for item in records]
else:
    with open(path, "rb") as handle:
        rows, empty = imports.read_rows(handle, "名录.xlsx")
    name = rows[0].values["name"]
    result = [rows[0].number, type(name).__name__, getattr(name, "length", None), len(str(name))]
print(json.dumps({"growth": peak() - baseline, "result": result}))
"""


def measure(path: Path, kind: str) -> dict:
    """Read the file in a fresh interpreter and return its result and how much its peak memory grew."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), kind], cwd=settings.BASE_DIR, capture_output=True, text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- memory stays bounded whatever a cell holds -------------------------------------------------------------------

@pytest.mark.parametrize("shared", [True, False], ids=["shared-string", "inline-string"])
def test_a_64_million_character_cell_is_a_rejected_line_read_in_bounded_memory(tmp_path, shared):
    path = xlsx_with_huge_cell(tmp_path / "n.xlsx", [["报告编号"], ["A-1"], ["HUGE"], ["B-2"]], HUGE, shared=shared)
    assert path.stat().st_size < 4 * 1024 * 1024
    outcome = measure(path, "report-numbers")
    assert outcome["result"] == ["A-1", [3, f"长度超过64个字符（共{HUGE}个）", 100], "B-2"]
    assert outcome["growth"] < MEMORY_BOUND, f"peak memory grew by {outcome['growth'] / 1024 / 1024:.0f} MB"


def test_the_shared_string_workbooks_of_these_tests_are_what_openpyxl_reads(tmp_path):
    path = xlsx_with_huge_cell(tmp_path / "n.xlsx", [["A-1"], ["HUGE"], [7]], 10, shared=True)
    with zipfile.ZipFile(path) as archive:
        assert b't="s"' in archive.read("xl/worksheets/sheet1.xml")
    values = [row[0] for row in openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True)]
    assert values == ["A-1", "E777777777", 7]
    assert list(read_records(path, "xlsx")[1]) == ["A-1", "E777777777", "7"]


def _replace_member(path: Path, name: str, replacements: dict) -> Path:
    target = path.with_name("replaced-" + path.name)
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            if info.filename != name:
                out.writestr(info.filename, source.read(info))
                continue
            with source.open(info) as member_in, out.open(name, "w") as member_out:
                while chunk := member_in.read(1024 * 1024):
                    for old, new in replacements.items():
                        chunk = chunk.replace(old, new)
                    member_out.write(chunk)
    return target


def test_a_64_million_character_register_cell_is_kept_as_its_length_in_bounded_memory(tmp_path):
    row = ["91430100MA4L0000X1", "HUGE", "长沙市"] + [""] * (len(HEADER) - 3)
    path = xlsx_with_huge_cell(tmp_path / "名录.xlsx", [HEADER, row], HUGE, shared=True)
    outcome = measure(path, "register")
    assert outcome["result"] == [2, "Overlong", HUGE, imports.CELL_CHARS]
    assert outcome["growth"] < MEMORY_BOUND, f"peak memory grew by {outcome['growth'] / 1024 / 1024:.0f} MB"


@pytest.fixture
def institution(db):
    return factories.InstitutionFactory()


def test_an_over_long_cell_is_a_rejected_line_with_its_row_and_a_truncated_text(tmp_path, institution):
    path = xlsx_with_huge_cell(tmp_path / "n.xlsx", [["A-1"], ["HUGE"], ["B-2"]], 1_000_000, shared=True)
    batch = ReportNumberBatch.objects.create(institution=institution, year=2024, quarter=1)
    batch = staging.ingest_file(batch, path)
    assert (batch.status, batch.accepted, batch.rejected) == ("done", 2, 1)
    rows = list(csv.reader(io.StringIO(batch.rejects_file.open("rb").read().decode("utf-8-sig"))))
    line, text, reason = rows[1]
    assert line == "2" and reason == "长度超过64个字符（共1000000个）"
    assert text == "E777777777777777777777777777777777777777U" + "7" * 39 + "C" + "7" * 19  # its first 100 characters
    assert sorted(ReportNumber.objects.values_list("number", flat=True)) == ["A-1", "B-2"]


@pytest.fixture
def admin(db):
    return factories.AdminFactory()


def register_csv(rows, header=HEADER, encoding="utf-8-sig", name="名录.csv"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(encoding))


def register_row(**values):
    values = {
        "统一社会信用代码": factories.make_credit_code(1), "机构名称": "湖南一号检测有限公司", "所在市州": "长沙市",
        **values,
    }
    return [values.get(header, "") for header in HEADER]


def check(job_file, name, admin):
    job_file.seek(0)
    return imports.check_file(job_file, name, actor=admin, region=institution_selectors.import_region_for(admin))


def test_a_register_cell_longer_than_its_column_is_a_row_error(admin, on_commit_immediately, tmp_path):
    rows = [HEADER, register_row(机构名称="HUGE", 注册地址="长" * 301)]
    data = xlsx_with_huge_cell(tmp_path / "名录.xlsx", rows, 1_000_000, shared=True).read_bytes()
    job = register_import.start_import(actor=admin, upload=SimpleUploadedFile("名录.xlsx", data))
    job.refresh_from_db()
    assert job.status == "invalid"
    assert {"row": 2, "column": "机构名称", "message": "超过 200 个字符（共 1,000,000 个）。"} in job.errors
    assert {"row": 2, "column": "注册地址", "message": "超过 300 个字符（共 301 个）。"} in job.errors
    assert not Institution.objects.exists()


def test_a_csv_line_beyond_the_limit_refuses_the_register_file(admin):
    upload = register_csv([register_row(注册地址="长" * (imports.CSV_LINE_CHARS + 10))])
    outcome = check(upload, "名录.csv", admin)
    assert "超过 65,536 个字符" in outcome.errors[0]["message"] and not outcome.rows


# --- zip bombs, whatever their members are called ------------------------------------------------------------------

def zip_bomb(path: Path, with_workbook: bool) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        if with_workbook:
            archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("data.bin", "w") as member:
            for _ in range(64):
                member.write(b"\0" * (1024 * 1024))
    assert path.stat().st_size < 1024 * 1024
    return path


@pytest.mark.parametrize("with_workbook", [False, True], ids=["no-workbook-xml", "workbook-xml"])
def test_a_zip_bomb_is_named_as_such_for_report_numbers(tmp_path, with_workbook):
    path = zip_bomb(tmp_path / "n.xlsx", with_workbook)
    with pytest.raises(FileRefused, match="压缩炸弹"):
        ingest.sniff(path, "xlsx")
    with pytest.raises(FileRefused, match="压缩炸弹"):
        list(read_records(path, "xlsx")[1])


@pytest.mark.parametrize("with_workbook", [False, True], ids=["no-workbook-xml", "workbook-xml"])
def test_a_zip_bomb_is_named_as_such_for_the_register(client, admin, tmp_path, with_workbook):
    data = zip_bomb(tmp_path / "名录.xlsx", with_workbook).read_bytes()
    client.force_login(admin)
    response = client.post(reverse("institutions:imports"), {"file": SimpleUploadedFile("名录.xlsx", data)})
    assert "压缩炸弹" in str(response.context["form"].errors["file"])
    assert not ImportJob.objects.exists()
    outcome = check(io.BytesIO(data), "名录.xlsx", admin)  # the background check refuses it too
    assert "压缩炸弹" in outcome.errors[0]["message"]


def test_a_docx_attachment_that_is_a_zip_bomb_is_refused_naming_it(tmp_path):
    from django import forms

    from filings.forms import validate_document

    path = tmp_path / "报告.docx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        with archive.open("word/media/x.bin", "w") as member:
            for _ in range(16):
                member.write(b"\0" * (1024 * 1024))
    with pytest.raises(forms.ValidationError, match="压缩炸弹"):
        validate_document(SimpleUploadedFile("报告.docx", path.read_bytes()))


def test_a_zip_with_a_climbing_member_name_is_refused(tmp_path):
    path = tmp_path / "n.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("../../etc/cron.d/x", "x")
    with pytest.raises(FileRefused, match="异常的成员名称"):
        ingest.sniff(path, "xlsx")


def test_an_xlsx_with_a_document_type_declaration_is_refused_before_any_entity_expands(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["A-1"])
    workbook.save(tmp_path / "n.xlsx")
    laughs = b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    path = _replace_member(tmp_path / "n.xlsx", "xl/worksheets/sheet1.xml", {b"<worksheet": laughs + b"<worksheet"})
    with pytest.raises(FileRefused, match="文档类型声明"):
        list(read_records(path, "xlsx")[1])


def test_an_xlsx_tag_that_never_ends_is_refused_without_parsing_it_again_and_again(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["A-1"])
    workbook.save(tmp_path / "n.xlsx")
    endless = b'<c r="A2" t="' + b"s" * (8 * 1024 * 1024) + b'"/>'
    path = _replace_member(
        tmp_path / "n.xlsx", "xl/worksheets/sheet1.xml", {b"</sheetData>": endless + b"</sheetData>"}
    )
    started = time.monotonic()
    with pytest.raises(FileRefused, match="超长 XML 标记"):
        list(read_records(path, "xlsx")[1])
    assert time.monotonic() - started < 5


# --- UTF-16 is named, not called binary ----------------------------------------------------------------------------

TEXT = "报告编号\nHN-2024-0001\nHN-2024-0002\n"
WIDE = pytest.mark.parametrize("encoded", [
    pytest.param(TEXT.encode("utf-16"), id="utf-16-bom"),
    pytest.param(TEXT.encode("utf-16-le"), id="utf-16-le"),
    pytest.param(TEXT.encode("utf-16-be"), id="utf-16-be"),
    pytest.param(b"\xfe\xff" + TEXT.encode("utf-16-be"), id="utf-16-be-bom"),
])


@WIDE
def test_utf16_report_numbers_are_refused_naming_utf16(tmp_path, encoded):
    path = tmp_path / "n.txt"
    path.write_bytes(encoded)
    with pytest.raises(FileRefused, match="不接受 UTF-16 编码") as refusal:
        ingest.sniff(path, "txt")
    assert "另存为 UTF-8 或 GBK" in str(refusal.value) and "二进制" not in str(refusal.value)
    with pytest.raises(FileRefused, match="不接受 UTF-16 编码"):
        read_records(path, "csv")


@pytest.mark.parametrize("encoding, name", [("utf-32", "UTF-32"), ("utf-32-le", "UTF-32"), ("utf-32-be", "UTF-32")])
def test_utf32_is_named_too(tmp_path, encoding, name):
    path = tmp_path / "n.txt"
    path.write_bytes(TEXT.encode(encoding))
    with pytest.raises(FileRefused, match=f"不接受 {name} 编码"):
        ingest.sniff(path, "txt")


def test_a_filer_uploading_utf16_sees_the_utf16_message(client, two_provinces):
    filer = two_provinces["users"]["filer"]
    client.force_login(filer)
    response = client.post(reverse("reports:upload"), {
        "quarter": recent_quarters(1)[0].code, "file": SimpleUploadedFile("n.txt", TEXT.encode("utf-16")),
    })
    assert "不接受 UTF-16 编码" in response.content.decode()
    assert not ReportNumberBatch.objects.exists()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_register_csv_is_refused_naming_utf16(client, admin, encoding):
    upload = register_csv([register_row()], encoding=encoding)
    client.force_login(admin)
    response = client.post(reverse("institutions:imports"), {"file": upload})
    assert "不接受 UTF-16 编码" in str(response.context["form"].errors["file"])
    assert not ImportJob.objects.exists()
    outcome = check(upload, "名录.csv", admin)
    assert "不接受 UTF-16 编码" in outcome.errors[0]["message"]


def test_gbk_and_utf8_without_nul_bytes_are_not_mistaken_for_utf16():
    for data in ("报告编号\n一二三\n".encode("gbk"), "一\n".encode(), b"A-1\n"):
        assert uploads.wide_encoding(data) is None
    assert uploads.wide_encoding(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00") is None


# --- what a user sent is echoed back visibly ------------------------------------------------------------------------

@pytest.mark.parametrize("text, shown", [
    ("A\x07B", "A\\u0007B"), ("A\x00B", "A\\u0000B"), ("A\u202eB", "A\\u202eB"), ("A\u200bB", "A\\u200bB"),
    ("A\ufeffB", "A\\ufeffB"), ("A\u2028B", "A\\u2028B"), ("A\u3164B", "A\\u3164B"), ("A\U000e0041B", "A\\U000e0041B"),
    ("A\tB", "A\\u0009B"), ("湘检〔2024〕第 1 号", "湘检〔2024〕第 1 号"), ("全角　空格", "全角　空格"),
])
def test_visible_escapes_control_and_invisible_characters(text, shown):
    assert uploads.visible(text) == shown


def _raw_hidden(text: str) -> list[str]:
    return [char for char in text if char not in "\r\n" and unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")]


def test_the_rejected_lines_file_escapes_control_and_invisible_characters(client, two_provinces, on_commit_immediately):
    filer = two_provinces["users"]["filer"]
    lines = ["A-1", "BEL\x07X", "ESC\x1bX", "RLO\u202eX", "ZW\u200bX", "BOM\ufeffX", "TAB\tX", "LS\u2028X"]
    client.force_login(filer)
    client.post(reverse("reports:upload"), {
        "quarter": recent_quarters(1)[0].code,
        "file": SimpleUploadedFile("n.txt", "\n".join(lines).encode("utf-8")),
    })
    batch = ReportNumberBatch.objects.get()
    assert (batch.status, batch.accepted, batch.rejected) == ("done", 1, 7)
    body = b"".join(client.get(reverse("reports:rejects", args=[batch.pk])).streaming_content).decode("utf-8-sig")
    for shown in (
        "BEL\\u0007X", "ESC\\u001bX", "RLO\\u202eX", "ZW\\u200bX", "BOM\\ufeffX", "TAB\\u0009X", "LS\\u2028X",
    ):
        assert shown in body
    assert "含控制字符（U+0007）" in body
    assert _raw_hidden(body) == []


def test_a_nul_sent_through_the_api_json_is_escaped_in_the_rejected_lines(tmp_path, institution):
    path = tmp_path / "n.json"
    path.write_text(json.dumps(["A-1", "N\u0000L", "R\u202eL"]), encoding="utf-8")
    batch = ReportNumberBatch.objects.create(institution=institution, year=2024, quarter=1)
    batch = staging.ingest_file(batch, path)
    body = batch.rejects_file.open("rb").read().decode("utf-8-sig")
    assert "N\\u0000L" in body and "R\\u202eL" in body and _raw_hidden(body) == []


def test_register_errors_echo_cells_escaped_and_refuse_hidden_characters(client, admin, on_commit_immediately):
    upload = register_csv([register_row(机构名称="湖南\u202e一号检测有限公司", 成立年份="20\u202e12", 有效期至="x")])
    client.force_login(admin)
    client.post(reverse("institutions:imports"), {"file": upload})
    job = ImportJob.objects.get()
    assert job.status == "invalid"
    messages = {error["column"]: error["message"] for error in job.errors}
    assert messages["机构名称"] == "含控制字符或不可见字符（U+202E），请删除后再导入。"
    assert messages["成立年份"] == "“20\\u202e12”不是整数。"
    page = client.get(reverse("institutions:import_detail", args=[job.pk])).content.decode()
    assert "20\\u202e12" in page and "\u202e" not in page


def test_an_unknown_register_header_is_echoed_escaped(admin):
    header = [*HEADER, "备注\u202e\x07"]
    outcome = check(register_csv([register_row()], header=header), "名录.csv", admin)
    assert "备注\\u202e\\u0007" in outcome.errors[0]["message"] and _raw_hidden(outcome.errors[0]["message"]) == []
