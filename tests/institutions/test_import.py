"""Register import: a preview of every error by row and column before anything is written, all-or-nothing writes,
re-imports that update rather than duplicate, and the awkward files people really send."""
import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from institutions import imports, register_import
from institutions.models import CmaCertificate, ImportJob, Institution, ReviewingAuthority, Site
from tests import factories

pytestmark = pytest.mark.django_db

HEADER = [column.header for column in imports.COLUMNS]


def row(code_number, name, city="长沙市", cma="", issue="2021-03-01", expiry="2027-02-28", items="120", site="",
        **extra):
    values = {"统一社会信用代码": factories.make_credit_code(code_number), "机构名称": name, "所在市州": city,
              "资质认定证书编号": cma, "场所地址": site}
    if cma:
        values.update({"发证日期": issue, "有效期至": expiry, "能力范围项数": items})
    values.update(extra)
    return [values.get(header, "") for header in HEADER]


def csv_upload(rows, encoding="utf-8-sig", header=HEADER, name="名录.csv"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(encoding), content_type="text/csv")


def xlsx_upload(rows, header=HEADER):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("名录.xlsx", buffer.getvalue())


GOOD = [
    row(1, "湖南一号检测有限公司", cma="211801060101", site="湖南省长沙市岳麓区麓谷大道1号",
        法定代表人="王伟", 机构性质="企业", 所有制="私营", 成立年份="2012", 联系电话="0731-88880000"),
    row(1, "湖南一号检测有限公司", cma="220001060102", items="400"),
    row(2, "株洲二号检验所", city="430200", cma="211801010103", 机构性质="事业单位", 所有制="国有及国有控股"),
]


@pytest.fixture
def admin():
    return factories.AdminFactory()


def upload(actor, file, on_commit):
    job = register_import.start_import(actor=actor, upload=file)
    return ImportJob.objects.get(pk=job.pk)


def confirm(job, actor):
    register_import.confirm_import(job, actor=actor)
    return ImportJob.objects.get(pk=job.pk)


def test_a_good_file_is_previewed_then_imported_with_authority_derived(admin, on_commit_immediately):
    job = upload(admin, csv_upload(GOOD), on_commit_immediately)
    assert job.status == ImportJob.Status.READY and job.errors == []
    assert job.summary["institutions_new"] == 2 and job.summary["certificates_new"] == 3
    assert not Institution.objects.exists(), "the preview writes nothing"
    job = confirm(job, admin)
    assert job.status == ImportJob.Status.DONE
    first = Institution.objects.get(name="湖南一号检测有限公司")
    assert first.cma_certificates.count() == 2 and first.sites.count() == 1
    assert first.reviewing_authority == ReviewingAuthority.SAMR  # 400 national items against 120 provincial
    assert first.legal_representative == "王伟" and first.established_year == 2012
    second = Institution.objects.get(name="株洲二号检验所")
    assert second.city.code == "430200" and second.nature == "public" and second.ownership == "state"
    assert first.history.first().history_user == admin


def test_reimporting_the_same_file_updates_rather_than_duplicates(admin, on_commit_immediately):
    confirm(upload(admin, csv_upload(GOOD), on_commit_immediately), admin)
    changed = [list(r) for r in GOOD]
    changed[0][HEADER.index("法定代表人")] = "赵强"
    job = upload(admin, xlsx_upload(changed), on_commit_immediately)
    assert job.summary["institutions_new"] == 0 and job.summary["institutions_updated"] == 2
    job = confirm(job, admin)
    assert Institution.objects.count() == 2 and CmaCertificate.objects.count() == 3 and Site.objects.count() == 1
    assert Institution.objects.get(name="湖南一号检测有限公司").legal_representative == "赵强"
    assert job.summary["institutions_created"] == 0 and job.summary["institutions_updated"] == 1


def test_every_bad_row_is_reported_by_row_and_column_and_nothing_is_written(admin, on_commit_immediately):
    bad = [
        GOOD[0],
        row(3, "坏代码检测有限公司", 统一社会信用代码="91430100MA4L00000"),
        row(4, "错校验位检测有限公司", 统一社会信用代码=factories.make_credit_code(4)[:-1] + "0"),
        row(5, "坏编号检测有限公司", cma="2118010601"),
        row(6, "日期颠倒检测有限公司", cma="211801060106", issue="2022-05-01", expiry="2021-05-01"),
        row(7, "公式检测有限公司", 法定代表人="=HYPERLINK(\"http://x\")"),
        row(8, "无此市州检测有限公司", city="蓬莱仙境市"),
        row(9, "重复证书检测有限公司", cma="211801060101"),
    ]
    existing = Institution.objects.count()
    job = upload(admin, csv_upload(bad), on_commit_immediately)
    assert job.status == ImportJob.Status.INVALID
    found = {(error["row"], error["column"]) for error in job.errors}
    assert {(3, "统一社会信用代码"), (4, "统一社会信用代码"), (5, "资质认定证书编号"), (6, "有效期至"),
            (7, "法定代表人"), (8, "所在市州"), (9, "资质认定证书编号")} <= found
    messages = " ".join(error["message"] for error in job.errors)
    assert "18位" in messages and "校验位错误" in messages and "12位数字" in messages and "公式" in messages
    assert "与第 2 行重复" in messages
    assert Institution.objects.count() == existing and not CmaCertificate.objects.exists()
    with pytest.raises(register_import.ImportRefused):
        register_import.confirm_import(job, actor=admin)


def test_rows_sharing_a_credit_code_must_agree_on_the_name(admin, on_commit_immediately):
    job = upload(admin, csv_upload([row(1, "另一个名字检测有限公司", cma="211801060107"),
                                    row(1, "又一个名字检测有限公司")]), on_commit_immediately)
    assert job.status == ImportJob.Status.INVALID
    assert any("名称不一致" in error["message"] and error["row"] == 3 for error in job.errors)


def test_a_certificate_held_by_another_institution_is_refused_naming_it(admin, on_commit_immediately):
    holder = factories.InstitutionFactory(name="原持证检测有限公司")
    certificate = factories.CmaCertificateFactory(institution=holder)
    job = upload(admin, csv_upload([row(50, "新机构检测有限公司", cma=certificate.number)]), on_commit_immediately)
    assert job.errors[0]["row"] == 2 and "原持证检测有限公司" in job.errors[0]["message"]


def test_gbk_csv_with_empty_rows_is_read(admin, on_commit_immediately):
    rows = [GOOD[0], [""] * len(HEADER), GOOD[2], [""] * len(HEADER)]
    job = upload(admin, csv_upload(rows, encoding="gbk"), on_commit_immediately)
    assert job.status == ImportJob.Status.READY, job.errors
    assert job.summary["rows"] == 2 and job.summary["empty_rows"] == 2


def test_a_file_in_an_unknown_encoding_is_refused(admin, on_commit_immediately):
    file = SimpleUploadedFile("名录.csv", "统一社会信用代码".encode("utf-16"))
    job = upload(admin, file, on_commit_immediately)
    assert job.status == ImportJob.Status.INVALID and "编码" in job.errors[0]["message"]


def test_wrong_columns_are_refused_naming_them(admin, on_commit_immediately):
    header = ["机构名称", "信用代码", "城市"]
    job = upload(admin, csv_upload([["甲", "乙", "丙"]], header=header), on_commit_immediately)
    assert job.status == ImportJob.Status.INVALID
    assert job.errors[0]["row"] == 1 and "缺少必需的列：统一社会信用代码、所在市州" in job.errors[0]["message"]


def test_xlsx_formula_cells_are_refused(admin, on_commit_immediately):
    rows = [list(GOOD[2])]
    rows[0][HEADER.index("能力范围项数")] = "=100+20"
    job = upload(admin, xlsx_upload(rows), on_commit_immediately)
    assert job.errors == [{"row": 2, "column": "能力范围项数", "message": "单元格含公式，请粘贴为数值后再导入。"}]


def test_fifty_thousand_rows_are_refused_with_the_limit_named(admin, on_commit_immediately):
    rows = [row(n, f"机构{n}检测有限公司") for n in range(50_000)]
    job = upload(admin, csv_upload(rows), on_commit_immediately)
    assert job.status == ImportJob.Status.INVALID
    assert "20,000" in job.errors[0]["message"] and "拆分" in job.errors[0]["message"]
    assert not Institution.objects.exists()


def test_the_import_checks_again_and_writes_nothing_if_the_register_changed(admin, on_commit_immediately, monkeypatch):
    job = upload(admin, csv_upload(GOOD), on_commit_immediately)
    # Meanwhile someone registers the file's first certificate number under another institution.
    factories.CmaCertificateFactory(institution=factories.InstitutionFactory(name="抢先登记检测有限公司"),
                                    number="211801060101")
    job = confirm(job, admin)
    assert job.status == ImportJob.Status.INVALID and "抢先登记检测有限公司" in job.errors[0]["message"]
    assert not Institution.objects.filter(name="湖南一号检测有限公司").exists()


def test_a_failure_while_writing_leaves_nothing_behind(admin, on_commit_immediately, monkeypatch):
    job = upload(admin, csv_upload(GOOD), on_commit_immediately)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("institutions.register_import.bulk_create_with_history",
                        lambda objs, model, **kw: broken() if model is Site else _bulk(objs, model, **kw))
    job = confirm(job, admin)
    assert job.status == ImportJob.Status.FAILED and "disk full" in job.error
    assert not Institution.objects.exists() and not CmaCertificate.objects.exists()


def _bulk(objs, model, **kwargs):
    from simple_history.utils import bulk_create_with_history

    return bulk_create_with_history(objs, model, **kwargs)


def test_a_provincial_reviewer_imports_only_into_the_own_province(on_commit_immediately):
    reviewer = factories.ProvincialReviewerFactory()
    wuhan = factories.CityFactory(code="420100", name="武汉市")
    outside = factories.InstitutionFactory(city=wuhan, credit_code=factories.make_credit_code(2))
    rows = [GOOD[0], row(2, outside.name, city="长沙市"), row(3, "武汉新检测有限公司", city="武汉市")]
    job = upload(reviewer, csv_upload(rows), on_commit_immediately)
    assert job.region.code == "430000"
    messages = {error["row"]: error["message"] for error in job.errors}
    assert "不在您的管辖范围" in messages[3] and "不在您的管辖范围" in messages[4]


@pytest.mark.parametrize("factory",
                         [factories.CityOfficerFactory, factories.SamrReviewerFactory, factories.FilerFactory])
def test_other_roles_cannot_import(client, factory):
    client.force_login(factory())
    assert client.get(reverse("institutions:imports")).status_code == 403
    assert client.get(reverse("institutions:import_template")).status_code == 403


def test_the_pages_upload_preview_and_confirm(client, admin, on_commit_immediately):
    client.force_login(admin)
    template = client.get(reverse("institutions:import_template"))
    header = [cell.value for cell in load_workbook(io.BytesIO(template.content)).active[1]]
    assert header[0] == "统一社会信用代码*" and len(header) == len(HEADER)
    response = client.post(reverse("institutions:imports"), {"file": csv_upload(GOOD)})
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("institutions:import_detail", args=[job.pk])
    page = client.get(response["Location"]).text
    assert "待确认导入" in page and "确认导入" in page
    client.post(reverse("institutions:import_confirm", args=[job.pk]))
    assert client.get(reverse("institutions:import_status", args=[job.pk])).json()["status"] == "done"
    assert Institution.objects.count() == 2
    # Another admin cannot see or confirm this job.
    client.force_login(factories.AdminFactory())
    assert client.get(reverse("institutions:import_detail", args=[job.pk])).status_code == 404


def test_uploads_are_size_limited_and_typed(client, admin, monkeypatch):
    monkeypatch.setattr("institutions.forms.MAX_UPLOAD_BYTES", 100)
    client.force_login(admin)
    response = client.post(reverse("institutions:imports"), {"file": csv_upload(GOOD)})
    assert "超过上限" in str(response.context["form"].errors["file"])
    response = client.post(reverse("institutions:imports"), {"file": SimpleUploadedFile("名录.xls", b"x")})
    assert ".xlsx" in str(response.context["form"].errors["file"])
    assert not ImportJob.objects.exists()


def _wait(job, statuses, seconds=90):
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in statuses:
            return job
        time.sleep(0.2)
    raise AssertionError(f"import stuck in {job.status}: {job.stage}")


@pytest.mark.worker
def test_a_thousand_row_import_runs_on_a_real_celery_worker(transactional_db, celery_worker_process):
    admin = factories.AdminFactory()
    rows = [row(n, f"批量检测有限公司{n}", cma=f"2118{n % 20:02d}06{n // 20 + 1:04d}", site=f"湖南省长沙市某路{n}号")
            for n in range(1000)]
    job = register_import.start_import(actor=admin, upload=csv_upload(rows))
    job = _wait(job, {ImportJob.Status.READY, ImportJob.Status.INVALID, ImportJob.Status.FAILED})
    assert job.status == ImportJob.Status.READY, job.errors[:3] or job.error
    assert not Institution.objects.exists()
    register_import.confirm_import(job, actor=admin)
    job = _wait(job, {ImportJob.Status.DONE, ImportJob.Status.INVALID, ImportJob.Status.FAILED})
    assert job.status == ImportJob.Status.DONE and job.progress == 100, job.error
    assert Institution.objects.count() == 1000 and CmaCertificate.objects.count() == 1000


def test_uploaded_files_are_deleted_after_thirty_days_and_an_unconfirmed_import_lapses(admin, on_commit_immediately):
    from datetime import timedelta

    from django.utils import timezone

    job = upload(admin, csv_upload(GOOD), on_commit_immediately)
    path = job.file.path
    assert register_import.purge_old_import_files() == 0
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(days=31))
    assert register_import.purge_old_import_files() == 1
    job.refresh_from_db()
    assert not job.file and job.status == ImportJob.Status.FAILED and "重新上传" in job.error
    import os

    assert not os.path.exists(path)
