"""The filer's pages: steps, saving, stale forms, bad input, other institutions' filings, printing."""
import re
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from filings.models import Filing, FilingStatistics, SocialResponsibilityReport
from tests import factories
from tests.factories import COMPLETE_STATISTICS

pytestmark = pytest.mark.django_db


def stats_post(filing, **changes):
    data = {k: ("" if v is None else v) for k, v in {**COMPLETE_STATISTICS, **changes}.items()}
    data["version"] = filing.version
    return data


@pytest.fixture
def logged_in(client, filer):
    client.force_login(filer)
    return client


def test_first_open_creates_the_filing_with_its_parts(logged_in, filer, year):
    response = logged_in.get(reverse("filings:home"))
    filing = Filing.objects.get(institution=filer.institution, year=year)
    assert response["Location"] == reverse("filings:overview", args=[filing.pk])
    assert filing.statistics and filing.annual_report


def test_statistics_page_shows_registry_and_steps(logged_in, filing):
    body = logged_in.get(reverse("filings:statistics", args=[filing.pk])).content.decode()
    assert "资质证书状况" in body and filing.institution.cma_certificates.first().number in body
    assert "统计调查数据" in body and "年度报告" in body and "校验与提交" in body
    assert "保存草稿" in body


def test_save_draft_and_next(logged_in, filing):
    response = logged_in.post(reverse("filings:statistics", args=[filing.pk]),
                              {**stats_post(filing, revenue="1200.00"), "save_next": "1"})
    assert response["Location"] == reverse("filings:annual_report", args=[filing.pk])
    assert FilingStatistics.objects.get(filing=filing).revenue == 1200
    assert Filing.objects.get(pk=filing.pk).version == filing.version + 1


@pytest.mark.parametrize("field, value", [("staff_total", "-3"), ("revenue", "很多"), ("lab_area", "-1")])
def test_negative_or_non_numeric_figures_are_refused(logged_in, filing, field, value):
    response = logged_in.post(reverse("filings:statistics", args=[filing.pk]), stats_post(filing, **{field: value}))
    assert response.status_code == 200
    assert "本次内容未保存" in response.content.decode()
    assert Filing.objects.get(pk=filing.pk).version == filing.version


def test_stale_form_after_another_tab_saved_is_refused(logged_in, filing):
    url = reverse("filings:statistics", args=[filing.pk])
    first_tab, second_tab = stats_post(filing, revenue="111"), stats_post(filing, revenue="222")
    logged_in.post(url, first_tab)
    response = logged_in.post(url, second_tab, follow=True)
    assert "其他窗口" in response.content.decode()
    assert FilingStatistics.objects.get(filing=filing).revenue == 111


def test_long_text_is_refused_and_html_is_shown_escaped(logged_in, filing):
    url = reverse("filings:annual_report", args=[filing.pk])
    data = {"version": filing.version, "compliance": "甲" * 100_000, "conduct": "x", "activities": "x"}
    response = logged_in.post(url, data)
    assert "本次内容未保存" in response.content.decode()
    data.update(compliance="<script>alert('x')</script>符合要求")
    logged_in.post(url, data)
    body = logged_in.get(url).content.decode()
    assert "<script>alert" not in body and "&lt;script&gt;" in body


def test_another_institutions_filing_is_not_found_and_unchanged(client, filing):
    intruder = factories.FilerFactory()
    client.force_login(intruder)
    url = reverse("filings:statistics", args=[filing.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, stats_post(filing, revenue="1")).status_code == 404
    assert FilingStatistics.objects.get(filing=filing).revenue == COMPLETE_STATISTICS["revenue"]


def test_post_outside_the_window_changes_nothing(logged_in, filing):
    from django.utils import timezone

    filing.year.closes_at = timezone.now()
    filing.year.save()
    response = logged_in.post(reverse("filings:statistics", args=[filing.pk]), stats_post(filing, revenue="5"),
                              follow=True)
    assert "截止" in response.content.decode()
    assert FilingStatistics.objects.get(filing=filing).revenue == COMPLETE_STATISTICS["revenue"]


def test_findings_are_shown_next_to_fields_and_in_the_summary(logged_in, filing):
    FilingStatistics.objects.filter(filing=filing).update(staff_master=30)
    body = logged_in.get(reverse("filings:statistics", args=[filing.pk])).content.decode()
    assert "【E102】" in body and "is-invalid" in body
    summary = logged_in.get(reverse("filings:submit", args=[filing.pk])).content.decode()
    assert "E102" in summary and re.search(r'name="submit"[^>]*disabled', summary)


def test_submit_from_the_summary_page_with_an_explanation(logged_in, filing):
    FilingStatistics.objects.filter(filing=filing).update(revenue=0)
    url = reverse("filings:submit", args=[filing.pk])
    response = logged_in.post(url, {"version": filing.version, "submit": "1"}, follow=True)
    assert "W211" in response.content.decode()
    assert Filing.objects.get(pk=filing.pk).status == "draft"
    filing.refresh_from_db()
    data = {"version": filing.version, "explain_W211": "免费检测。", "submit": "1"}
    response = logged_in.post(url, data, follow=True)
    assert "已提交" in response.content.decode()
    assert Filing.objects.get(pk=filing.pk).status == "submitted"


def _sr(filing):
    centre = factories.NationalCentreFactory(lead_institution=filing.institution,
                                             name="国家建筑材料质量检验检测中心（湖南）")
    return SocialResponsibilityReport.objects.create(filing=filing, centre=centre)


def test_sr_report_document_must_really_be_pdf_or_docx(logged_in, filing):
    report = _sr(filing)
    url = reverse("filings:sr_report", args=[filing.pk, report.centre_id])
    disguised = SimpleUploadedFile("report.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = logged_in.post(url, {"version": filing.version, "director_name": "张三", "document": disguised})
    assert "真实的 PDF" in response.content.decode()
    real = SimpleUploadedFile("report.pdf", b"%PDF-1.4\n%test\n", content_type="application/pdf")
    response = logged_in.post(url, {"version": filing.version, "director_name": "张三", "deputy1_name": "李四",
                                    "deputy1_mobile": "13900000000", "document": real})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.document.name.endswith(".pdf") and report.deputies[0]["name"] == "李四"


def test_pdfs_print_from_the_snapshot_with_chinese_text(logged_in, filer, filing, tmp_path):
    from filings import services

    report = _sr(filing)
    SocialResponsibilityReport.objects.filter(pk=report.pk).update(
        **factories.COMPLETE_SR_REPORT, cma_certificate_number=filing.institution.cma_certificates.first().number)
    filing = services.submit_filing(filing, actor=filer, expected_version=filing.version)
    for name, url in [
        ("receipt", reverse("filings:pdf", args=[filing.pk, "receipt"])),
        ("annual", reverse("filings:pdf", args=[filing.pk, "annual-report"])),
        ("sr", reverse("filings:pdf_centre", args=[filing.pk, "sr-report", report.centre_id])),
    ]:
        response = logged_in.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(b"".join(response.streaming_content))
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True).stdout
        assert "长沙市湘江检测有限公司" in text, name
    assert filing.snapshots.first().fingerprint[:16] in subprocess.run(
        ["pdftotext", str(tmp_path / "receipt.pdf"), "-"], capture_output=True, text=True).stdout.replace("\n", "")


def test_nothing_to_print_before_submission(logged_in, filing):
    assert logged_in.get(reverse("filings:pdf", args=[filing.pk, "receipt"])).status_code == 404


def test_regulators_see_filings_read_only_within_scope(client, filing):
    officer = factories.CityOfficerFactory()
    client.force_login(officer)
    body = client.get(reverse("filings:statistics", args=[filing.pk])).content.decode()
    assert "当前不可修改" in body and "保存草稿" not in body
    assert client.post(reverse("filings:statistics", args=[filing.pk]), stats_post(filing, revenue="1"),
                       follow=True).status_code == 200
    assert FilingStatistics.objects.get(filing=filing).revenue == COMPLETE_STATISTICS["revenue"]
    client.force_login(factories.CityOfficerFactory(region=factories.region("430200")))
    assert client.get(reverse("filings:overview", args=[filing.pk])).status_code == 404


def test_statistics_page_reads_the_registry_in_a_fixed_number_of_queries(
    logged_in, filing, django_assert_max_num_queries
):
    url = reverse("filings:statistics", args=[filing.pk])
    logged_in.get(url)
    with django_assert_max_num_queries(100) as few:
        logged_in.get(url)
    for _ in range(5):
        factories.CmaCertificateFactory(institution=filing.institution)
        factories.SiteFactory(institution=filing.institution)
    with django_assert_max_num_queries(len(few.captured_queries)):
        logged_in.get(url)
