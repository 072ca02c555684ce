"""The job sweeper (beat, every minute): a queued job whose message was lost is sent again; a running job whose
worker died is marked 已中断 so that its owner retries it; live jobs are left alone."""
from datetime import timedelta

import pytest
from django.utils import timezone

from config.jobs import STALE_AFTER
from institutions import tasks as import_tasks
from institutions.models import ImportJob
from jobs import sweeper
from reports import tasks as report_tasks
from reports.models import ReportNumberBatch
from summaries import services as export_services, tasks as export_tasks
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    messages = []
    for task in (export_tasks.build_export, report_tasks.ingest_report_numbers, import_tasks.validate_import,
                 import_tasks.run_import):
        monkeypatch.setattr(task, "delay", lambda *args, name=task.name: messages.append((name, *args)))
    return messages


def _quiet(job, minutes):
    type(job).objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=minutes))


def test_a_queued_export_whose_message_was_lost_is_sent_again_once_per_interval(sent):
    lost, fresh = factories.ExportJobFactory(), factories.ExportJobFactory()
    _quiet(lost, 3)
    _quiet(fresh, 1)
    sweeper.sweep()
    assert sent == [("summaries.build_export", lost.pk)]
    sweeper.sweep()  # stamped when sent: not again before RESEND_AFTER
    assert len(sent) == 1


def test_a_running_export_whose_worker_died_is_marked_interrupted_and_may_be_retried(sent, on_commit_immediately):
    dead, alive = factories.ExportJobFactory(status="running"), factories.ExportJobFactory(status="running")
    _quiet(dead, STALE_AFTER.total_seconds() / 60 + 1)
    _quiet(alive, 5)
    sweeper.sweep()
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == "failed" and dead.error.startswith("已中断") and dead.can_retry and not dead.file
    assert alive.status == "running" and not sent
    export_services.retry_export(dead, actor=dead.created_by)
    assert sent == [("summaries.build_export", dead.pk)]


def test_a_confirmed_register_import_that_lost_its_message_is_written_again(sent):
    admin = factories.AdminFactory()
    job = ImportJob.objects.create(created_by=admin, region=factories.region("430000"), original_name="名录.csv",
                                   file="imports/x.csv", status=ImportJob.Status.IMPORTING)
    checking = ImportJob.objects.create(created_by=admin, region=factories.region("430000"), original_name="b.csv",
                                        file="imports/y.csv", status=ImportJob.Status.PENDING)
    _quiet(job, 3)
    _quiet(checking, 3)
    sweeper.sweep()
    assert sorted(sent) == sorted([("institutions.run_import", job.pk), ("institutions.validate_import",
                                                                         checking.pk)])


def test_a_stale_upload_is_marked_interrupted(sent):
    batch = ReportNumberBatch.objects.create(institution=factories.InstitutionFactory(), year=2025, quarter=1,
                                             status=ReportNumberBatch.Status.RUNNING)
    _quiet(batch, STALE_AFTER.total_seconds() / 60 + 1)
    sweeper.sweep()
    batch.refresh_from_db()
    assert batch.status == "failed" and "已中断" in batch.error and batch.accepted == 0
