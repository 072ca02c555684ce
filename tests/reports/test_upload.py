"""The filer's upload page, the ingest task and its progress states, the rejects download and who may see what."""
import datetime
from pathlib import Path

import pytest
from celery.exceptions import Retry
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reports import tasks, uploads
from reports.models import ReportNumber, ReportNumberBatch
from reports.quarters import recent_quarters

PREVIOUS = recent_quarters(1)[0]


@pytest.fixture
def filer(two_provinces):
    return two_provinces["users"]["filer"]


def upload(client, user, data, name="numbers.txt", quarter=None):
    client.force_login(user)
    return client.post(
        reverse("reports:upload"),
        {"quarter": (quarter or PREVIOUS).code, "file": SimpleUploadedFile(name, data)},
    )


def test_filer_uploads_a_gbk_file_and_sees_the_counts(client, filer, on_commit_immediately):
    response = upload(client, filer, "报告编号\n湘检-1\n湘检-2\n湘检-1\n=CMD()\n".encode("gbk"))
    batch = ReportNumberBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("reports:batch", args=[batch.pk])
    assert (batch.status, batch.accepted, batch.duplicate_in_file, batch.rejected) == ("done", 2, 1, 1)
    assert batch.uploaded_by == filer and batch.institution == filer.institution
    page = client.get(response["Location"])
    assert "已完成" in page.content.decode() and "下载不合格行清单" in page.content.decode()
    rejects = client.get(reverse("reports:rejects", args=[batch.pk]))
    body = b"".join(rejects.streaming_content).decode("utf-8-sig")
    assert "5,'=CMD()," in body


def test_upload_page_proposes_the_previous_quarter(client, filer):
    client.force_login(filer)
    page = client.get(reverse("reports:upload")).content.decode()
    assert f'<option value="{PREVIOUS.code}" selected>' in page


def test_upload_for_the_current_quarter_is_refused_and_stores_nothing(client, filer):
    current = PREVIOUS.next()
    client.force_login(filer)
    response = client.post(
        reverse("reports:upload"), {"quarter": current.code, "file": SimpleUploadedFile("n.txt", b"A-1\n")}
    )
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode() or "尚未结束" in response.content.decode()
    assert not ReportNumberBatch.objects.exists()
    with pytest.raises(uploads.UploadRefused, match="尚未结束"):
        uploads.start_upload(
            institution=filer.institution, quarter=current, source=b"A-1\n", name="n.txt", actor=filer
        )


def test_binary_file_is_refused_on_upload_with_a_message(client, filer):
    response = upload(client, filer, b"\x00\x01\x02binary", name="n.txt")
    assert "二进制文件" in response.content.decode()
    assert not ReportNumberBatch.objects.exists()


def test_a_filer_cannot_upload_for_another_institution(two_provinces, filer):
    other = two_provinces["institutions"]["changsha2"]
    with pytest.raises(PermissionDenied):
        uploads.start_upload(institution=other, quarter=PREVIOUS, source=b"A-1\n", name="n.txt", actor=filer)
    officer = two_provinces["users"]["city_officer"]
    with pytest.raises(PermissionDenied):
        uploads.start_upload(institution=other, quarter=PREVIOUS, source=b"A-1\n", name="n.txt", actor=officer)


def test_regulators_cannot_open_the_upload_page(client, two_provinces):
    client.force_login(two_provinces["users"]["city_officer"])
    assert client.get(reverse("reports:upload")).status_code == 403


def test_another_institutions_batch_is_not_found(client, two_provinces, make_batch):
    batch = make_batch(two_provinces["institutions"]["changsha2"], 2023, 1)
    client.force_login(two_provinces["users"]["filer"])
    for name in ("reports:batch", "reports:batch_status", "reports:rejects"):
        assert client.get(reverse(name, args=[batch.pk])).status_code == 404
    client.force_login(two_provinces["users"]["city_officer"])  # the officer of that city may look
    assert client.get(reverse("reports:batch", args=[batch.pk])).status_code == 200


def test_task_moves_the_batch_from_pending_through_running_to_done(filer, client):
    batch = uploads.start_upload(
        institution=filer.institution, quarter=PREVIOUS, source=b"A-1\nA-2\n", name="n.txt", actor=filer
    )
    client.force_login(filer)
    status_url = reverse("reports:batch_status", args=[batch.pk])
    assert client.get(status_url).json()["status"] == "pending"

    # While the lines are checked and staged, the progress is written to the batch's row between segments.
    ReportNumberBatch.objects.filter(pk=batch.pk).update(status="running", started_at=timezone.now())
    ReportNumberBatch.mark_progress(batch.pk, 42, "正在检查并写入编号")
    data = client.get(status_url).json()
    assert (data["status"], data["progress"], data["stage"]) == ("running", 42, "正在检查并写入编号")

    ReportNumberBatch.objects.filter(pk=batch.pk).update(status="pending")
    tasks.ingest_report_numbers.delay(batch.pk)
    data = client.get(status_url).json()
    assert (data["status"], data["progress"], data["accepted"]) == ("done", 100, 2)
    assert ReportNumberBatch.objects.values_list("progress", "stage").get(pk=batch.pk) == (100, "已完成")

    tasks.ingest_report_numbers.delay(batch.pk)  # redelivered: nothing changes
    assert ReportNumber.objects.count() == 2
    assert ReportNumberBatch.objects.get(pk=batch.pk).attempts == 1


def test_task_marks_a_file_refused_midway_as_failed_and_stores_nothing(filer, settings):
    data = b"A-1\n" * 20000 + b"\x00tail"  # past the first 64 KB that the upload itself checks
    batch = uploads.start_upload(
        institution=filer.institution, quarter=PREVIOUS, source=data, name="n.txt", actor=filer
    )
    tasks.ingest_report_numbers.delay(batch.pk)
    batch.refresh_from_db()
    assert batch.status == "failed" and "二进制" in batch.error
    assert not ReportNumber.objects.exists()
    assert not (Path(settings.MEDIA_ROOT) / batch.upload.name).exists()


def test_task_retries_a_transient_database_error(filer, monkeypatch):
    batch = uploads.start_upload(
        institution=filer.institution, quarter=PREVIOUS, source=b"A-1\n", name="n.txt", actor=filer
    )
    real, calls = uploads.run_upload, []

    def flaky(batch_id):
        calls.append(batch_id)
        if len(calls) == 1:
            raise OperationalError("connection lost")
        return real(batch_id)

    monkeypatch.setattr(uploads, "run_upload", flaky)
    retried = []
    monkeypatch.setattr(
        tasks.ingest_report_numbers, "retry", lambda exc, countdown: retried.append(countdown) or Retry()
    )
    with pytest.raises(Retry):
        tasks.ingest_report_numbers(batch.pk)  # as a worker runs it (not in-process)
    batch.refresh_from_db()
    assert retried == [5] and batch.status == "pending" and not ReportNumber.objects.exists()
    tasks.ingest_report_numbers(batch.pk)  # the retry
    batch.refresh_from_db()
    assert len(calls) == 2 and batch.status == "done" and batch.accepted == 1


def test_a_running_batch_without_progress_for_long_is_stale(make_batch, two_provinces):
    batch = make_batch(two_provinces["institutions"]["changsha"], 2023, 1, status="running")
    batch.started_at = timezone.now() - datetime.timedelta(hours=1)
    assert batch.is_stale


def test_upload_page_issues_a_fixed_number_of_queries(client, filer, make_batch):
    client.force_login(filer)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("reports:upload")).status_code == 200
        return len(ctx.captured_queries)

    make_batch(filer.institution, 2023, 1)
    few = count()
    for quarter in range(1, 5):
        for _ in range(4):
            make_batch(filer.institution, 2022, quarter)
    assert count() == few


def test_filer_home_shows_the_quarter_status(client, filer, make_batch):
    make_batch(filer.institution, PREVIOUS.year, PREVIOUS.quarter, accepted=12)
    client.force_login(filer)
    page = client.get(reverse("home")).content.decode()
    assert "检验检测报告编号上传情况" in page and PREVIOUS.label in page and "已上传" in page


def test_institution_page_shows_the_quarter_status_and_upload_links_to_its_filer(client, two_provinces, make_batch):
    institution = two_provinces["institutions"]["changsha"]
    make_batch(institution, PREVIOUS.year, PREVIOUS.quarter, accepted=12, at=PREVIOUS.due_by)
    url = reverse("institutions:detail", args=[institution.pk])
    client.force_login(two_provinces["users"]["filer"])
    page = client.get(url).content.decode()
    assert 'data-testid="report-upload-status"' in page and "逾期" in page and reverse("reports:tokens") in page
    client.force_login(two_provinces["users"]["city_officer"])
    page = client.get(url).content.decode()
    assert 'data-testid="report-upload-status"' in page and reverse("reports:tokens") not in page


def test_a_stale_batch_can_be_restarted_and_a_fresh_one_cannot(client, filer, monkeypatch, on_commit_immediately):
    sent = []
    monkeypatch.setattr(tasks.ingest_report_numbers, "delay", lambda pk: sent.append(pk))
    batch = uploads.start_upload(
        institution=filer.institution, quarter=PREVIOUS, source=b"A-1\n", name="n.txt", actor=filer
    )
    client.force_login(filer)
    retry = reverse("reports:batch_retry", args=[batch.pk])
    assert "只有失败或已中断的上传" in client.post(retry, follow=True).content.decode()
    ReportNumberBatch.objects.filter(pk=batch.pk).update(
        status="running", started_at=timezone.now() - datetime.timedelta(hours=1)
    )
    assert "重新处理" in client.get(reverse("reports:batch", args=[batch.pk])).content.decode()
    client.post(retry)
    batch.refresh_from_db()
    assert batch.status == "pending" and sent == [batch.pk, batch.pk]
    uploads.run_upload(batch.pk)
    batch.refresh_from_db()
    assert batch.status == "done" and batch.accepted == 1
