"""The register import (导入名录): a file is stored and checked in the background (`imports.check_file`), shown for
confirmation, then written all-or-nothing (`apply_rows`) in one transaction; failed or stale jobs may be retried.

The Celery tasks of tasks.py (`institutions.validate_import`, `institutions.run_import` and
`institutions.purge_old_import_files`) call `run_validation`, `run_import` and `purge_old_import_files`.
"""
import logging
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import OperationalError, transaction
from django.db.models import F, Model
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts import permissions
from config.jobs import send_task
from config.refusals import DomainRefusal
from config.uploads import visible

from .authority import derive_reviewing_authority
from .imports import CheckedRow, check_file
from .models import CmaCertificate, ImportJob, Institution, Site
from .selectors import frozen_institution_ids, import_region_for
from .services import refresh_reviewing_authority

log = logging.getLogger(__name__)


class ImportRefused(DomainRefusal):
    """A request about an import that is not allowed now; the message is for the user."""


def start_import(*, actor, upload) -> ImportJob:
    """Store the uploaded file and check it in the background; nothing is written to the register yet."""
    region = import_region_for(actor)
    if region is None:
        raise PermissionDenied("只有系统管理员和省局审核人员可以导入机构名录。")
    with transaction.atomic():
        job = ImportJob(created_by=actor, region=region, original_name=visible(upload.name)[:200], stage="等待校验")
        job.file.save(f"{timezone.now():%Y%m%d%H%M%S}-{actor.pk}{_extension(upload.name)}", upload, save=False)
        job.save()
        transaction.on_commit(lambda: _send("validate", job.pk))
    return job


def _extension(name):
    return ".xlsx" if name.lower().endswith(".xlsx") else ".csv"


def _send(step, job_id):
    from . import tasks  # tasks.py imports this module

    send_task(tasks.validate_import if step == "validate" else tasks.run_import, job_id)


def confirm_import(job, *, actor):
    """Write a checked file to the register (in the background)."""
    if job.created_by_id != actor.pk:
        raise PermissionDenied("只能确认自己上传的导入。")
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportJob.Status.READY:
            raise ImportRefused("只有校验通过、尚未导入的文件可以确认导入。")
        job.status, job.progress, job.stage = ImportJob.Status.IMPORTING, 0, "等待导入"
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["status", "progress", "stage", "heartbeat_at"])
        transaction.on_commit(lambda: _send("import", job.pk))
    return job


def retry_import(job, *, actor):
    """Check a failed or stale (lost in the queue, or its worker died) import's file again from the start; the owner
    then confirms it again. Safe beside a late first run: writing takes the job's lock and needs it 正在导入."""
    if job.created_by_id != actor.pk:
        raise PermissionDenied("只能重试自己上传的导入。")
    with transaction.atomic():
        try:
            # Writing holds this lock, and its progress is not visible until it commits: it may look stale.
            job = ImportJob.objects.select_for_update(nowait=True).get(pk=job.pk)
        except OperationalError:
            raise ImportRefused("该导入正在写入名录，请稍后刷新查看结果。") from None
        if not job.can_retry:
            raise ImportRefused("只有失败或已中断的导入可以重试。")
        if not job.file or not job.file.storage.exists(job.file.name):
            raise ImportRefused("上传的文件已不存在（超过保留期限），请重新上传。")
        job.status, job.progress, job.stage, job.error = ImportJob.Status.PENDING, 0, "等待重新校验", ""
        job.errors, job.error_count, job.finished_at = [], 0, None
        job.heartbeat_at = timezone.now()  # queued again now: not stale again at once
        job.save(update_fields=["status", "progress", "stage", "error", "errors", "error_count", "finished_at",
                                "heartbeat_at"])
        transaction.on_commit(lambda: _send("validate", job.pk))
    return job


def _check(job, progress):
    with job.file.open("rb") as handle:
        return check_file(handle, job.original_name, actor=job.created_by, region=job.region, progress=progress)


def _store_outcome(job_id, outcome, status):
    ImportJob.objects.filter(pk=job_id).update(
        status=status, progress=100, total_rows=outcome.total_rows, error_count=len(outcome.errors),
        errors=outcome.errors[:500], summary=outcome.summary, heartbeat_at=timezone.now(),
        stage="校验未通过" if outcome.errors else "校验通过，待确认导入", finished_at=timezone.now(),
    )


def run_validation(job_id: int) -> None:
    """Check every row and keep the errors for the preview. Safe to run again."""
    job = ImportJob.objects.select_related("created_by", "region").get(pk=job_id)
    if job.status not in (ImportJob.Status.PENDING, ImportJob.Status.VALIDATING):
        return
    if not permissions.can_import_register(job.created_by):
        mark_import_failed(job_id, "发起人已无权导入机构名录。")
        return
    now = timezone.now()
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.VALIDATING, progress=1, stage="正在读取文件", started_at=now, heartbeat_at=now,
        attempts=F("attempts") + 1,
    )
    outcome = _check(job, ImportJob.progress_reporter(job_id, 1, 95))
    _store_outcome(job_id, outcome, ImportJob.Status.INVALID if outcome.errors else ImportJob.Status.READY)


def run_import(job_id: int) -> None:
    """Check the file again (the register may have changed since the preview) and write it in one transaction."""
    job = ImportJob.objects.select_related("created_by", "region").get(pk=job_id)
    if job.status != ImportJob.Status.IMPORTING:
        return
    if not permissions.can_import_register(job.created_by):
        mark_import_failed(job_id, "发起人已无权导入机构名录。")
        return
    outcome = _check(job, ImportJob.progress_reporter(job_id, 1, 30))
    if outcome.errors:
        _store_outcome(job_id, outcome, ImportJob.Status.INVALID)
        return
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job_id)
        if locked.status != ImportJob.Status.IMPORTING:
            return
        counts = apply_rows(outcome.rows, actor=job.created_by, progress=ImportJob.progress_reporter(job_id, 30, 99))
        finished = timezone.now()
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.DONE, progress=100, stage="已完成", summary={**outcome.summary, **counts},
            finished_at=finished, heartbeat_at=finished,
        )
    log.info("register import %s done: %s", job_id, counts)


def mark_import_failed(job_id: int, message: str) -> None:
    ImportJob.mark_failed(job_id, message)


IMPORT_FILE_RETENTION = timedelta(days=30)


def purge_old_import_files(now=None) -> int:
    """Delete uploaded register files of imports that ended more than 30 days ago (the job rows stay as a record)."""
    now = now or timezone.now()
    ended = ImportJob.objects.exclude(file="").exclude(
        status__in=[ImportJob.Status.PENDING, ImportJob.Status.VALIDATING, ImportJob.Status.IMPORTING]
    ).filter(created_at__lte=now - IMPORT_FILE_RETENTION)
    count = 0
    for job in ended.only("pk", "file"):
        job.file.storage.delete(job.file.name)
        ImportJob.objects.filter(pk=job.pk).update(file="")
        # A checked file never confirmed can no longer be imported.
        ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.READY).update(
            status=ImportJob.Status.FAILED, error="文件已超过30天保留期限，未导入；如仍需导入请重新上传。",
            stage="失败",
        )
        count += 1
    return count


# --- writing ------------------------------------------------------------------------------------------------------

def apply_rows(rows: list[CheckedRow], *, actor, progress=lambda fraction, stage: None) -> dict:
    """Write checked rows (the caller holds the transaction). Returns the counts of what changed."""
    counts = {"institutions_created": 0, "institutions_updated": 0, "certificates_created": 0,
              "certificates_updated": 0, "sites_created": 0}
    by_code: dict[str, list[CheckedRow]] = {}
    for row in rows:
        by_code.setdefault(row.credit_code, []).append(row)
    existing = {}
    codes = list(by_code)
    for start in range(0, len(codes), 2000):
        existing.update(Institution.objects.in_bulk(codes[start:start + 2000], field_name="credit_code"))

    new_institutions = []
    for index, (code, group) in enumerate(by_code.items()):
        first = group[0]
        values = {key: value for key, value in first.institution.items() if value not in ("", None)}
        values["city"] = first.city
        inst = existing.get(code)
        if inst is None:
            certificates = [CmaCertificate(**row.certificate) for row in group if row.certificate]
            derivation = derive_reviewing_authority(None, certificates)
            new_institutions.append(Institution(credit_code=code, reviewing_authority=derivation.authority, **values))
        else:
            changed = [key for key, value in values.items() if _differs(inst, key, value)]
            if changed:
                for key in changed:
                    setattr(inst, key, values[key])
                inst._history_user = actor
                inst._change_reason = "名录导入"
                inst.save()
                counts["institutions_updated"] += 1
        if index % 500 == 0:
            progress(index / len(by_code) * 0.4, "正在写入机构")
    if new_institutions:
        bulk_create_with_history(new_institutions, Institution, batch_size=1000, default_user=actor,
                                 default_change_reason="名录导入")
        counts["institutions_created"] = len(new_institutions)
        existing.update(
            Institution.objects.in_bulk([i.credit_code for i in new_institutions], field_name="credit_code")
        )

    progress(0.45, "正在写入证书和场所")
    numbers = [row.certificate["number"] for row in rows if row.certificate]
    stored = {}
    for start in range(0, len(numbers), 2000):
        stored.update(CmaCertificate.objects.in_bulk(numbers[start:start + 2000], field_name="number"))
    institution_ids = [existing[code].pk for code in by_code]
    addresses = set()
    for start in range(0, len(institution_ids), 2000):
        addresses.update(Site.objects.filter(institution_id__in=institution_ids[start:start + 2000]).values_list(
            "institution_id", "address"))
    new_certificates, new_sites, touched = [], [], set()
    for index, row in enumerate(rows):
        inst = existing[row.credit_code]
        if row.site_address and (inst.pk, row.site_address) not in addresses:
            addresses.add((inst.pk, row.site_address))
            new_sites.append(Site(institution=inst, address=row.site_address))
        if row.certificate:
            certificate = stored.get(row.certificate["number"])
            if certificate is None:
                new_certificates.append(CmaCertificate(institution=inst, **row.certificate))
            else:
                changed = [key for key, value in row.certificate.items() if _differs(certificate, key, value)]
                if changed:
                    for key in changed:
                        setattr(certificate, key, row.certificate[key])
                    certificate._history_user = actor
                    certificate._change_reason = "名录导入"
                    certificate.save()
                    counts["certificates_updated"] += 1
                    touched.add(inst.pk)
        if index % 1000 == 0:
            progress(0.45 + index / len(rows) * 0.35, "正在写入证书和场所")
    for model, objects, key in (
        (CmaCertificate, new_certificates, "certificates_created"), (Site, new_sites, "sites_created"),
    ):
        if objects:
            bulk_create_with_history(
                objects, model, batch_size=1000, default_user=actor, default_change_reason="名录导入"
            )
            counts[key] = len(objects)
    new_pks = {inst.pk for inst in new_institutions}
    touched |= {c.institution.pk for c in new_certificates if c.institution.pk not in new_pks}

    progress(0.85, "正在更新审核单位")
    frozen = frozen_institution_ids(touched)
    for inst in Institution.objects.filter(pk__in=touched).prefetch_related("cma_certificates"):
        refresh_reviewing_authority(inst, certificates=list(inst.cma_certificates.all()), actor=actor,
                                    frozen=inst.pk in frozen)
    return counts


def _differs(obj, key, value) -> bool:
    """Compare without loading related rows (a foreign key is compared by its id)."""
    if isinstance(value, Model):
        return getattr(obj, f"{key}_id") != value.pk
    return getattr(obj, key) != value
