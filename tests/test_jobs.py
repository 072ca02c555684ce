"""Background jobs never stuck (config/jobs.py): which faults are transient, how a task's step fails or is retried by
Celery (never raising Retry into a request when run in-process), the one stale rule for pending and running jobs of
every kind (exports, register imports, report-number uploads), and the retry each kind offers its owner."""
import errno
import sqlite3
from datetime import timedelta

import psycopg2
import pytest
from celery.exceptions import Retry
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from config.jobs import STALE_AFTER, is_transient
from institutions import register_import
from institutions.models import ImportJob
from reports import uploads as report_uploads
from reports.models import ReportNumber, ReportNumberBatch
from reports.quarters import Quarter
from summaries import services as export_services, tasks as export_tasks
from summaries.models import ExportJob
from tests import factories
from tests.institutions.test_import import GOOD, csv_upload

pytestmark = pytest.mark.django_db
LONG_AGO = timezone.now() - STALE_AFTER - timedelta(minutes=1)


def _wrapped(django_error, cause):
    error = django_error(str(cause))
    error.__cause__ = cause
    return error


def _database_error(sql):
    """The Django exception PostgreSQL raises for `sql` (run in a savepoint, so the test's transaction goes on)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    except DatabaseError as error:
        return error
    raise AssertionError(f"{sql} did not fail")


# --- which faults are transient ----------------------------------------------------------------------------------

@pytest.mark.parametrize("error", [
    _wrapped(OperationalError, sqlite3.OperationalError("database is locked")),
    _wrapped(OperationalError, psycopg2.OperationalError("could not connect to server: Connection refused")),
    _wrapped(OperationalError, psycopg2.OperationalError("server closed the connection unexpectedly")),
    InterfaceError("connection already closed"),
    ConnectionResetError("reset by peer"),
    OSError(errno.ENOSPC, "No space left on device"),
], ids=["sqlite-locked", "pg-refused", "pg-closed", "interface", "reset", "disk-full"])
def test_connection_and_lock_faults_are_transient(error):
    assert is_transient(error)


@pytest.mark.parametrize("error", [
    _wrapped(OperationalError, sqlite3.OperationalError("no such function: ARRAY")),
    _wrapped(OperationalError, sqlite3.OperationalError('near "SELECT": syntax error')),
    IntegrityError("duplicate key value violates unique constraint"),
    FileNotFoundError(errno.ENOENT, "No such file or directory"),
    ValueError("bad data"),
], ids=["sqlite-no-function", "sqlite-syntax", "integrity", "missing-file", "bug"])
def test_errors_that_would_repeat_are_permanent(error):
    assert not is_transient(error)


def test_real_postgresql_errors_are_told_apart_by_their_sqlstate():
    assert not is_transient(_database_error("SELECT no_such_function_anywhere(1)"))  # ProgrammingError, 42883
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 1")
    canceled = _database_error("SELECT pg_sleep(1)")  # OperationalError with SQLSTATE 57014: would time out again
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 0")
    assert isinstance(canceled, OperationalError) and not is_transient(canceled)


# --- how a task's step ends --------------------------------------------------------------------------------------

@pytest.fixture
def export_job(two_provinces):
    return factories.ExportJobFactory(created_by=two_provinces["users"]["city_officer"])


@pytest.fixture
def failing_step(monkeypatch):
    def install(error):
        def step(job_id):
            ExportJob.objects.filter(pk=job_id).update(status="running", heartbeat_at=timezone.now())
            raise error

        monkeypatch.setattr(export_services, "run_export", step)

    return install


def test_a_worker_retries_a_transient_fault_with_back_off_and_frees_the_job_for_the_retry(
    export_job, failing_step, monkeypatch
):
    failing_step(_wrapped(OperationalError, psycopg2.OperationalError("server closed the connection unexpectedly")))
    retried = []
    monkeypatch.setattr(export_tasks.build_export, "retry", lambda exc, countdown: retried.append(countdown) or Retry())
    with pytest.raises(Retry):
        export_tasks.build_export(export_job.pk)  # as a worker runs it
    export_job.refresh_from_db()
    assert retried == [5] and export_job.status == "pending" and not export_job.is_stale


def test_after_the_last_retry_a_transient_fault_fails_the_job(export_job, failing_step):
    failing_step(InterfaceError("connection already closed"))
    task = export_tasks.build_export
    task.push_request(retries=task.max_retries, is_eager=False)
    try:
        task.run(export_job.pk)
    finally:
        task.pop_request()
    export_job.refresh_from_db()
    assert export_job.status == "failed" and f"已重试 {task.max_retries} 次" in export_job.error


def test_a_permanent_error_fails_the_job_at_once_with_its_message(export_job, failing_step, monkeypatch):
    failing_step(_database_error("SELECT no_such_function_anywhere(1)"))
    monkeypatch.setattr(export_tasks.build_export, "retry", lambda **kwargs: pytest.fail("retried a permanent error"))
    export_tasks.build_export(export_job.pk)
    export_job.refresh_from_db()
    assert export_job.status == "failed" and "no_such_function_anywhere" in export_job.error


def test_in_process_a_transient_fault_fails_the_job_instead_of_raising_retry(export_job, failing_step):
    failing_step(_wrapped(OperationalError, sqlite3.OperationalError("database is locked")))
    export_tasks.build_export.apply(args=[export_job.pk])  # eager, as with nothing set; raises nothing
    export_job.refresh_from_db()
    assert export_job.status == "failed" and "暂时故障" in export_job.error and "请稍后重试" in export_job.error


# --- one stale rule for every kind -------------------------------------------------------------------------------

def _export(**fields):
    return factories.ExportJobFactory(**fields)


def _import(**fields):
    return ImportJob.objects.create(created_by=factories.AdminFactory(), region=factories.region("000000"),
                                    original_name="名录.csv", file="imports/x.csv", **fields)


def _batch(**fields):
    return ReportNumberBatch.objects.create(institution=factories.InstitutionFactory(), year=2024, quarter=1,
                                            **fields)


@pytest.mark.parametrize("make, pending", [(_export, "pending"), (_import, "pending"), (_batch, "pending")],
                         ids=["export", "import", "upload"])
def test_a_job_queued_and_never_started_within_the_set_time_is_stale(make, pending):
    assert make(status=pending, created_at=LONG_AGO).is_stale
    assert not make(status=pending).is_stale


@pytest.mark.parametrize("make, running, done", [
    (_export, "running", "done"), (_import, "validating", "done"), (_batch, "running", "done"),
], ids=["export", "import", "upload"])
def test_a_running_job_is_stale_only_after_the_set_time_without_progress_and_a_finished_one_never(
    make, running, done
):
    assert not make(status=running, created_at=LONG_AGO, **_alive(make)).is_stale
    assert make(status=running, created_at=LONG_AGO).is_stale
    assert not make(status=done, created_at=LONG_AGO).is_stale


def _alive(make):
    return {"started_at": timezone.now()} if make is _batch else {"heartbeat_at": timezone.now()}


# --- exports -----------------------------------------------------------------------------------------------------

def test_an_export_whose_queue_message_was_lost_shows_interrupted_and_can_be_retried_once(
    client, two_provinces, on_commit_immediately, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    officer = two_provinces["users"]["city_officer"]
    job = factories.ExportJobFactory(created_by=officer, created_at=LONG_AGO)  # queued; its message never came
    client.force_login(officer)
    assert client.get(reverse("summaries:status", args=[job.pk])).json()["stale"] is True
    page = client.get(reverse("summaries:exports")).content.decode()
    assert "可能已中断" in page and reverse("summaries:retry", args=[job.pk]) in page
    assert reverse("summaries:status", args=[job.pk]) not in page  # no polling (and reloading) a lost job for ever
    client.post(reverse("summaries:retry", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "done" and job.file
    with pytest.raises(export_services.ExportRefused):
        export_services.retry_export(job, actor=officer)
    with pytest.raises(PermissionDenied):
        export_services.retry_export(job, actor=two_provinces["users"]["provincial_reviewer"])


def test_a_retried_export_is_not_stale_again_at_once_so_a_second_click_is_refused(two_provinces, monkeypatch):
    sent = []
    monkeypatch.setattr(export_services, "_send", lambda job: sent.append(job.pk))
    officer = two_provinces["users"]["city_officer"]
    job = factories.ExportJobFactory(created_by=officer, created_at=LONG_AGO)
    export_services.retry_export(job, actor=officer)
    with pytest.raises(export_services.ExportRefused):
        export_services.retry_export(job, actor=officer)
    assert sent == [job.pk]


def test_a_late_duplicate_message_never_builds_a_job_another_run_holds_or_one_that_ended(
    two_provinces, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    job = factories.ExportJobFactory(created_by=two_provinces["users"]["city_officer"])
    ExportJob.objects.filter(pk=job.pk).update(status="running", heartbeat_at=timezone.now(), attempts=1)
    export_services.run_export(job.pk)  # the first message, delivered late while the retry's run is building
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("running", 1)
    ExportJob.objects.filter(pk=job.pk).update(status="failed", error="x")
    export_services.run_export(job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.file.name) == ("failed", 1, "")
    export_services.release_for_retry(job.pk)  # only a running job is released
    job.refresh_from_db()
    assert job.status == "failed"


def test_a_message_redelivered_because_its_worker_process_died_builds_the_export_it_held(
    two_provinces, tmp_path, settings
):
    build_export = export_tasks.build_export
    settings.MEDIA_ROOT = tmp_path
    job = factories.ExportJobFactory(created_by=two_provinces["users"]["city_officer"])
    ExportJob.objects.filter(pk=job.pk).update(status="running", heartbeat_at=timezone.now(), attempts=1)
    # Celery puts the message back with `redelivered` when the pool process running it dies (reject_on_worker_lost).
    build_export.push_request(id="t-1", is_eager=False, retries=0, delivery_info={"redelivered": True})
    try:
        build_export.run(job.pk)
    finally:
        build_export.pop_request()
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("done", 2) and job.file.name.startswith("exports/")
    assert list((tmp_path / "exports").glob(".*.part")) == []


# --- register imports --------------------------------------------------------------------------------------------

@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_a_failed_register_import_offers_retry_to_its_owner_and_checks_the_file_again(
    client, media, on_commit_immediately
):
    admin = factories.AdminFactory()
    job = register_import.start_import(actor=admin, upload=csv_upload(GOOD))
    ImportJob.objects.filter(pk=job.pk).update(status="failed", error="处理失败：OperationalError: 服务器断开")
    client.force_login(admin)
    page = client.get(reverse("institutions:import_detail", args=[job.pk])).content.decode()
    assert "服务器断开" in page and reverse("institutions:import_retry", args=[job.pk]) in page
    client.post(reverse("institutions:import_retry", args=[job.pk]))
    job.refresh_from_db()
    assert (job.status, job.error) == ("ready", "")
    response = client.post(reverse("institutions:import_retry", args=[job.pk]), follow=True)
    assert "只有失败或已中断的导入可以重试" in response.content.decode()
    other_admin = factories.AdminFactory()
    ImportJob.objects.filter(pk=job.pk).update(status="failed")
    with pytest.raises(PermissionDenied):
        register_import.retry_import(job, actor=other_admin)
    client.force_login(other_admin)
    assert client.post(reverse("institutions:import_retry", args=[job.pk])).status_code == 404


def test_a_register_import_lost_in_the_queue_is_shown_interrupted_and_can_be_retried(client, media, monkeypatch):
    sent = []
    monkeypatch.setattr(register_import, "_send", lambda step, job_id: sent.append((step, job_id)))
    admin = factories.AdminFactory()
    with transaction.atomic():
        job = register_import.start_import(actor=admin, upload=csv_upload(GOOD))
    ImportJob.objects.filter(pk=job.pk).update(created_at=LONG_AGO)
    client.force_login(admin)
    assert client.get(reverse("institutions:import_status", args=[job.pk])).json()["stale"] is True
    assert "可能已中断" in client.get(reverse("institutions:imports")).content.decode()
    detail = client.get(reverse("institutions:import_detail", args=[job.pk])).content.decode()
    assert "data-import-status-url" not in detail and reverse("institutions:import_retry", args=[job.pk]) in detail
    register_import.retry_import(ImportJob.objects.get(pk=job.pk), actor=admin)
    job.refresh_from_db()
    assert job.status == "pending" and not job.is_stale


def test_retrying_an_import_whose_file_is_gone_is_refused_with_a_message(media):
    admin = factories.AdminFactory()
    job = ImportJob.objects.create(created_by=admin, region=factories.region("000000"), original_name="名录.csv",
                                   file="imports/gone.csv", status="failed")
    with pytest.raises(register_import.ImportRefused, match="文件已不存在"):
        register_import.retry_import(job, actor=admin)


# --- report-number uploads ---------------------------------------------------------------------------------------

PREVIOUS = Quarter.previous_of_now()


def test_an_upload_failed_by_a_fault_keeps_its_file_and_offers_retry_to_its_filer(client, media, monkeypatch,
                                                                                   on_commit_immediately):
    filer = factories.FilerFactory(institution=factories.filing_ready_institution())
    real = report_uploads.ingest_file
    monkeypatch.setattr(report_uploads, "ingest_file", lambda batch, path: (_ for _ in ()).throw(
        _database_error("SELECT no_such_function_anywhere(1)")))
    batch = report_uploads.start_upload(institution=filer.institution, quarter=PREVIOUS, source=b"A-1\nA-2\n",
                                         name="n.txt", actor=filer)
    batch.refresh_from_db()
    assert batch.status == "failed" and "no_such_function_anywhere" in batch.error and batch.can_retry
    client.force_login(filer)
    assert 'data-testid="batch-retry"' in client.get(reverse("reports:batch", args=[batch.pk])).content.decode()
    monkeypatch.setattr(report_uploads, "ingest_file", real)
    client.post(reverse("reports:batch_retry", args=[batch.pk]))
    batch.refresh_from_db()
    assert (batch.status, batch.accepted) == ("done", 2) and ReportNumber.objects.count() == 2


def test_a_refused_upload_offers_no_retry(client, media, on_commit_immediately):
    filer = factories.FilerFactory(institution=factories.filing_ready_institution())
    batch = report_uploads.start_upload(institution=filer.institution, quarter=PREVIOUS,
                                         source=b"A-1\n" * 20000 + b"\x00tail", name="n.txt", actor=filer)
    batch.refresh_from_db()
    assert batch.status == "failed" and not batch.can_retry
    client.force_login(filer)
    assert 'data-testid="batch-retry"' not in client.get(reverse("reports:batch", args=[batch.pk])).content.decode()
    response = client.post(reverse("reports:batch_retry", args=[batch.pk]), follow=True)
    assert "文件已不存在" in response.content.decode()


def test_retrying_an_import_that_is_being_written_is_refused_at_once(transactional_db, media):
    """Writing holds the job's lock and its progress is invisible until it commits, so it may look stale meanwhile."""
    import threading

    admin = factories.AdminFactory()
    job = ImportJob.objects.create(created_by=admin, region=factories.region("000000"), original_name="名录.csv",
                                   file="imports/x.csv", status="importing", created_at=LONG_AGO)
    locked, finish = threading.Event(), threading.Event()

    def writer():
        try:
            with transaction.atomic():
                ImportJob.objects.select_for_update().get(pk=job.pk)
                locked.set()
                finish.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert locked.wait(10) and ImportJob.objects.get(pk=job.pk).is_stale
        with pytest.raises(register_import.ImportRefused, match="正在写入"):
            register_import.retry_import(job, actor=admin)
    finally:
        finish.set()
        thread.join()
    assert ImportJob.objects.get(pk=job.pk).status == "importing"
