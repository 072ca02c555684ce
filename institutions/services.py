"""Changes to the register: self-service edits, the reviewing-authority choice, register imports.

Every function here runs in one transaction and keeps `Institution.reviewing_authority` in step with the
certificates (filings.workflow reads that field to decide who reviews).
"""
import logging
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from accounts import permissions
from accounts.scoping import visible_to
from config.refusals import DomainRefusal, NotFoundRefusal
from config.uploads import visible

from . import selectors
from .authority import derive_reviewing_authority
from .models import ImportJob, Institution, ReviewingAuthority, institution_name_key

log = logging.getLogger(__name__)


def require_edit(user, institution) -> None:
    if not permissions.can_edit_institution(user, institution):
        raise PermissionDenied("只有本机构的填报人可以修改机构信息。")


def refresh_reviewing_authority(institution, *, certificates=None, actor=None, frozen=None) -> bool:
    """Set the stored authority from the certificates; an institution's own choice stands while it holds both levels.
    While a filing is submitted, in review or returned nothing changes (`frozen`, when the caller knows it; the
    workflow settles the authority again when the filing is approved or withdrawn).
    Returns True when the stored values changed (and saves them, with a history record)."""
    if frozen is None:
        frozen = selectors.authority_freeze(institution.pk) is not None
    if frozen:
        return False
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


def hold_reviewing_authority(institution) -> None:
    """Lock the institution row inside a submission, as choose_reviewing_authority and save_related do: whichever
    comes second sees the other (a choice made after the submission sees the filing submitted and is refused)."""
    Institution.objects.select_for_update().filter(pk=institution.pk).values_list("pk", flat=True).first()


@transaction.atomic
def settle_reviewing_authority(institution, *, actor) -> bool:
    """Called by the filing workflow when an approval or a withdrawal lifts the freeze: the stored authority follows
    the certificates (and a standing choice) again, so changes made while it was frozen apply now.
    The institution row is locked, so a concurrent choice or certificate edit is either before or after."""
    locked = Institution.objects.select_for_update().get(pk=institution.pk)
    changed = refresh_reviewing_authority(locked, actor=actor)
    if changed:
        institution.reviewing_authority = locked.reviewing_authority
        institution.reviewing_authority_chosen = locked.reviewing_authority_chosen
    return changed


@transaction.atomic
def choose_reviewing_authority(institution, *, actor, authority: str) -> Institution:
    """An institution holding both levels picks its reviewing authority; picking the proposal clears the choice.
    Refused from submission until the decision (the row lock orders it against a submission)."""
    require_edit(actor, institution)
    institution = Institution.objects.select_for_update().get(pk=institution.pk)
    if authority not in ReviewingAuthority.values:
        raise ValidationError("请选择省局或总局作为审核单位。")
    if (freeze := selectors.authority_freeze(institution.pk)) is not None:
        raise ValidationError(selectors.freeze_message(freeze))
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


class StaleEdit(DomainRefusal):
    """Someone saved the institution after this form was opened; the message is for the user."""

    status = 409


def version_of(institution) -> str:
    """The token a form carries so that two tabs cannot silently overwrite each other."""
    return institution.updated_at.isoformat()


def _lock(institution, version):
    """Lock the row and refuse a form that does not carry the version it was opened at (a POST without one too)."""
    current = Institution.objects.select_for_update().get(pk=institution.pk)
    if not isinstance(version, str) or not version:
        raise StaleEdit("页面缺少版本信息（可能已过期或不完整），您的修改未保存；请刷新页面后重新填写。")
    if version != version_of(current):
        when = timezone.localtime(current.updated_at)
        raise StaleEdit(f"本机构信息已于 {when:%Y-%m-%d %H:%M} 被他人修改，您的修改未保存；请刷新页面后重新填写。")
    return current


@transaction.atomic
def save_profile(form, *, actor, version: str) -> Institution:
    """Save the profile form (already valid) of an institution the actor may edit."""
    require_edit(actor, form.instance)
    _lock(form.instance, version)
    institution = form.save(commit=False)
    institution._history_user = actor
    institution.save()
    form.save_m2m()
    return institution


@transaction.atomic
def save_related(formset, *, actor, version: str) -> None:
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
        raise NotFoundRefusal("没有找到该机构，或您无权查看。")
    require_edit(user, institution)
    return institution


# --- register import ----------------------------------------------------------------------------------------------

class ImportRefused(DomainRefusal):
    """A request about an import that is not allowed now; the message is for the user."""


def start_import(*, actor, upload) -> ImportJob:
    """Store the uploaded file and check it in the background; nothing is written to the register yet."""
    from config.uploads import visible

    from .imports import import_region_for

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
    from .imports import apply_rows

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


# --- identity changes (信息变更申请) ----------------------------------------------------------------------------

class IdentityChangeRefused(DomainRefusal):
    """A change request that cannot be made or decided now; the message is for the user."""


def registered_identity(institution) -> dict:
    return {"name": institution.name, "legal_representative": institution.legal_representative,
            "credit_code": institution.credit_code, "city": institution.city.name}


def _identity_conflicts(institution, *, name, credit_code, city) -> None:
    """Refuse a credit code or name another institution is registered under, and a move to another province while a
    filing is under review (its reviewer would change)."""
    if credit_code != institution.credit_code:
        other = Institution.objects.filter(credit_code=credit_code).exclude(pk=institution.pk).only("name").first()
        if other:
            raise IdentityChangeRefused(f"统一社会信用代码 {credit_code} 已登记为“{other.name}”，不能变更为该代码。")
    if name != institution.name:
        # A look-alike (full-width brackets, spaces, zero-width characters) impersonates as well as the same name.
        key = institution_name_key(name)
        others = Institution.objects.exclude(pk=institution.pk).values_list("name", flat=True)
        if other := next((other for other in others.iterator() if institution_name_key(other) == key), None):
            raise IdentityChangeRefused(
                f"“{visible(name)}”与其他机构的登记名称“{other}”相同或仅写法不同，不能变更为该名称。"
            )
    if city.pk != institution.city_id and city.parent_id != institution.city.parent_id:
        if (freeze := selectors.authority_freeze(institution.pk)) is not None:
            raise IdentityChangeRefused(
                f"本单位{freeze.year}填报当前为“{freeze.get_status_display()}”，审核决定作出前不能迁往其他省份。"
            )


def request_identity_change(institution, *, actor, name: str, legal_representative: str, credit_code: str, city,
                            reason: str):
    """A filer of the institution proposes new identity values (the form has checked their format); nothing in the
    register changes until the reviewing authority confirms."""
    from django.db import IntegrityError

    from .models import IdentityChangeRequest, Region, validate_credit_code

    if not permissions.can_request_identity_change(actor, institution):
        raise PermissionDenied("只有本机构的填报人可以申请变更本单位信息。")
    name, legal_representative = " ".join(name.split()), " ".join(legal_representative.split())
    credit_code, reason = credit_code.strip().upper(), reason.strip()
    if not reason:
        raise IdentityChangeRefused("请填写变更原因（如营业执照变更情况）。")
    if visible(name) != name or visible(legal_representative) != legal_representative:
        raise IdentityChangeRefused("机构名称和法定代表人不能含有控制字符或不可见字符（如零宽空格）。")
    if city is None or city.level != Region.Level.CITY:
        raise IdentityChangeRefused("所在市州必须是市州一级的行政区划。")
    try:
        with transaction.atomic():
            current = Institution.objects.select_for_update().select_related("city").get(pk=institution.pk)
            if current.identity_change_requests.filter(status=IdentityChangeRequest.Status.PENDING).exists():
                raise IdentityChangeRefused("本单位已有一份待确认的信息变更申请，请等待审核部门处理，或先撤回该申请。")
            previous = registered_identity(current)
            proposed = {"name": name, "legal_representative": legal_representative, "credit_code": credit_code,
                        "city": city.name}
            if proposed == previous and city.pk == current.city_id:
                raise IdentityChangeRefused("申请的信息与当前登记信息相同，无需变更。")
            if credit_code != current.credit_code:
                try:
                    validate_credit_code(credit_code)
                except ValidationError as error:
                    raise IdentityChangeRefused(error.messages[0]) from None
            _identity_conflicts(current, name=name, credit_code=credit_code, city=city)
            return IdentityChangeRequest.objects.create(
                institution=current, name=name, legal_representative=legal_representative, credit_code=credit_code,
                city=city, previous=previous, reason=reason[:1000], requested_by=actor,
            )
    except IntegrityError:  # a second request from another tab at the same moment
        raise IdentityChangeRefused(
            "本单位已有一份待确认的信息变更申请，请等待审核部门处理，或先撤回该申请。"
        ) from None


def cancel_identity_change(change, *, actor):
    """The filer withdraws a pending request."""
    from .models import IdentityChangeRequest

    with transaction.atomic():
        locked = IdentityChangeRequest.objects.select_for_update().get(pk=change.pk)
        if not permissions.can_request_identity_change(actor, locked.institution_id):
            raise PermissionDenied("只能撤回本单位的信息变更申请。")
        if locked.status != IdentityChangeRequest.Status.PENDING:
            raise IdentityChangeRefused(f"该申请已{locked.get_status_display()}，不能撤回。")
        locked.status = IdentityChangeRequest.Status.CANCELLED
        locked.decided_by, locked.decided_at = actor, timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
    return locked


def decide_identity_change(change, *, actor, confirm: bool, comment: str = ""):
    """Confirm (the values are written to the register, with history) or refuse (a comment is required)."""
    from .models import IdentityChangeRequest

    comment = (comment or "").strip()[:1000]
    with transaction.atomic():
        locked = IdentityChangeRequest.objects.select_for_update().select_related("city").get(pk=change.pk)
        institution = Institution.objects.select_for_update().select_related("city").get(pk=locked.institution_id)
        if not (visible_to(actor, Institution).filter(pk=institution.pk).exists()
                and permissions.can_decide_identity_change(actor, institution)):
            raise PermissionDenied("该机构的信息变更由其审核单位确认，您无权处理。")
        if locked.status != IdentityChangeRequest.Status.PENDING:
            raise IdentityChangeRefused(f"该申请已{locked.get_status_display()}，不能再处理。")
        if not confirm:
            if not comment:
                raise IdentityChangeRefused("不予确认时请填写意见，说明原因。")
            locked.status = IdentityChangeRequest.Status.REFUSED
        else:
            _identity_conflicts(institution, name=locked.name, credit_code=locked.credit_code, city=locked.city)
            reason = f"信息变更申请确认（{_who(locked.requested_by)}申请，{_who(actor)}确认）"
            if locked.credit_code != institution.credit_code:
                # An accepted bad check character belonged to the old code.
                institution.credit_code_override_reason, institution.credit_code_override_by = "", None
            if locked.city_id != institution.city_id and institution.division_code[:4] != locked.city.code[:4]:
                institution.division_code = ""
            institution.name, institution.legal_representative = locked.name, locked.legal_representative
            institution.credit_code, institution.city = locked.credit_code, locked.city
            try:
                institution.validate_unique()
            except ValidationError as error:
                raise IdentityChangeRefused(error.messages[0]) from None
            institution._history_user, institution._change_reason = actor, reason
            institution.save()
            locked.status = IdentityChangeRequest.Status.CONFIRMED
        locked.decided_by, locked.decided_at, locked.decision_comment = actor, timezone.now(), comment
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
    return locked


def _who(user):
    return user.get_full_name() or user.username
