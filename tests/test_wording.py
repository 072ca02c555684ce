"""Wording (issue 13 §8): what pages, workbooks and file names say, read as their users read them. Each fix has a
grep-style assertion on the rendered page, workbook or file name; the last test reads the demo's pages as each demo
user and looks for every phrase that read oddly."""
import re
from io import BytesIO
from urllib.parse import unquote

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import User
from filings.models import Filing
from institutions.models import Region
from reports.models import ReportNumberBatch
from summaries import services as summary_services
from summaries.models import ExportJob
from tests import factories

ODD = ["全国（全国）", "---------", "年度年度", "全部范围", "万元（1000万元）", "省级市场监督管理局）", "（0 字节）",
       "{#", "#}"]  # a template comment over several lines is printed


def odd_phrases(text: str) -> list[str]:
    return [phrase for phrase in ODD if phrase in text]


def test_regions_are_named_once_the_nation_without_its_level(db):
    assert Region.objects.get(code="000000").display_name == "全国"
    assert Region.objects.get(code="430000").display_name == "湖南省（省级）"
    assert Region.objects.get(code="430100").display_name == "长沙市（市州）"


@pytest.mark.parametrize("url_name", ["summaries:exports", "summaries:dashboard"])
def test_region_lists_name_the_nation_once(client, db, url_name):
    factories.ReportingYearFactory()
    client.force_login(factories.SamrReviewerFactory())
    body = client.get(reverse(url_name)).content.decode()
    assert ">全国</option>" in body and "全国（全国）" not in body
    assert "湖南省（省级）" in body


def test_summary_workbook_titles_and_size_note_read_once(db, on_commit_immediately, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    year = factories.ReportingYearFactory(year=2025)
    factories.make_filing(year=year, status=Filing.Status.APPROVED)
    job = summary_services.start_export(
        actor=factories.SamrReviewerFactory(), kind="summary", region=Region.objects.get(code="000000"), year=2025,
    )
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE, job.error
    cells = [str(cell) for sheet in load_workbook(job.file.path) for row in sheet.iter_rows(values_only=True)
             for cell in row if cell is not None]
    text = "\n".join(cells)
    assert "规模以上指营业收入≥1000万元；" in text and "2025年度 全国" in text
    assert not odd_phrases(text), odd_phrases(text)


def test_late_filer_export_of_a_city_officer_names_the_city_like_its_page(client, db):
    year = factories.ReportingYearFactory(year=2025)
    factories.make_filing(year=year, status=Filing.Status.DRAFT)  # a late filer in 长沙市
    client.force_login(factories.CityOfficerFactory())
    page = client.get(reverse("review:late_filers"), {"year": 2025}).content.decode()
    assert re.search(r"<h1[^>]*>2025年度未提交机构 · 长沙市</h1>", page)
    response = client.get(reverse("review:late_filers_export"), {"year": 2025})
    disposition = unquote(response["Content-Disposition"])
    assert disposition.endswith("2025年度未提交机构-长沙市.xlsx"), disposition
    notes = load_workbook(BytesIO(response.content))["未提交机构"]["A1"].value
    assert notes.startswith("2025年度未提交机构 · 长沙市") and "全部范围" not in notes


@pytest.mark.parametrize("user, scope", [("province", "湖南省"), ("samr", "全国")])
def test_late_filer_export_of_a_reviewer_names_their_scope(client, db, user, scope):
    factories.ReportingYearFactory(year=2025)
    reviewer = {"province": factories.ProvincialReviewerFactory, "samr": factories.SamrReviewerFactory}[user]()
    client.force_login(reviewer)
    response = client.get(reverse("review:late_filers_export"), {"year": 2025})
    assert unquote(response["Content-Disposition"]).endswith(f"2025年度未提交机构-{scope}.xlsx")


def test_every_page_has_the_favicon(client, db):
    assert finders.find("favicon.svg")
    client.force_login(factories.AdminFactory())
    for url in [reverse("home"), reverse("reports:verify")]:
        assert 'rel="icon" href="/static/favicon.svg"' in client.get(url).content.decode(), url


def test_city_lists_offer_a_chinese_prompt_not_dashes(client, db):
    body = client.get(reverse("reports:complain")).content.decode()
    assert '<option value="" selected>请选择市州</option>' in body and "---------" not in body
    institution = factories.filing_ready_institution()
    filer = factories.FilerFactory(institution=institution)
    client.force_login(filer)
    body = client.get(reverse("institutions:identity_change", args=[institution.pk])).content.decode()
    assert "请选择市州" in body and "---------" not in body
    for section in ["profile", "qualifications"]:
        url = reverse("institutions:edit", args=[institution.pk]) if section == "profile" else reverse(
            "institutions:edit_section", args=[institution.pk, section])
        body = client.get(url).content.decode()
        assert "---------" not in body, section
    assert "请选择资质类别" in body


def test_chasing_form_asks_for_the_channel_in_chinese(client, db):
    factories.ReportingYearFactory()
    institution = factories.InstitutionFactory()
    client.force_login(factories.CityOfficerFactory())
    body = client.get(reverse("review:chasing", args=[institution.pk])).content.decode()
    assert "请选择联系方式" in body and "---------" not in body


def test_upload_result_without_a_recorded_size_shows_no_zero_bytes(client, db):
    institution = factories.filing_ready_institution()
    filer = factories.FilerFactory(institution=institution)
    batch = ReportNumberBatch.objects.create(
        institution=institution, year=2025, quarter=1, original_name="2025Q1报告编号.xlsx", uploaded_by=filer,
        status="done",
    )
    client.force_login(filer)
    body = client.get(reverse("reports:batch", args=[batch.pk])).content.decode()
    assert "2025Q1报告编号.xlsx" in body and "0 字节" not in body


DEMO_PAGES = {
    "filer": ["home", "filings:home", "institutions:mine", "reports:upload"],
    "city": ["home", "review:progress", "review:late_filers", "institutions:list", "summaries:dashboard",
             "summaries:exports", "reports:missing"],
    "province": ["home", "review:queue", "review:late_filers", "institutions:list", "summaries:dashboard",
                 "summaries:exports"],
    "samr": ["home", "review:queue", "review:late_filers", "summaries:dashboard", "summaries:exports"],
    "admin": ["home", "review:progress", "summaries:exports", "institutions:list"],
}


@pytest.mark.parametrize("username", list(DEMO_PAGES))
def test_demo_pages_read_without_odd_phrases(client, db, demo_data, username):
    client.force_login(User.objects.get(username=username))
    for url_name in DEMO_PAGES[username]:
        response = client.get(reverse(url_name), follow=True)
        assert response.status_code == 200, url_name
        found = odd_phrases(response.content.decode())
        assert not found, (url_name, found)
