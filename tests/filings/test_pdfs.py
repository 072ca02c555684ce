"""The printed PDFs (issue 13 §7): laid out like the notice's attachments, every paragraph indented, long strings
wrapped inside the page, the fingerprint never alone on a page, the reviewing authority by its name. Checked on the
text and word boxes that poppler's pdftotext reads from the rendered file."""
import copy
import re
import subprocess
from html import unescape
from urllib.parse import unquote

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from filings import pdf, services
from filings.models import AnnualReport, SocialResponsibilityReport
from filings.templatetags.snapshot_text import snapshot_value
from institutions.models import Institution, ReviewingAuthority
from tests import factories

TOKEN = ("HNJC0123456789ABCDEFGHJK" * 7)[:150]  # 150 characters without a break opportunity


def pdf_text(content: bytes, tmp_path, *, page: int | None = None, layout: bool = False) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(content)
    options = (["-f", str(page), "-l", str(page)] if page else []) + (["-layout"] if layout else [])
    return subprocess.run(["pdftotext", *options, str(path), "-"], capture_output=True, text=True, check=True).stdout


def pdf_words(content: bytes, tmp_path) -> list[dict]:
    """Every word with its page's width and its box (pdftotext -bbox), in points."""
    path = tmp_path / "out.pdf"
    path.write_bytes(content)
    html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    words = []
    for page in re.finditer(r'<page width="([\d.]+)" height="[\d.]+">(.*?)</page>', html, re.S):
        for x_min, x_max, word in re.findall(
            r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">(.*?)</word>', page.group(2)
        ):
            words.append({"page_width": float(page.group(1)), "x_min": float(x_min), "x_max": float(x_max),
                          "text": unescape(word)})
    return words


def page_count(content: bytes, tmp_path) -> int:
    path = tmp_path / "out.pdf"
    path.write_bytes(content)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


@pytest.fixture
def sr_report(filing):
    report = factories.make_sr_report(
        filing, accreditation_number="CNAS L1234", fax="0731-88880001", email="centre@example.cn",
        deputies=[{"name": "王副主任", "phone": "0731-88880002", "mobile": "13700000000"}],
    )
    report.document.save("2023年度社会责任报告附页.pdf", ContentFile(b"%PDF-1.4\n%test\n"), save=True)
    return report


@pytest.fixture
def submitted(filer, filing, sr_report):
    return services.submit_filing(filing, actor=filer, expected_version=filing.version)


@pytest.fixture
def logged_in(client, filer):
    client.force_login(filer)
    return client


def render(filing, kind, **kwargs) -> bytes:
    return pdf.render_pdf(filing.snapshots.first(), kind, **kwargs)


def test_receipt_names_the_provincial_bureau_by_its_province(submitted, tmp_path):
    text = pdf_text(render(submitted, "receipt"), tmp_path)
    assert "湖南省市场监督管理局" in text and "省级市场监督管理局" not in text


def test_receipt_names_samr_as_the_national_administration(filer, filing, tmp_path):
    Institution.objects.filter(pk=filing.institution_id).update(reviewing_authority=ReviewingAuthority.SAMR)
    filing.institution.refresh_from_db()
    filing = services.submit_filing(filing, actor=filer, expected_version=filing.version)
    assert "国家市场监督管理总局" in pdf_text(render(filing, "receipt"), tmp_path)


def test_receipt_of_a_snapshot_that_stored_the_generic_label_names_the_bureau(submitted, tmp_path):
    snapshot = submitted.snapshots.first()
    snapshot.data["institution"]["reviewing_authority"] = "省级市场监督管理局"  # as snapshots before issue 13 hold it
    text = pdf_text(pdf.render_pdf(snapshot, "receipt"), tmp_path)
    assert "湖南省市场监督管理局" in text and "省级市场监督管理局" not in text.replace("湖南省市场监督管理局", "")


def test_annual_report_prints_the_cover_lines_and_headings_of_attachment_1(submitted, tmp_path):
    text = re.sub(r"\s", "", pdf_text(render(submitted, "annual-report"), tmp_path))  # the title is letter-spaced
    year = submitted.year.year
    for line in [f"{year}年检验检测机构报告", "检验检测机构名称：长沙市湘江检测有限公司", "市场监管总局认可检测司编制",
                 "一、持续符合检验检测机构资质认定条件和要求的状况", "二、遵守检验检测机构从业规范的情况",
                 "三、开展检验检测活动的情况", f"四、{year}年度，本检验检测机构的突出成绩、先进事迹"]:
        assert line in text, line


def test_sr_report_follows_attachment_2(submitted, sr_report, tmp_path):
    text = re.sub(r"\s", "", pdf_text(render(submitted, "sr-report", centre_id=sr_report.centre_id), tmp_path))
    year = submitted.year.year
    expected = [
        f"{year}年国家质检中心社会责任报告", f"国家质检中心名称（盖章）：{sr_report.centre.name}",
        "市场监管总局认可检测司编制",
        "一、基本情况", "1.国家质检中心", "2.所在法人单位", "所在法人单位名称长沙市湘江检测有限公司", "3.负责人情况",
        "4.人员、资产和仪器设备", f"5.{year}年工作基本情况", "6.国家质检中心建设情况",
        f"二、{year}年促进经济社会高质量发展的工作情况", f"三、{year}年度社会责任报告",
        "附页：2023年度社会责任报告附页",  # the file's name as uploaded (storage may add a suffix), not its path
    ]
    positions = [text.find(line) for line in expected]
    assert -1 not in positions, [line for line, at in zip(expected, positions, strict=True) if at == -1]
    assert positions == sorted(positions)  # in the attachment's order
    # The leaders in one table: director, three deputies, quality manager, then fax and e-mail; one row a line.
    lines = pdf_text(render(submitted, "sr-report", centre_id=sr_report.centre_id), tmp_path, layout=True)
    lines = [re.sub(r"\s+", " ", line.strip()) for line in lines.splitlines()]
    for row in [["职务", "姓名", "电话（座机）", "手机"], ["主任", "张主任", "13800000000"],
                ["副主任 1", "王副主任", "0731-88880002", "13700000000"], ["副主任 2"], ["副主任 3"],
                ["质量负责人", "李质量", "0731-88880000", "13900000000"],
                ["传真", "0731-88880001", "电子邮箱", "centre@example.cn"]]:
        assert any(line.startswith(row[0]) and " ".join(row) in line for line in lines), row
    assert "sr-documents" not in text


def test_every_paragraph_is_indented(filer, filing, tmp_path):
    AnnualReport.objects.filter(filing=filing).update(
        compliance="甲段开头的第一段文字。\n乙段开头的第二段文字。\n\n　　丙段开头的第三段，自己打了全角空格。"
    )
    filing = services.submit_filing(filing, actor=filer, expected_version=filing.version)
    words = pdf_words(render(filing, "annual-report"), tmp_path)
    heading = next(w for w in words if w["text"].startswith("一、持续符合"))
    starts = {w["text"][:2]: w["x_min"] for w in words if w["text"][:2] in {"甲段", "乙段", "丙段"}}
    assert set(starts) == {"甲段", "乙段", "丙段"}
    for first, x in starts.items():  # 2em of 11pt is 22pt
        assert 20 < x - heading["x_min"] < 24, (first, x, heading["x_min"])


@pytest.mark.parametrize("kind", ["annual-report", "sr-report", "receipt"])
def test_a_150_character_token_wraps_inside_the_page(filer, filing, sr_report, kind, tmp_path):
    AnnualReport.objects.filter(filing=filing).update(compliance=f"见 {TOKEN} 所列。", conduct=TOKEN)
    SocialResponsibilityReport.objects.filter(pk=sr_report.pk).update(
        address=TOKEN, responsibility=TOKEN, contribution=f"说明{TOKEN}"
    )
    Institution.objects.filter(pk=filing.institution_id).update(name=f"长沙{TOKEN}检测有限公司")
    filing.institution.refresh_from_db()
    filing = services.submit_filing(filing, actor=filer, expected_version=filing.version)
    words = pdf_words(render(filing, kind, centre_id=sr_report.centre_id), tmp_path)
    assert words
    right_margin = 20 / 25.4 * 72
    beyond = [w for w in words if w["x_max"] > w["page_width"] - right_margin + 1]
    assert not beyond, beyond[:3]
    printed = "".join(w["text"] for w in words)
    assert TOKEN in printed  # wrapped, not cut


def test_the_last_page_holds_more_than_the_fingerprint(filer, filing, tmp_path):
    filing = services.submit_filing(filing, actor=filer, expected_version=filing.version)
    snapshot = filing.snapshots.first()
    base = copy.deepcopy(snapshot.data)
    line = "本机构持续符合资质认定条件和要求，人员、设备、环境均满足要求，管理体系运行有效。"
    pages_seen = set()
    # Grow the first section paragraph by paragraph across a page break: wherever the page breaks, the fingerprint
    # line keeps the seal (and the paragraph before it) on its page.
    for count in range(30, 52):
        snapshot.data = copy.deepcopy(base)
        snapshot.data["annual_report"][0]["value"] = "\n".join([line] * count)
        content = pdf.render_pdf(snapshot, "annual-report")
        pages = page_count(content, tmp_path)
        pages_seen.add(pages)
        last = pdf_text(content, tmp_path, page=pages)
        assert snapshot.fingerprint[:16] in last.replace("\n", "")
        assert "盖章" in last and "年" in last.split("盖章")[1], (count, last)
    assert len(pages_seen) > 1  # the range crossed a page break


def test_page_footer_is_set_in_the_body_font(submitted, tmp_path):
    path = tmp_path / "out.pdf"
    path.write_bytes(render(submitted, "annual-report"))
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    names = {row.split()[0].split("+")[-1].replace("-", "") for row in fonts.splitlines()[2:]}
    assert names and all(name.startswith("NotoSerifCJK") for name in names), names
    assert "第1页/共1页" in re.sub(r"\s", "", pdf_text(path.read_bytes(), tmp_path))


def test_file_names_say_year_and_document_once(logged_in, submitted, sr_report):
    year = submitted.year.year
    for args, name in [
        ([submitted.pk, "receipt"], f"{year}年度提交回执-长沙市湘江检测有限公司.pdf"),
        ([submitted.pk, "annual-report"], f"{year}年度报告-长沙市湘江检测有限公司.pdf"),
        ([submitted.pk, "sr-report", sr_report.centre_id], f"{year}年度社会责任报告-{sr_report.centre.name}.pdf"),
    ]:
        response = logged_in.get(reverse("filings:pdf_centre" if len(args) == 3 else "filings:pdf", args=args))
        disposition = unquote(response["Content-Disposition"])
        assert name in disposition and "年度年度" not in disposition, disposition


def test_review_screen_reads_deputies_and_the_attachment_and_links_the_sr_pdf(client, submitted, sr_report):
    client.force_login(factories.ProvincialReviewerFactory())
    body = client.get(reverse("review:detail", args=[submitted.pk])).content.decode()
    assert "王副主任（座机 0731-88880002，手机 13700000000）" in body and "[{" not in body
    assert "附件：2023年度社会责任报告附页" in body and "sr-documents/" not in body
    assert reverse("filings:pdf_centre", args=[submitted.pk, "sr-report", sr_report.centre_id]) in body


def test_snapshot_values_read_as_text():
    assert snapshot_value([]) == "" and snapshot_value(None) == "" and snapshot_value(0) == "0"
    assert snapshot_value([{"name": "王", "phone": "", "mobile": "13700000000"}]) == "王（手机 13700000000）"
