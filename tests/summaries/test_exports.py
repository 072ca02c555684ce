"""Exports: who may start which scope, the task's states, download permission, retention, failures, safe cells."""
import os
import subprocess
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from summaries import services
from summaries.models import ExportJob
from summaries.xlsx import SCRATCH_PREFIX
from tests import factories


def _rows(job):
    job.refresh_from_db()
    sheet = load_workbook(job.file.path)["机构名录"]
    return list(sheet.iter_rows(min_row=3, values_only=True))


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture(autouse=True)
def _on_commit(request):
    if "transactional_db" not in request.fixturenames and request.node.get_closest_marker("django_db"):
        request.getfixturevalue("on_commit_immediately")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, region_code, allowed",
    [
        ("city_officer", "430100", True),
        ("city_officer", "430200", False),
        ("city_officer", "430000", False),
        ("provincial_reviewer", "430000", True),
        ("provincial_reviewer", "430200", True),
        ("provincial_reviewer", "000000", False),
        ("provincial_reviewer", "420000", False),
        ("samr_reviewer", "000000", True),
        ("admin", "420000", True),
        ("filer", "430100", False),
    ],
)
def test_who_may_export_which_region(two_provinces, media, role, region_code, allowed):
    user = two_provinces["users"][role]
    region = factories.region(region_code)
    if allowed:
        job = services.start_export(actor=user, kind="register", region=region)
        job.refresh_from_db()
        assert job.status == ExportJob.Status.DONE
    else:
        with pytest.raises(PermissionDenied):
            services.start_export(actor=user, kind="register", region=region)
        assert not ExportJob.objects.exists()


@pytest.mark.django_db
def test_city_officer_cannot_export_another_city_by_url(client, two_provinces, media):
    client.force_login(two_provinces["users"]["city_officer"])
    response = client.post(reverse("summaries:exports"), {"kind": "register", "region": factories.region("430200").pk})
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode() or "有效" in response.content.decode()
    assert not ExportJob.objects.exists()


@pytest.mark.django_db
def test_filer_has_no_export_page(client, two_provinces):
    client.force_login(two_provinces["users"]["filer"])
    assert client.get(reverse("summaries:exports")).status_code == 403


@pytest.mark.django_db
def test_register_export_holds_exactly_the_scope(two_provinces, media):
    job = services.start_export(
        actor=two_provinces["users"]["provincial_reviewer"], kind="register", region=factories.region("430000")
    )
    names = sorted(row[0] for row in _rows(job))
    assert names == ["株洲丙检测有限公司", "长沙乙检测有限公司", "长沙甲检测有限公司"]
    job.refresh_from_db()
    assert job.progress == 100 and job.expires_at > timezone.now() + timedelta(days=6)


@pytest.mark.django_db
def test_export_page_starts_a_job_and_lists_it(client, two_provinces, media):
    client.force_login(two_provinces["users"]["city_officer"])
    response = client.post(
        reverse("summaries:exports"), {"kind": "register", "region": factories.region("430100").pk}, follow=True
    )
    assert "已开始生成" in response.content.decode()
    job = ExportJob.objects.get()
    assert job.title in response.content.decode()
    status = client.get(reverse("summaries:status", args=[job.pk])).json()
    assert status["status"] == "done" and status["progress"] == 100
    assert status["download_url"] == reverse("summaries:download", args=[job.pk])


@pytest.mark.django_db
def test_status_reports_progress_while_pending_and_running(client, two_provinces):
    officer = two_provinces["users"]["city_officer"]
    job = factories.ExportJobFactory(created_by=officer)
    client.force_login(officer)
    assert client.get(reverse("summaries:status", args=[job.pk])).json()["status_label"] == "排队中"
    ExportJob.objects.filter(pk=job.pk).update(status="running", progress=40, stage="已写入 800/2000 家机构")
    data = client.get(reverse("summaries:status", args=[job.pk])).json()
    assert (data["status"], data["progress"], data["download_url"]) == ("running", 40, "")


@pytest.mark.django_db
def test_download_checks_permission_again(client, two_provinces, media):
    officer = two_provinces["users"]["city_officer"]
    job = services.start_export(actor=officer, kind="register", region=factories.region("430100"))
    client.force_login(officer)
    response = client.get(reverse("summaries:download", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    # Another user, even one who may see the city, cannot download someone else's file.
    client.force_login(two_provinces["users"]["provincial_reviewer"])
    assert client.get(reverse("summaries:download", args=[job.pk])).status_code == 404
    # The officer moved to another city: the old file is no longer theirs to take.
    officer.region = factories.region("430200")
    officer.save()
    client.force_login(officer)
    assert client.get(reverse("summaries:download", args=[job.pk])).status_code == 403


@pytest.mark.django_db
def test_formula_like_text_is_written_as_text(two_provinces, media):
    factories.InstitutionFactory(name='=HYPERLINK("http://evil.example","点我")', city=factories.region("430100"))
    factories.InstitutionFactory(name="@SUM(1+1)", city=factories.region("430100"))
    job = services.start_export(
        actor=two_provinces["users"]["admin"], kind="register", region=factories.region("430100")
    )
    job.refresh_from_db()
    sheet = load_workbook(job.file.path)["机构名录"]
    cells = {cell.value: cell for row in sheet.iter_rows(min_row=3, max_col=1) for cell in row}
    for text in ('=HYPERLINK("http://evil.example","点我")', "@SUM(1+1)"):
        assert cells[text].data_type == "s"
        assert cells[text].quotePrefix


@pytest.mark.django_db
def test_libreoffice_opens_the_workbook(two_provinces, media, tmp_path):
    factories.InstitutionFactory(name="=1+1", city=factories.region("430100"))
    job = services.start_export(
        actor=two_provinces["users"]["admin"], kind="register", region=factories.region("430100")
    )
    job.refresh_from_db()
    out = tmp_path / "csv"
    result = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "csv",
         "--outdir", str(out), job.file.path],
        capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stderr
    text = next(out.glob("*.csv")).read_text(encoding="utf-8", errors="replace")
    assert "=1+1" in text and "\n2," not in text  # shown as text, not computed
    assert "Error" not in result.stderr


@pytest.mark.django_db
def test_a_failing_build_is_marked_failed_and_can_be_retried(two_provinces, media, monkeypatch, client):
    from summaries import registry

    officer = two_provinces["users"]["city_officer"]
    kind = registry.get_kind("register")
    calls = []

    def flaky(job, workbook, progress):
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("数据源暂不可用")
        return kind.build(job, workbook, progress)

    monkeypatch.setitem(registry.EXPORT_KINDS, "register", registry.ExportKind("register", "机构名录", False, flaky))
    job = services.start_export(actor=officer, kind="register", region=factories.region("430100"))
    job.refresh_from_db()
    assert job.status == "failed" and "数据源暂不可用" in job.error and not job.file
    client.force_login(officer)
    page = client.get(reverse("summaries:exports")).content.decode()
    assert "数据源暂不可用" in page and "重试" in page
    client.post(reverse("summaries:retry", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "done" and job.file


@pytest.mark.django_db
def test_a_job_killed_while_saving_leaves_no_file_marked_done(two_provinces, media, monkeypatch):
    from summaries.xlsx import Workbook

    original_save = Workbook.save

    def killed(self):
        Path(self.target).write_bytes(b"half a file")
        raise KeyboardInterrupt  # the worker is stopped mid-write

    monkeypatch.setattr(Workbook, "save", killed)
    officer = two_provinces["users"]["city_officer"]
    job = factories.ExportJobFactory(created_by=officer)
    with pytest.raises(KeyboardInterrupt):
        services.run_export(job.pk)
    job.refresh_from_db()
    assert job.status == "running" and not job.file
    assert not list((media / "exports").iterdir())
    # Once the job has made no progress for a while it shows as interrupted and may be retried.
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    job.refresh_from_db()
    assert job.is_stale
    monkeypatch.setattr(Workbook, "save", original_save)
    services.retry_export(job, actor=officer)
    job.refresh_from_db()
    assert job.status == "done"


@pytest.mark.django_db
def test_running_a_finished_job_again_changes_nothing(two_provinces, media):
    job = services.start_export(
        actor=two_provinces["users"]["admin"], kind="register", region=factories.region("430100")
    )
    job.refresh_from_db()
    file_name, finished = job.file.name, job.finished_at
    services.run_export(job.pk)
    job.refresh_from_db()
    assert (job.file.name, job.finished_at, job.attempts) == (file_name, finished, 1)


@pytest.mark.django_db
def test_retry_is_refused_for_a_job_that_is_not_failed(two_provinces, media):
    officer = two_provinces["users"]["city_officer"]
    job = services.start_export(actor=officer, kind="register", region=factories.region("430100"))
    with pytest.raises(services.ExportRefused):
        services.retry_export(job, actor=officer)
    with pytest.raises(PermissionDenied):
        services.retry_export(job, actor=two_provinces["users"]["admin"])


def test_the_clean_up_removes_what_a_killed_worker_left_behind_once_a_day_old(media, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the scratch directories of this test only
    day_old = time.time() - services.ABANDONED_AFTER.total_seconds() - 60
    part = services.export_directory() / ".7-abc.xlsx.part"
    part.write_bytes(b"PK half")
    scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
    (scratch / "rows.tmp").write_bytes(b"rows")
    for path in (part, scratch):
        os.utime(path, (day_old, day_old))
    running = services.export_directory() / ".8-def.xlsx.part"  # a run still writing
    running.write_bytes(b"PK")
    running_scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
    finished = services.export_directory() / "9-register-12345678.xlsx"
    finished.write_bytes(b"PK done")
    os.utime(finished, (day_old, day_old))
    assert services.purge_abandoned_files() == 2
    assert not part.exists() and not scratch.exists()
    assert running.exists() and running_scratch.exists() and finished.exists()


@pytest.mark.django_db
def test_expired_files_are_deleted_by_the_clean_up(two_provinces, media):
    from summaries.tasks import purge_expired_exports

    admin = two_provinces["users"]["admin"]
    old = services.start_export(actor=admin, kind="register", region=factories.region("430100"))
    fresh = services.start_export(actor=admin, kind="register", region=factories.region("430200"))
    ExportJob.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    old.refresh_from_db()
    old_path = Path(old.file.path)
    assert purge_expired_exports.delay().get() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == "expired" and not old.file and not old_path.exists()
    assert fresh.status == "done" and Path(fresh.file.path).exists()


def test_beat_schedule_runs_the_clean_up_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-exports"]
    assert entry["task"] == "summaries.purge_expired_exports"
    from config.celery import app

    assert "summaries.purge_expired_exports" in app.tasks


@pytest.mark.worker
def test_export_runs_on_a_real_celery_worker(
    transactional_db, celery_worker_process, two_provinces, settings, tmp_path
):
    import time

    # The worker process uses the test settings' MEDIA_ROOT; read the file from there.
    admin = two_provinces["users"]["admin"]
    job = services.start_export(actor=admin, kind="register", region=factories.region("430000"))
    seen = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        seen.add(job.status)
        if job.is_finished:
            break
        time.sleep(0.2)
    assert job.status == "done", job.error
    assert "pending" in seen or "running" in seen  # it went through the broker, not in-process
    assert len(_rows(job)) == 3


@pytest.mark.django_db
def test_a_note_naming_a_formula_like_region_stays_text(two_provinces, media):
    city = factories.CityFactory(code="429900", name="=1+2市")
    factories.InstitutionFactory(name="+甲检测", city=city)
    job = services.start_export(actor=two_provinces["users"]["admin"], kind="register", region=city)
    job.refresh_from_db()
    sheet = load_workbook(job.file.path)["机构名录"]
    note, name = sheet["A1"], sheet["A3"]
    assert note.value.startswith("=1+2市") and note.data_type == "s" and note.quotePrefix
    assert name.value == "+甲检测" and name.data_type == "s" and name.quotePrefix


@pytest.mark.django_db
def test_export_list_issues_the_same_queries_whatever_the_number_of_exports(client, two_provinces):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    officer = two_provinces["users"]["city_officer"]
    factories.ReportingYearFactory(year=2025)
    client.force_login(officer)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("summaries:exports")).status_code == 200
        return len(queries)

    factories.ExportJobFactory(created_by=officer)
    few = count()
    for status in ("running", "done", "failed", "expired", "pending"):
        factories.ExportJobFactory(created_by=officer, status=status, kind="summary", params={"year": 2025})
    assert count() == few


@pytest.mark.django_db
def test_export_form_proposes_the_current_reporting_year(client, two_provinces):
    factories.ReportingYearFactory(year=2024, opens_at=timezone.now() - timedelta(days=400),
                                   closes_at=timezone.now() - timedelta(days=300))
    factories.ReportingYearFactory(year=2025)  # its window is open now
    client.force_login(two_provinces["users"]["provincial_reviewer"])
    form = client.get(reverse("summaries:exports")).context["form"]
    assert form["year"].value() == 2025
