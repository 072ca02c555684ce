"""Every line rule, encoding detection and whole-file refusals of the report-number reader."""
import zipfile

import openpyxl
import pytest

from reports import ingest
from reports.ingest import FileRefused, check_number, read_records


class Accepted:
    """An accepted number as the reader gives it (a plain string), with the shape of a Record for the assertions."""

    def __init__(self, number):
        self.number, self.reason = number, ""


def records(path, kind=None):
    kind = kind or ingest.kind_of(path.name)
    encoding, rows = read_records(path, kind)
    return encoding, [Accepted(row) if isinstance(row, str) else row for row in rows]


@pytest.mark.parametrize("text", [
    "A", "2024-JC-000123", "湘检〔2024〕第0001号", "WT/2024/01.5", "(2024)检字#12", "（2024）检字第[3]号", "a_b-c",
    "X" * 64,
])
def test_acceptable_numbers_pass(text):
    assert check_number(text) == (text, "")


@pytest.mark.parametrize("text, reason", [
    ("X" * 65, "长度超过64个字符"),
    ("AB\x07C", "含控制字符"),
    ("AB\u200bC", "含不可见字符"),
    ("AB\ufeffC", "含不可见字符"),
    ("AB\u202eC", "含不可见字符"),
    ("AB C", "含空格"),
    ("AB\u3000C", "含空格"),
    ('=HYPERLINK("http://x","y")', "含不允许的字符“=”"),
    ("+SUM(1)", "含不允许的字符“+”"),
    ("@A1", "含不允许的字符“@”"),
    ("A,B", "含不允许的字符“,”"),
    ("Ａ１", "含不允许的字符“Ａ”"),
    ("<script>", "含不允许的字符“<”"),
])
def test_unacceptable_numbers_are_rejected_with_reason(text, reason):
    number, message = check_number(text)
    assert number is None and reason in message


def test_lines_are_trimmed_empty_lines_skipped_and_header_skipped(tmp_path):
    path = tmp_path / "n.txt"
    path.write_text("报告编号\n  A-1  \n\n\t\nB-2\r\nC 3\rD-4", encoding="utf-8")
    encoding, rows = records(path)
    assert encoding == "utf-8"
    assert [r.number for r in rows] == ["A-1", "B-2", None, "D-4"]
    assert rows[2].line == 6 and rows[2].reason.startswith("含空格")


def test_header_is_only_skipped_on_the_first_line(tmp_path):
    path = tmp_path / "n.txt"
    path.write_text("A-1\n报告编号\n", encoding="utf-8")
    assert [r.number for r in records(path)[1]] == ["A-1", "报告编号"]


def test_a_line_of_ten_thousand_characters_is_rejected_without_reading_it_whole(tmp_path):
    path = tmp_path / "n.txt"
    path.write_text("A-1\n" + "Z" * 10_000 + "\nB-2\n", encoding="utf-8")
    _, rows = records(path)
    assert [r.number for r in rows] == ["A-1", None, "B-2"]
    assert rows[1].reason == "长度超过64个字符（共10000个）" and len(rows[1].text) <= 100 and rows[1].line == 2


@pytest.mark.parametrize("encoding, data, expected", [
    ("utf-8", "湘检-001\n湘检-002\n".encode(), "utf-8"),
    ("utf-8-sig", "\ufeff湘检-001\n湘检-002\n".encode("utf-8"), "utf-8-sig"),
    ("gbk", "湘检-001\n湘检-002\n".encode("gbk"), "gbk"),
])
def test_the_three_encodings_are_detected_and_decoded(tmp_path, encoding, data, expected):
    path = tmp_path / "n.txt"
    path.write_bytes(data)
    detected, rows = records(path)
    assert detected == expected
    assert [r.number for r in rows] == ["湘检-001", "湘检-002"]


def test_a_bom_first_line_is_not_mistaken_for_an_invisible_character(tmp_path):
    path = tmp_path / "n.txt"
    path.write_bytes(b"\xef\xbb\xbfA-1\n")
    assert [r.number for r in records(path)[1]] == ["A-1"]


def test_a_file_in_another_encoding_is_refused(tmp_path):
    path = tmp_path / "n.txt"
    path.write_bytes("Prüfbericht-ÿ1\n".encode("latin-1"))  # neither UTF-8 nor GBK
    with pytest.raises(FileRefused, match="无法识别文件编码"):
        read_records(path, "txt")


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"PK\x03\x04\x14\x00\x00\x00"])
def test_binary_files_are_refused(tmp_path, data):
    path = tmp_path / "n.txt"
    path.write_bytes(data)
    with pytest.raises(FileRefused, match="二进制"):
        ingest.sniff(path, "txt")
    with pytest.raises(FileRefused, match="二进制"):
        read_records(path, "txt")


def test_csv_takes_the_first_column(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text('报告编号,日期\nA-1,2024-01-02\n"B-2","x,y"\n', encoding="utf-8")
    assert [r.number for r in records(path)[1]] == ["A-1", "B-2"]


def test_a_file_with_no_numbers_is_refused(tmp_path):
    path = tmp_path / "n.txt"
    path.write_text("\n  \n\n", encoding="utf-8")
    _encoding, rows = read_records(path, "txt")
    with pytest.raises(FileRefused, match="没有报告编号"):
        list(rows)


def test_too_many_lines_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "MAX_LINES", 5)
    path = tmp_path / "n.txt"
    path.write_text("\n".join(f"A-{i}" for i in range(6)), encoding="utf-8")
    with pytest.raises(FileRefused, match="超过"):
        records(path)


@pytest.mark.parametrize("name, message", [("n.xls", "旧版 Excel"), ("n.pdf", "只接受"), ("n", "只接受")])
def test_unknown_file_kinds_are_refused(name, message):
    with pytest.raises(FileRefused, match=message):
        ingest.kind_of(name)


def _workbook(tmp_path, rows, sheets=1, name="n.xlsx"):
    workbook = openpyxl.Workbook()
    for index in range(1, sheets):
        workbook.create_sheet(f"表{index + 1}")
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


def test_xlsx_first_column_with_optional_header(tmp_path):
    sheet = [["报告编号", "备注"], ["A-1", "x"], [None, "y"], [20240001], [123.0], ['=HYPERLINK("x")']]
    path = _workbook(tmp_path, sheet)
    encoding, rows = records(path)
    assert encoding == "xlsx"
    assert [r.number for r in rows] == ["A-1", "20240001", "123", None]
    assert rows[-1].line == 6 and "“=”" in rows[-1].reason


def test_xlsx_without_rows_is_refused(tmp_path):
    path = _workbook(tmp_path, [])
    with pytest.raises(FileRefused, match="没有报告编号"):
        records(path)


def test_xlsx_with_several_sheets_is_refused(tmp_path):
    path = _workbook(tmp_path, [["A-1"]], sheets=2)
    with pytest.raises(FileRefused, match="2 个工作表"):
        records(path)


def test_zip_bomb_disguised_as_xlsx_is_refused_before_reading(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            block = b"\0" * (1024 * 1024)
            for _ in range(64):
                member.write(block)
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(FileRefused, match="压缩炸弹"):
        records(path)


def test_a_text_file_named_xlsx_is_refused(tmp_path):
    path = tmp_path / "n.xlsx"
    path.write_text("A-1\n", encoding="utf-8")
    with pytest.raises(FileRefused, match="不是有效的 XLSX"):
        ingest.sniff(path, "xlsx")


def test_json_list_accepts_strings_and_integers_and_rejects_other_values(tmp_path):
    path = tmp_path / "n.json"
    path.write_text('["A-1", 20240001, {"x": 1}, null, " B-2 "]', encoding="utf-8")
    rows = records(path)[1]
    assert [r.number for r in rows] == ["A-1", "20240001", None, None, "B-2"]
    assert rows[2].reason.startswith("不是文本")
