"""数据导出 on the embedded default: every export kind the page offers is built in-process during the request that
starts it and downloads as a workbook openpyxl can open; so does the late-filer list. (On the old code 年度汇总
answered HTTP 500 here: its 机构明细 used a PostgreSQL-only array subquery.)"""
import io

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from openpyxl import load_workbook

from filings.models import ReportingYear
from institutions.models import Institution, Region
from summaries.models import ExportJob
from summaries.registry import kind_choices

KINDS = [code for code, _label in kind_choices()]


def _workbook(response):
    assert response.status_code == 200, response.status_code
    return load_workbook(io.BytesIO(b"".join(response.streaming_content if response.streaming else [response.content])))


def test_this_suite_runs_on_the_embedded_default():
    from config.celery import app

    assert connection.vendor == "sqlite" and connection.settings_dict["NAME"] != ":memory:"
    assert settings.CELERY_TASK_ALWAYS_EAGER and app.conf.task_always_eager
    assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")


def test_the_export_page_offers_the_kinds_tested_here(login):
    page = login("admin").get(reverse("summaries:exports")).content.decode()
    assert KINDS and all(f'value="{code}"' in page for code in KINDS)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("username, region_code", [("admin", "000000"), ("city", "430100")])
def test_every_export_kind_is_built_in_process_and_downloads_as_a_workbook(login, kind, username, region_code):
    client = login(username)
    year = ReportingYear.objects.current()
    region = Region.objects.get(code=region_code)
    response = client.post(reverse("summaries:exports"), {"kind": kind, "region": region.pk, "year": year.year})
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ExportJob.objects.filter(created_by__username=username).latest("pk")
    assert (job.kind, job.status, job.error) == (kind, "done", "")
    workbook = _workbook(client.get(reverse("summaries:download", args=[job.pk])))
    assert workbook.sheetnames
    page = client.get(reverse("summaries:exports")).content.decode()
    assert job.title in page and "已完成" in page


def test_the_summary_workbooks_detail_sheet_names_each_institutions_fields(login):
    """The portable path (one query per chunk of rows) gives what the PostgreSQL array subquery gives."""
    client = login("admin")
    year = ReportingYear.objects.current()
    nation = Region.objects.get(code="000000")
    client.post(reverse("summaries:exports"), {"kind": "summary", "region": nation.pk, "year": year.year})
    job = ExportJob.objects.filter(kind="summary").latest("pk")
    sheet = _workbook(client.get(reverse("summaries:download", args=[job.pk])))["机构明细"]
    rows = iter(sheet.iter_rows(values_only=True))
    header = next(row for row in rows if row and row[0] == "机构名称")  # after the notes
    name_at, fields_at = header.index("机构名称"), header.index("专业领域")
    shown = {row[name_at]: row[fields_at] or "" for row in rows}
    institutions = Institution.objects.prefetch_related("professional_fields")
    assert len(institutions) == len(shown) > 0
    for institution in institutions:
        names = [field.name for field in sorted(institution.professional_fields.all(), key=lambda f: (f.order, f.code))]
        assert shown[institution.name] == "、".join(names), institution.name
    assert any(shown.values())


@pytest.mark.parametrize("username", ["city", "province"])
def test_the_late_filer_list_downloads_as_a_workbook(login, username):
    year = ReportingYear.objects.current()
    response = login(username).get(reverse("review:late_filers_export"), {"year": year.year})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert _workbook(response).sheetnames
