"""Actions on filings. Status changes go through workflow.transition; saves check the window and the version."""
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts import permissions
from config.refusals import DomainRefusal
from institutions.models import NationalCentre

from . import snapshots, workflow
from .checks import run_checks
from .models import (
    AnnualReport,
    Extension,
    Filing,
    FilingSnapshot,
    FilingStatistics,
    SocialResponsibilityReport,
    WarningExplanation,
)
from .workflow import TransitionRefused


class ExtensionRefused(DomainRefusal):
    """An extension that cannot be granted as asked (no reason, a date not after the deadline)."""


def open_filing(institution, year, *, actor) -> Filing:
    """The institution's filing for the year, created (with its parts) on the first open inside the window."""
    if not permissions.can_file(actor, institution):
        raise PermissionDenied("只有本机构的填报人可以开始填报。")
    filing = Filing.objects.filter(institution=institution, year=year).first()
    if filing is None:
        probe = Filing(institution=institution, year=year)
        refusal = workflow.filer_window_refusal(probe, timezone.now())
        if refusal:
            raise TransitionRefused(refusal)
        with transaction.atomic():
            filing, _ = Filing.objects.get_or_create(institution=institution, year=year)
            ensure_parts(filing)
    return filing


def ensure_parts(filing) -> None:
    """The parts of a new filing. Social responsibility reports are created for the centres led at this moment; a
    centre registered later still gets its part, because pages and checks read `selectors.sr_reports_in_force`."""
    FilingStatistics.objects.get_or_create(filing=filing)
    AnnualReport.objects.get_or_create(filing=filing)
    for centre in NationalCentre.objects.filter(lead_institution_id=filing.institution_id):
        SocialResponsibilityReport.objects.get_or_create(filing=filing, centre=centre)


def check_editable(filing, actor) -> None:
    """Refuse as a save would (own filer, editable state, inside the window), for work done before the save such as
    reading an offline file; the save checks again with the row locked."""
    if not permissions.can_edit_filing(actor, filing):
        raise PermissionDenied("只有本机构的填报人可以修改本填报。")
    if filing.status not in (Filing.Status.DRAFT, Filing.Status.RETURNED):
        raise TransitionRefused(f"填报当前为“{filing.get_status_display()}”，不能修改；如需修改请先撤回。")
    refusal = workflow.filer_window_refusal(filing, timezone.now())
    if refusal:
        raise TransitionRefused(refusal)


def _editable(filing, actor, expected_version) -> Filing:
    """Lock the filing for a save: own filer, editable state, inside the window, same version as the form."""
    locked = Filing.objects.select_for_update().select_related("institution__city", "year").get(pk=filing.pk)
    check_editable(locked, actor)
    if expected_version is not None and locked.version != expected_version:
        raise TransitionRefused(
            "该填报已在其他窗口或由他人保存过，您的修改未保存。请刷新页面，核对后再保存。", status=409
        )
    return locked


def _bump(locked, *also):
    locked.version += 1
    locked.save(update_fields=["version", "updated_at", *also])
    return locked


def save_part(filing, part, *, actor, expected_version, data: dict) -> Filing:
    """Save one part's cleaned form data (statistics, annual report or one SR report) in one transaction."""
    with transaction.atomic():
        locked = _editable(filing, actor, expected_version)
        if part.filing_id != locked.pk:
            raise PermissionDenied("该部分不属于本填报。")
        if isinstance(part, SocialResponsibilityReport) and not NationalCentre.objects.filter(
            pk=part.centre_id, lead_institution_id=locked.institution_id
        ).exists():
            # The register changed since the page was loaded: the centre is no longer led by this entity.
            raise TransitionRefused("该国家质检中心已不由本单位牵头，无需填报其社会责任报告；本次内容未保存。")
        for field, value in data.items():
            setattr(part, field, value)
        part.full_clean()
        part.save()
        if isinstance(part, FilingStatistics):
            locked.statistics_saved_at = timezone.now()
            return _bump(locked, "statistics_saved_at")
        return _bump(locked)


def save_explanations(filing, *, actor, expected_version, explanations: dict[str, str]) -> Filing:
    with transaction.atomic():
        locked = _editable(filing, actor, expected_version)
        for code, text in explanations.items():
            text = (text or "").strip()[:2000]
            if text:
                WarningExplanation.objects.update_or_create(filing=locked, code=code, defaults={"text": text})
            else:
                WarningExplanation.objects.filter(filing=locked, code=code).delete()
        return _bump(locked)


def submission_problems(filing) -> list[str]:
    """Why the filing cannot be submitted: errors, and warnings without an explanation."""
    findings = run_checks(filing)
    explained = set(filing.explanations.exclude(text="").values_list("code", flat=True))
    problems = [f"{f.code} {f.message}" for f in findings if f.is_error]
    problems += [
        f"{f.code} 预警需填写说明：{f.message}" for f in findings if not f.is_error and f.code not in explained
    ]
    return problems


def submit_filing(filing, *, actor, expected_version) -> Filing:
    def check_and_snapshot(locked):
        problems = submission_problems(locked)
        if problems:
            raise TransitionRefused(
                "填报尚有问题，不能提交：" + "；".join(problems[:5]) + ("……" if len(problems) > 5 else "")
            )
        number = locked.snapshots.count() + 1
        FilingSnapshot.objects.create(filing=locked, number=number, data=snapshots.snapshot_data(locked, number))

    return workflow.transition(
        filing, "submit", actor=actor, expected_version=expected_version, before_commit=check_and_snapshot
    )


def withdraw_filing(filing, *, actor, expected_version) -> Filing:
    return workflow.transition(filing, "withdraw", actor=actor, expected_version=expected_version)


def start_review(filing, *, actor) -> Filing:
    return workflow.transition(filing, "start_review", actor=actor)


def approve_filing(filing, *, actor, expected_version, comment="") -> Filing:
    return workflow.transition(filing, "approve", actor=actor, expected_version=expected_version, comment=comment)


def return_filing(filing, *, actor, expected_version, comment, due) -> Filing:
    return workflow.transition(
        filing, "return_for_correction", actor=actor, expected_version=expected_version, comment=comment, due=due
    )


def quality_return_filing(filing, *, actor, expected_version, comment, due) -> Filing:
    return workflow.transition(
        filing, "quality_return", actor=actor, expected_version=expected_version, comment=comment, due=due
    )


def grant_extension(institution, year, *, actor, until, reason) -> Extension:
    """A reviewer in whose scope the institution lies (or an admin) lets it file until `until`."""
    if not permissions.can_grant_extensions(actor):
        raise PermissionDenied("只有审核人员可以批准延期。")
    if not permissions.can_grant_extension(actor, institution):
        raise PermissionDenied("该机构不在您的管辖范围内。")
    reason = (reason or "").strip()
    if not reason:
        raise ExtensionRefused("请填写延期原因。")
    if until <= timezone.now() or until <= year.closes_at:
        raise ExtensionRefused("延期时间必须晚于当前时间和填报截止时间。")
    return Extension.objects.create(
        institution=institution, year=year, until=until, reason=reason[:500], granted_by=actor
    )
