"""Starting, running, retrying and expiring exports. The task in tasks.py only calls run_export."""
import logging
import os
import shutil
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.permissions import can_export
from accounts.scoping import visible_to
from config.jobs import send_task
from config.refusals import DomainRefusal
from filings.models import ReportingYear

from .models import ExportJob
from .registry import get_kind
from .xlsx import SCRATCH_PREFIX, new_workbook

log = logging.getLogger(__name__)

class ExportRefused(DomainRefusal):
    """A request to start, retry or download an export that is not allowed; the message is for the user."""


def start_export(*, actor, kind: str, region, year: int | None = None, include_submitted: bool = False) -> ExportJob:
    export_kind = get_kind(kind)
    if export_kind is None:
        raise ExportRefused("未知的导出类型。")
    if not can_export(actor, region):
        raise PermissionDenied("您无权导出该范围的数据。")
    if export_kind.needs_year and not year:
        raise ExportRefused("请选择统计年度。")
    if export_kind.needs_year and not ReportingYear.objects.filter(year=year).exists():
        raise ExportRefused(f"{year}年度尚未设立，无法汇总。")
    params = {"year": year, "include_submitted": bool(include_submitted)} if export_kind.needs_year else {}
    year_text = f"{year}年度 " if export_kind.needs_year else ""
    basis_text = "（含已提交）" if params.get("include_submitted") else ""
    with transaction.atomic():
        job = ExportJob.objects.create(
            kind=kind, title=f"{year_text}{region.name} {export_kind.label}{basis_text}", params=params, region=region,
            created_by=actor,
        )
        _send(job)
    return job


def retry_export(job: ExportJob, *, actor) -> ExportJob:
    if not visible_to(actor, ExportJob).filter(pk=job.pk).exists() or job.created_by_id != actor.pk:
        raise PermissionDenied("只能重试自己发起的导出。")
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job.pk)
        if not (job.status == ExportJob.Status.FAILED or job.is_stale):
            raise ExportRefused("只有失败或已中断的导出可以重试。")
        # Queued again now: the job is not stale again until it has been quiet for STALE_AFTER once more.
        job.status, job.progress, job.stage, job.error = ExportJob.Status.PENDING, 0, "等待重新生成", ""
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["status", "progress", "stage", "error", "heartbeat_at"])
        _send(job)
    return job


def _send(job):
    from .tasks import build_export  # tasks.py imports this module

    transaction.on_commit(lambda: send_task(build_export, job.pk))


def export_directory() -> Path:
    path = Path(settings.MEDIA_ROOT) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_export(job_id: int, *, take_over: bool = False) -> None:
    """Build the job's workbook. Safe to run again (a retried or redelivered task): a finished or failed job is left
    alone, as is one that another run is building (running, not stale) unless `take_over` (the message came back
    because the run that held it died); the file is written under a temporary name and moved into place only when
    complete, and only the first run to finish marks the job done (a later one removes its own file)."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().select_related("region", "created_by").get(pk=job_id)
        if job.status in (ExportJob.Status.DONE, ExportJob.Status.EXPIRED, ExportJob.Status.FAILED):
            return
        if job.status == ExportJob.Status.RUNNING and not job.is_stale and not take_over:
            log.info("export %s is being built by another run; this one stops", job_id)
            return
        now = timezone.now()
        job.status, job.started_at, job.heartbeat_at = ExportJob.Status.RUNNING, now, now
        job.attempts += 1
        job.progress, job.stage, job.error = 1, "正在读取数据", ""
        job.save(update_fields=["status", "started_at", "heartbeat_at", "attempts", "progress", "stage", "error"])

    # Permission is checked again when the job runs: the user's role or region may have changed since.
    if not can_export(job.created_by, job.region):
        mark_failed(job_id, "发起人已无权导出该范围的数据。")
        return

    directory = export_directory()
    temporary = directory / f".{job.pk}-{uuid.uuid4().hex}.xlsx.part"
    progress = ExportJob.progress_reporter(job_id, 1, 95)
    workbook = new_workbook(temporary)
    try:
        get_kind(job.kind).build(job, workbook, progress)
        ExportJob.mark_progress(job_id, 97, "正在保存文件")
        workbook.save()
        final_name = f"exports/{job.pk}-{job.kind}-{uuid.uuid4().hex[:8]}.xlsx"
        os.replace(temporary, Path(settings.MEDIA_ROOT) / final_name)
    except BaseException:
        workbook.discard()
        temporary.unlink(missing_ok=True)
        raise

    finished = timezone.now()
    marked = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.RUNNING).update(
        status=ExportJob.Status.DONE, progress=100, stage="已完成", file=final_name, finished_at=finished,
        heartbeat_at=finished, expires_at=finished + timedelta(days=settings.EXPORT_RETENTION_DAYS),
    )
    if not marked:  # the job was failed or finished by another run meanwhile: that outcome stands
        (Path(settings.MEDIA_ROOT) / final_name).unlink(missing_ok=True)


def release_for_retry(job_id: int) -> None:
    """Before Celery retries a transient fault: the job waits again, so that the retried run may take it up."""
    ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.RUNNING).update(
        status=ExportJob.Status.PENDING, stage="暂时故障，稍后自动重试", heartbeat_at=timezone.now()
    )


def mark_failed(job_id: int, message: str) -> None:
    ExportJob.mark_failed(job_id, message)


def purge_expired_exports(now=None) -> int:
    """Delete the files of exports past their retention; the rows stay (as 已过期) for the record."""
    now = now or timezone.now()
    expired = ExportJob.objects.filter(status=ExportJob.Status.DONE, expires_at__lte=now)
    count = 0
    for job in expired.only("pk", "file"):
        if job.file:
            job.file.storage.delete(job.file.name)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.EXPIRED, file="")
        count += 1
    if count:
        log.info("purged %s expired exports", count)
    return count


# No export runs this long: older unfinished files are what a killed worker left behind.
ABANDONED_AFTER = timedelta(days=1)


def purge_abandoned_files(now=None) -> int:
    """Remove what a killed worker left behind (its `finally` never ran): unfinished exports (`exports/.*.part`)
    and the workbook writer's scratch directories, once untouched for ABANDONED_AFTER; the number removed."""
    cutoff = (now or timezone.now()) - ABANDONED_AFTER
    leftovers = [*export_directory().glob(".*.part"), *Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*")]
    removed = 0
    for path in leftovers:
        try:
            if path.stat().st_mtime >= cutoff.timestamp():
                continue
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        except FileNotFoundError:  # another purge, or the run finishing after all
            continue
        removed += 1
    if removed:
        log.warning("removed %s unfinished export file(s) left by a stopped worker", removed)
    return removed


def open_download(job: ExportJob, *, actor):
    """The file of a finished export, after checking again that the actor may have it."""
    if not visible_to(actor, ExportJob).filter(pk=job.pk).exists() or not can_export(actor, job.region):
        raise PermissionDenied("您无权下载该导出文件。")
    if job.status != ExportJob.Status.DONE or not job.file:
        raise ExportRefused("该导出文件尚未生成或已过期。")
    return job.file.open("rb")
