"""Changes to the register: self-service edits, the reviewing-authority choice, register imports.

Every function here runs in one transaction and keeps `Institution.reviewing_authority` in step with the
certificates (filings.workflow reads that field to decide who reviews).
"""
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from accounts.models import Role
from accounts.scoping import visible_to

from .authority import derive_reviewing_authority
from .models import ImportJob, Institution, ReviewingAuthority

log = logging.getLogger(__name__)


def can_edit(user, institution) -> bool:
    """Filers keep their own entity; the admin may correct any (also through the admin site)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.FILER and user.institution_id == institution.pk


def require_edit(user, institution) -> None:
    if not can_edit(user, institution):
        raise PermissionDenied("只有本机构的填报人可以修改机构信息。")


def refresh_reviewing_authority(institution, *, certificates=None, actor=None) -> bool:
    """Set the stored authority from the certificates; an institution's own choice stands while it holds both levels.
    Returns True when the stored values changed (and saves them, with a history record)."""
    derivation = derive_reviewing_authority(institution, certificates)
    keep_choice = institution.reviewing_authority_chosen and derivation.holds_both_levels
    authority = institution.reviewing_authority if keep_choice else derivation.authority
    chosen = keep_choice
    if authority == institution.reviewing_authority and chosen == institution.reviewing_authority_chosen:
        return False
    institution.reviewing_authority, institution.reviewing_authority_chosen = authority, chosen
    if not chosen:
        institution.reviewing_authority_chosen_by, institution.reviewing_authority_chosen_at = None, None
    if actor is not None:
        institution._history_user = actor
    institution.save(update_fields=[
        "reviewing_authority", "reviewing_authority_chosen", "reviewing_authority_chosen_by",
        "reviewing_authority_chosen_at", "updated_at",
    ])
    return True


@transaction.atomic
def choose_reviewing_authority(institution, *, actor, authority: str) -> Institution:
    """An institution holding both levels picks its reviewing authority; picking the proposal clears the choice."""
    require_edit(actor, institution)
    institution = Institution.objects.select_for_update().get(pk=institution.pk)
    if authority not in ReviewingAuthority.values:
        raise ValidationError("请选择省局或总局作为审核单位。")
    derivation = derive_reviewing_authority(institution)
    if not derivation.holds_both_levels:
        raise ValidationError("只有同时持有国家级和省级有效资质认定证书的机构可以自选审核单位。")
    chosen = authority != derivation.authority
    institution.reviewing_authority = authority
    institution.reviewing_authority_chosen = chosen
    institution.reviewing_authority_chosen_by = actor if chosen else None
    institution.reviewing_authority_chosen_at = timezone.now() if chosen else None
    institution._history_user = actor
    institution._change_reason = "机构自选审核单位" if chosen else "恢复系统建议的审核单位"
    institution.save()
    return institution


class StaleEdit(Exception):
    """Someone saved the institution after this form was opened; the message is for the user."""


def version_of(institution) -> str:
    """The token a form carries so that two tabs cannot silently overwrite each other."""
    return institution.updated_at.isoformat()


def _lock(institution, version):
    current = Institution.objects.select_for_update().get(pk=institution.pk)
    if version is not None and version != version_of(current):
        when = timezone.localtime(current.updated_at)
        raise StaleEdit(f"本机构信息已于 {when:%Y-%m-%d %H:%M} 被他人修改，您的修改未保存；请刷新页面后重新填写。")
    return current


@transaction.atomic
def save_profile(form, *, actor, version=None) -> Institution:
    """Save the profile form (already valid) of an institution the actor may edit."""
    require_edit(actor, form.instance)
    _lock(form.instance, version)
    institution = form.save(commit=False)
    institution._history_user = actor
    institution.save()
    form.save_m2m()
    return institution


@transaction.atomic
def save_related(formset, *, actor, version=None) -> None:
    """Save a valid inline formset (sites, certificates, other qualifications), then re-derive the authority."""
    institution = formset.instance
    require_edit(actor, institution)
    _lock(institution, version)
    # A new version for every change to the entity, without a history row of its own.
    Institution.objects.filter(pk=institution.pk).update(updated_at=timezone.now())
    for obj in formset.save(commit=False):
        obj._history_user = actor
        obj.save()
    for obj in formset.deleted_objects:
        obj._history_user = actor
        obj.delete()
    refresh_reviewing_authority(Institution.objects.get(pk=institution.pk), actor=actor)


def institution_for_editing(user, pk) -> Institution:
    """The institution, if the user may see it; PermissionDenied if they may see but not edit it."""
    institution = visible_to(user, Institution).filter(pk=pk).first()
    if institution is None:
        raise Http404("没有找到该机构，或您无权查看。")
    require_edit(user, institution)
    return institution


# --- register import ----------------------------------------------------------------------------------------------

class ImportRefused(Exception):
    """A request about an import that is not allowed now; the message is for the user."""


def start_import(*, actor, upload) -> ImportJob:
    """Store the uploaded file and check it in the background; nothing is written to the register yet."""
    from .imports import import_region_for

    region = import_region_for(actor)
    if region is None:
        raise PermissionDenied("只有系统管理员和省局审核人员可以导入机构名录。")
    with transaction.atomic():
        job = ImportJob(created_by=actor, region=region, original_name=upload.name[:200], stage="等待校验")
        job.file.save(f"{timezone.now():%Y%m%d%H%M%S}-{actor.pk}{_extension(upload.name)}", upload, save=False)
        job.save()
        transaction.on_commit(lambda: _send("validate", job.pk))
    return job


def _extension(name):
    return ".xlsx" if name.lower().endswith(".xlsx") else ".csv"


def _send(step, job_id):
    from . import tasks

    (tasks.validate_import if step == "validate" else tasks.run_import).delay(job_id)


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


def _progress_reporter(job_id, low, high):
    import time


    last = [0.0]

    def report(fraction, stage):
        if time.monotonic() - last[0] < 0.5:
            return
        last[0] = time.monotonic()
        percent = max(1, min(high, int(low + fraction * (high - low))))
        ImportJob.objects.filter(pk=job_id).update(progress=percent, stage=stage[:100], heartbeat_at=timezone.now())

    return report


def _check(job, progress):
    from .imports import check_file

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
    from .imports import can_import

    job = ImportJob.objects.select_related("created_by", "region").get(pk=job_id)
    if job.status not in (ImportJob.Status.PENDING, ImportJob.Status.VALIDATING):
        return
    if not can_import(job.created_by):
        mark_import_failed(job_id, "发起人已无权导入机构名录。")
        return
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.VALIDATING, progress=1, stage="正在读取文件", heartbeat_at=timezone.now()
    )
    outcome = _check(job, _progress_reporter(job_id, 1, 95))
    _store_outcome(job_id, outcome, ImportJob.Status.INVALID if outcome.errors else ImportJob.Status.READY)


def run_import(job_id: int) -> None:
    """Check the file again (the register may have changed since the preview) and write it in one transaction."""
    from .imports import apply_rows, can_import

    job = ImportJob.objects.select_related("created_by", "region").get(pk=job_id)
    if job.status != ImportJob.Status.IMPORTING:
        return
    if not can_import(job.created_by):
        mark_import_failed(job_id, "发起人已无权导入机构名录。")
        return
    outcome = _check(job, _progress_reporter(job_id, 1, 30))
    if outcome.errors:
        _store_outcome(job_id, outcome, ImportJob.Status.INVALID)
        return
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job_id)
        if locked.status != ImportJob.Status.IMPORTING:
            return
        counts = apply_rows(outcome.rows, actor=job.created_by, progress=_progress_reporter(job_id, 30, 99))
        finished = timezone.now()
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.DONE, progress=100, stage="已完成", summary={**outcome.summary, **counts},
            finished_at=finished, heartbeat_at=finished,
        )
    log.info("register import %s done: %s", job_id, counts)


def mark_import_failed(job_id: int, message: str) -> None:

    ImportJob.objects.filter(pk=job_id).exclude(status=ImportJob.Status.DONE).update(
        status=ImportJob.Status.FAILED, error=message[:2000], stage="失败", finished_at=timezone.now()
    )


IMPORT_FILE_RETENTION = timezone.timedelta(days=30)


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
            status=ImportJob.Status.FAILED, error="文件已超过30天保留期限，未导入；如仍需导入请重新上传。", stage="失败",
        )
        count += 1
    return count
