"""Report-number uploads: a file (web or LIMS API) is checked at once, stored, and ingested by a Celery task.

`start_upload` stores the file and a pending batch and queues `reports.ingest_report_numbers` (tasks.py), which calls
`run_upload`; the ingest itself is `staging.ingest_file`. `retry_upload` queues a failed or stale batch again and
`open_rejects` hands out its rejected lines. A refused file stores nothing; uploading the same file again adds nothing.
"""
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts import permissions
from accounts.scoping import visible_to
from config.jobs import send_task
from config.refusals import DomainRefusal
from config.uploads import visible

from . import ingest
from .ingest import FileRefused
from .models import ReportNumberBatch
from .quarters import EARLIEST_YEAR, Quarter
from .staging import ingest_file


class UploadRefused(DomainRefusal):
    """An upload (or a batch's retry or rejects file) that is not allowed; the message is for the user."""


def check_quarter(quarter: Quarter, now=None) -> None:
    if quarter.year < EARLIEST_YEAR:
        raise UploadRefused(f"只能上传 {EARLIEST_YEAR} 年以后的季度。")
    if not quarter.has_ended(now):
        raise UploadRefused(f"{quarter.label}尚未结束，不能上传；季度结束后的次月内上传上一季度的报告编号。")


def upload_directory() -> Path:
    path = Path(settings.MEDIA_ROOT) / "report_uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _store(source, suffix: str) -> Path:
    """Copy an uploaded file (or bytes) to the upload directory in chunks; refuse it past the size limit."""
    target = upload_directory() / f"{uuid.uuid4().hex}.{suffix}"
    written = 0
    try:
        with target.open("wb") as out:
            chunks = [source] if isinstance(source, bytes) else source.chunks()
            for chunk in chunks:
                written += len(chunk)
                if written > ingest.MAX_BYTES:
                    raise FileRefused(f"文件超过 {ingest.MAX_BYTES // 1024 // 1024} MB，请分成几个文件上传。")
                out.write(chunk)
        return target
    except BaseException:
        target.unlink(missing_ok=True)
        raise



def start_upload(*, institution, quarter: Quarter, source, name: str, actor=None, token=None) -> ReportNumberBatch:
    """Accept a file (an UploadedFile, or bytes for the JSON API) for `institution` and `quarter` and queue its ingest.

    Web uploads come from a filer of that very institution; API uploads from an active token of it."""
    if token is not None:
        if not token.is_active or token.institution_id != institution.pk:
            raise PermissionDenied("令牌无效。")
        source_kind = ReportNumberBatch.Source.API
    else:
        if not permissions.can_upload_report_numbers(actor, institution):
            raise PermissionDenied("只能由本机构的填报人上传本机构的报告编号。")
        source_kind = ReportNumberBatch.Source.WEB
    check_quarter(quarter)
    try:
        kind = ingest.kind_of(name)
        path = _store(source, kind)
        try:
            ingest.sniff(path, kind)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    except FileRefused as refusal:
        raise UploadRefused(refusal.message) from refusal
    now = timezone.now()
    try:
        with transaction.atomic():
            batch = ReportNumberBatch.objects.create(
                institution=institution, year=quarter.year, quarter=quarter.quarter, source=source_kind,
                uploaded_by=actor, token=token, original_name=visible(Path(name).name)[:255],
                file_size=path.stat().st_size,
                upload=str(path.relative_to(settings.MEDIA_ROOT)), created_at=now, is_late=quarter.is_late_at(now),
                stage="等待处理",
            )
            transaction.on_commit(lambda: _queue_ingest(batch.pk))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return batch


def retry_upload(batch: ReportNumberBatch, *, actor) -> ReportNumberBatch:
    """Queue again a batch that is stale (its message or worker was lost) or that failed by a fault while its file is
    still there. The ingest is one transaction that leaves a finished batch alone, so a late first run adds nothing."""
    if not permissions.can_upload_report_numbers(actor, batch.institution_id):
        raise PermissionDenied("只能重新处理本机构的上传。")
    with transaction.atomic():
        batch = ReportNumberBatch.objects.select_for_update().get(pk=batch.pk)
        if not (batch.is_stale or batch.status == ReportNumberBatch.Status.FAILED):
            raise UploadRefused("只有失败或已中断的上传可以重新处理。")
        if not (Path(settings.MEDIA_ROOT) / batch.upload.name).exists():
            raise UploadRefused("上传的文件已不存在，请重新上传。")
        batch.status, batch.progress, batch.stage, batch.error = ReportNumberBatch.Status.PENDING, 0, "等待处理", ""
        batch.heartbeat_at = timezone.now()  # queued again now: not stale again at once
        batch.save(update_fields=["status", "progress", "stage", "error", "heartbeat_at"])
        transaction.on_commit(lambda: _queue_ingest(batch.pk))
    return batch


def run_upload(batch_id: int) -> None:
    """Ingest a pending batch. Safe to run again (a retried or redelivered task): a finished batch is left alone, and
    the ingest is one transaction, so a crash leaves nothing behind."""
    with transaction.atomic():
        batch = ReportNumberBatch.objects.select_for_update().get(pk=batch_id)
        if batch.is_finished:
            return
        now = timezone.now()
        batch.status, batch.started_at, batch.heartbeat_at = ReportNumberBatch.Status.RUNNING, now, now
        batch.attempts += 1
        batch.progress, batch.stage, batch.error = 1, "正在检查文件", ""
        batch.save(update_fields=["status", "started_at", "heartbeat_at", "attempts", "progress", "stage", "error"])
    path = Path(settings.MEDIA_ROOT) / batch.upload.name
    try:
        ingest_file(batch, path)
    except FileRefused as refusal:
        mark_failed(batch_id, str(refusal))
        path.unlink(missing_ok=True)
        return
    path.unlink(missing_ok=True)


def mark_failed(batch_id: int, message: str) -> None:
    ReportNumberBatch.mark_failed(
        batch_id, message, accepted=0, duplicate_in_file=0, duplicate_existing=0, rejected=0, lines=0, rejects_file="",
    )


def open_rejects(batch: ReportNumberBatch, *, actor):
    if not visible_to(actor, ReportNumberBatch).filter(pk=batch.pk).exists():
        raise PermissionDenied("您无权下载该文件。")
    if not batch.rejects_file:
        raise UploadRefused("该批次没有不合格行。")
    return batch.rejects_file.open("rb")


def _queue_ingest(batch_id: int) -> None:
    from .tasks import ingest_report_numbers  # tasks.py imports this module

    send_task(ingest_report_numbers, batch_id)
