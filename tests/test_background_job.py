"""The one background job (jobs.models.BackgroundJob) and its runner: the rules every kind inherits (stale when queued
or running without a sign of life, never when ended; progress written to the row, throttled; a failure never undoes a
finished job), Celery's own retry policy for transient faults (JobTask, MailTask) with real faults, in a worker and
in-process, and the one status view with each kind's own permission check."""
import errno
import smtplib
import sqlite3
from datetime import timedelta

import pytest
from celery.canvas import Signature
from celery.exceptions import Retry
from django.db import OperationalError, connection, transaction
from django.db.utils import ProgrammingError
from django.urls import reverse
from django.utils import timezone

from config.jobs import STALE_AFTER, JobTask, MailTask, is_transient
from institutions.models import ImportJob
from jobs.models import BackgroundJob
from reports import complaints as report_complaints, staging as report_staging, tasks as report_tasks
from reports.models import ReportNumberBatch
from summaries import services as export_services, tasks as export_tasks
from summaries.models import ExportJob
from tests import factories

pytestmark = pytest.mark.django_db
LONG_AGO = timezone.now() - STALE_AFTER - timedelta(minutes=1)
KINDS = [ExportJob, ImportJob, ReportNumberBatch]


def _export(**fields):
    return factories.ExportJobFactory(**fields)


# --- the rules every kind inherits ----------------------------------------------------------------------------------

@pytest.mark.parametrize("model", KINDS, ids=["export", "import", "upload"])
def test_every_kind_of_job_is_a_background_job_with_the_shared_fields(model):
    assert issubclass(model, BackgroundJob) and not model._meta.abstract
    names = {field.name for field in model._meta.get_fields()}
    assert {"status", "progress", "stage", "error", "attempts", "created_at", "started_at", "heartbeat_at",
            "finished_at"} <= names
    assert {"pending", "done", "failed"} <= set(model.Status.values)


def test_a_queued_job_turns_stale_without_a_sign_of_life_and_a_fresh_one_does_not():
    assert _export(status="pending", created_at=LONG_AGO).is_stale
    assert not _export(status="pending").is_stale
    assert not _export(status="pending", created_at=LONG_AGO, heartbeat_at=timezone.now()).is_stale  # retried


def test_a_running_job_is_stale_only_after_its_last_heartbeat_is_old():
    assert not _export(status="running", created_at=LONG_AGO, started_at=LONG_AGO, heartbeat_at=timezone.now()).is_stale
    assert _export(status="running", created_at=LONG_AGO, started_at=LONG_AGO, heartbeat_at=LONG_AGO).is_stale


@pytest.mark.parametrize("status", ["done", "failed", "expired"])
def test_an_ended_job_is_never_stale_nor_busy(status):
    job = _export(status=status, created_at=LONG_AGO)
    assert not job.is_stale and not job.is_busy and job.is_finished


def test_a_checked_import_waiting_for_its_owner_is_neither_busy_nor_stale():
    job = ImportJob.objects.create(created_by=factories.AdminFactory(), region=factories.region("000000"),
                                   original_name="名录.csv", file="imports/x.csv", status="ready", created_at=LONG_AGO)
    assert not job.is_busy and not job.is_stale
    for busy in ("pending", "validating", "importing"):
        job.status = busy
        assert job.is_busy and job.is_stale


def test_progress_is_saved_in_the_row_at_most_every_interval(monkeypatch):
    job = _export(status="running")
    clock = [100.0]
    monkeypatch.setattr("jobs.models.time.monotonic", lambda: clock[0])
    report = ExportJob.progress_reporter(job.pk, 1, 95)
    report(0.5, "正在汇总")
    job.refresh_from_db()
    assert (job.progress, job.stage) == (48, "正在汇总") and job.heartbeat_at
    report(0.9, "还在汇总")  # within the interval: not written
    job.refresh_from_db()
    assert job.progress == 48
    clock[0] += ExportJob.PROGRESS_INTERVAL
    report(0.9, "还在汇总")
    job.refresh_from_db()
    assert (job.progress, job.stage) == (85, "还在汇总")


def test_failing_a_job_keeps_a_finished_one_and_sets_the_kinds_stage():
    done = _export(status="done", progress=100)
    ExportJob.mark_failed(done.pk, "晚到的失败")
    done.refresh_from_db()
    assert done.status == "done" and not done.error
    batch = ReportNumberBatch.objects.create(institution=factories.InstitutionFactory(), year=2024, quarter=1,
                                             status="running", accepted=5)
    ReportNumberBatch.mark_failed(batch.pk, "处理失败：x", accepted=0)
    batch.refresh_from_db()
    assert (batch.status, batch.stage, batch.error, batch.accepted) == ("failed", "未通过", "处理失败：x", 0)
    assert batch.finished_at


# --- the runner: Celery's own retry policy ------------------------------------------------------------------------

def _real_sqlite_lock_error():
    """The OperationalError Django raises for a SQLite database another connection holds (a real one, code 5)."""
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        holder = sqlite3.connect(f"{directory}/x.db", isolation_level=None)
        holder.execute("CREATE TABLE t (x)")
        holder.execute("BEGIN EXCLUSIVE")
        other = sqlite3.connect(f"{directory}/x.db", timeout=0)
        try:
            other.execute("SELECT * FROM t")
        except sqlite3.OperationalError as cause:
            error = OperationalError(str(cause))
            error.__cause__ = cause
            return error
        finally:
            other.close()
            holder.close()
    raise AssertionError("the database was not locked")


def _real_permanent_error():
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT no_such_function_anywhere(1)")
    except ProgrammingError as error:
        return error
    raise AssertionError("did not fail")


@pytest.fixture
def failing_export(monkeypatch):
    def install(error):
        def step(job_id):
            ExportJob.objects.filter(pk=job_id).update(status="running", heartbeat_at=timezone.now())
            raise error

        monkeypatch.setattr(export_services, "run_export", step)
        return _export()

    return install


@pytest.fixture
def sent(monkeypatch):
    """What Celery's retry would send to the broker (nothing leaves the test)."""
    messages = []
    monkeypatch.setattr(Signature, "apply_async", lambda self, *a, **kw: messages.append(self))
    return messages


def _as_worker(task, *args, retries=0):
    task.push_request(retries=retries, is_eager=False, called_directly=False, id="t-1", args=args, kwargs={})
    try:
        return task.run(*args)
    finally:
        task.pop_request()


def test_job_tasks_declare_celerys_retry_policy():
    for task in (export_tasks.build_export, report_tasks.ingest_report_numbers):
        assert isinstance(task._get_current_object(), JobTask)
        assert (task.max_retries, task.retry_backoff, task.retry_jitter) == (3, 5, False)
    assert isinstance(report_tasks.notify_complaint._get_current_object(), MailTask)


def test_in_a_worker_a_real_transient_fault_is_retried_by_celery_with_back_off(failing_export, sent):
    error = _real_sqlite_lock_error()
    assert is_transient(error)
    job = failing_export(error)
    with pytest.raises(Retry) as retry:
        _as_worker(export_tasks.build_export, job.pk)
    assert retry.value.when == 5 and len(sent) == 1 and sent[0].options["retries"] == 1
    job.refresh_from_db()
    assert job.status == "pending"  # freed for the retried run


def test_in_a_worker_the_back_off_doubles_and_the_last_retry_fails_the_job(failing_export, sent):
    job = failing_export(_real_sqlite_lock_error())
    with pytest.raises(Retry) as retry:
        _as_worker(export_tasks.build_export, job.pk, retries=2)
    assert retry.value.when == 20
    _as_worker(export_tasks.build_export, job.pk, retries=3)
    job.refresh_from_db()
    assert job.status == "failed" and "已重试 3 次" in job.error and len(sent) == 1


def test_in_a_worker_a_real_permanent_error_fails_the_job_at_once(failing_export, sent):
    job = failing_export(_real_permanent_error())
    _as_worker(export_tasks.build_export, job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "no_such_function_anywhere" in job.error and not sent


def test_a_full_disk_fails_the_job_with_a_chinese_message(failing_export, sent, tmp_path):
    from xlsxwriter.exceptions import FileCreateError

    try:  # as XlsxWriter reports it: its own error, raised while handling the OS's ENOSPC
        try:
            raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x.xlsx"))
        except OSError as cause:
            raise FileCreateError(cause)  # noqa: B904 -- as the library does
    except FileCreateError as error:
        job = failing_export(error)
    _as_worker(export_tasks.build_export, job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "服务器磁盘空间已满" in job.error
    assert "Errno" not in job.error and str(tmp_path) not in job.error and not sent


@pytest.mark.parametrize("make_error", [_real_sqlite_lock_error, _real_permanent_error], ids=["transient", "permanent"])
def test_in_process_no_fault_raises_retry_into_the_request(failing_export, sent, make_error):
    job = failing_export(make_error())
    export_tasks.build_export.apply(args=[job.pk])  # eager: raises nothing
    job.refresh_from_db()
    assert job.status == "failed" and not sent


def test_a_mail_fault_is_retried_by_celery_and_another_error_is_not(monkeypatch, sent):
    def down(complaint_id):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(report_complaints, "send_complaint_notice", down)
    with pytest.raises(Retry) as retry:
        _as_worker(report_tasks.notify_complaint, 1)
    assert retry.value.when == 60 and len(sent) == 1

    monkeypatch.setattr(report_complaints, "send_complaint_notice", lambda complaint_id: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        _as_worker(report_tasks.notify_complaint, 1)
    assert len(sent) == 1


# --- the one status view, each kind with its own permission -------------------------------------------------------

COMMON_KEYS = {"status", "status_label", "progress", "stage", "error", "stale", "busy", "can_retry"}


def _status(client, user, name, pk):
    client.force_login(user)
    return client.get(reverse(name, args=[pk]))


def test_an_export_status_is_shown_to_its_owner_only(client, two_provinces):
    users = two_provinces["users"]
    job = _export(created_by=users["city_officer"], status="running", progress=40, stage="正在汇总")
    data = _status(client, users["city_officer"], "summaries:status", job.pk).json()
    assert COMMON_KEYS <= set(data) and (data["progress"], data["stage"], data["busy"]) == (40, "正在汇总", True)
    assert data["download_url"] == ""
    assert _status(client, users["provincial_reviewer"], "summaries:status", job.pk).status_code == 404


def test_an_import_status_is_shown_to_its_owner_only(client):
    owner, other = factories.AdminFactory(), factories.AdminFactory()
    job = ImportJob.objects.create(created_by=owner, region=factories.region("000000"), original_name="名录.csv",
                                   file="imports/x.csv", status="validating", progress=30)
    data = _status(client, owner, "institutions:import_status", job.pk).json()
    assert COMMON_KEYS <= set(data) and data["progress"] == 30 and data["url"].endswith(f"/imports/{job.pk}/")
    assert _status(client, other, "institutions:import_status", job.pk).status_code == 404
    assert _status(client, factories.FilerFactory(), "institutions:import_status", job.pk).status_code == 403


def test_an_upload_status_is_shown_to_its_institution_only(client):
    filer = factories.FilerFactory(institution=factories.InstitutionFactory())
    batch = ReportNumberBatch.objects.create(institution=filer.institution, year=2024, quarter=1, status="running",
                                             progress=42, stage="正在检查并写入编号")
    data = _status(client, filer, "reports:batch_status", batch.pk).json()
    assert COMMON_KEYS <= set(data) and (data["progress"], data["accepted"], data["rejects_url"]) == (42, 0, "")
    stranger = factories.FilerFactory(institution=factories.InstitutionFactory())
    assert _status(client, stranger, "reports:batch_status", batch.pk).status_code == 404


# --- report-number uploads: progress in the row while the lines are checked ---------------------------------------

@pytest.mark.parametrize("portable", [False, True], ids=["copy", "portable"])
def test_an_upload_writes_its_progress_to_the_row_between_segments(monkeypatch, settings, tmp_path, portable):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(ReportNumberBatch, "PROGRESS_INTERVAL", 0)
    monkeypatch.setattr(report_staging._Numbers, "BATCH", 50)
    monkeypatch.setattr(report_staging, "_PORTABLE_CHUNK", 50)
    seen = []
    original = ReportNumberBatch.mark_progress.__func__

    def spy(cls, job_id, percent, stage):
        original(cls, job_id, percent, stage)
        seen.append(ReportNumberBatch.objects.values_list("progress", "stage").get(pk=job_id))

    monkeypatch.setattr(ReportNumberBatch, "mark_progress", classmethod(spy))
    path = tmp_path / "n.txt"
    path.write_text("".join(f"A-{n}\n" for n in range(2000)) + "坏 行\n", encoding="utf-8")
    batch = ReportNumberBatch.objects.create(institution=factories.InstitutionFactory(), year=2024, quarter=1,
                                             status="running")
    batch = report_staging.ingest_file(batch, path, portable=portable)
    percents = [percent for percent, _stage in seen]
    assert len(seen) > 3 and percents == sorted(percents) and seen[-1] == (91, "正在写入数据库")
    assert (batch.status, batch.progress, batch.accepted, batch.rejected) == ("done", 100, 2000, 1)


# --- the broker down: the job waits in the database --------------------------------------------------------------

def test_a_job_started_while_the_broker_is_down_is_kept_queued_and_the_request_succeeds(
        monkeypatch, on_commit_immediately, two_provinces):
    from kombu.exceptions import OperationalError as BrokerUnreachable

    def unreachable(*args, **kwargs):
        raise BrokerUnreachable("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(export_tasks.build_export, "delay", unreachable)
    officer = two_provinces["users"]["city_officer"]
    job = export_services.start_export(actor=officer, kind="register", region=officer.region)
    job.refresh_from_db()
    assert job.status == "pending"  # sent again by the job sweeper once the broker is back


def test_sending_a_task_does_not_wait_on_the_result_store():
    from config.celery import app, ping

    # Nothing reads a job's task result: a send never subscribes to Redis's result store (it fails while Redis is
    # down and then needs a restart). The health ping keeps its result.
    assert app.conf.task_ignore_result is True and ping.ignore_result is False
