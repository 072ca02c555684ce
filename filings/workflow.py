"""The filing state machine: one table of named transitions, read by `transition()`, the only code that changes a
filing's status. Each transition checks the actor and the time window, runs in one transaction with the filing row
locked, refuses a stale version, bumps the version, and writes one FilingTransition row."""
import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.permissions import can_decide, can_edit_filing, can_quality_return, can_start_review
from config.refusals import DomainRefusal
from institutions.services import hold_reviewing_authority, settle_reviewing_authority

from . import selectors
from .models import Filing, FilingTransition

S = Filing.Status


class TransitionRefused(DomainRefusal):
    """A transition (or a save) that is not allowed now, for this actor, on this filing; the message is for the user."""


def editing_deadline(filing, now=None):
    """Until when the filer may change and submit: the window, a later extension, or a returned filing's due date
    (selectors.editing_deadline, the same date every page states)."""
    return selectors.editing_deadline(filing).at


def filer_window_refusal(filing, now) -> str | None:
    if now < filing.year.opens_at:
        return f"{filing.year}填报尚未开始（{timezone.localtime(filing.year.opens_at):%Y年%m月%d日 %H:%M}开放）。"
    deadline = editing_deadline(filing, now)
    if now > deadline:
        return (
            f"填报已于{timezone.localtime(deadline):%Y年%m月%d日 %H:%M}截止，"
            "不能再录入、修改或提交；如需延期请联系审核部门。"
        )
    return None


# A filing the filer could still submit after the window (an extension, a correction due date) keeps this long for
# its review beyond that date, even when the year's review has closed (ADR 0013).
LATE_REVIEW_PERIOD = datetime.timedelta(days=30)


def decision_deadline(filing):
    """Until when reviewers may decide: the year's review close, or, for a filing whose filer deadline lies after
    the window, that deadline plus LATE_REVIEW_PERIOD when this is later."""
    deadline = filing.year.review_closes_at
    filer_deadline = editing_deadline(filing)
    if filer_deadline > filing.year.closes_at:
        deadline = max(deadline, filer_deadline + LATE_REVIEW_PERIOD)
    return deadline


def review_window_refusal(filing, now) -> str | None:
    deadline = decision_deadline(filing)
    if now > deadline:
        return f"本填报（{filing.year}）的审核已于{timezone.localtime(deadline):%Y年%m月%d日 %H:%M}截止。"
    return None


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: tuple
    target: str
    may: Callable  # who may: an accounts.permissions predicate, may(actor, filing) -> bool
    window: Callable  # window(filing, now) -> refusal message or None
    needs_comment: bool = False
    needs_due: bool = False


TRANSITIONS = {
    t.name: t
    for t in [
        Transition("submit", "提交", (S.DRAFT, S.RETURNED), S.SUBMITTED, can_edit_filing, filer_window_refusal),
        Transition("withdraw", "撤回", (S.SUBMITTED,), S.DRAFT, can_edit_filing, filer_window_refusal),
        Transition("start_review", "开始审核", (S.SUBMITTED,), S.IN_REVIEW, can_start_review, review_window_refusal),
        Transition("approve", "审核通过", (S.IN_REVIEW,), S.APPROVED, can_decide, review_window_refusal),
        Transition(
            "return_for_correction", "退回更正", (S.IN_REVIEW,), S.RETURNED, can_decide,
            review_window_refusal, needs_comment=True, needs_due=True,
        ),
        Transition(
            "quality_return", "质量审查退回", (S.APPROVED,), S.RETURNED, can_quality_return, review_window_refusal,
            needs_comment=True, needs_due=True,
        ),
    ]
}


def allowed_transitions(filing, actor, now=None) -> list[Transition]:
    """The transitions the actor could make now (for buttons; `transition` checks again)."""
    now = now or timezone.now()
    return [
        t for t in TRANSITIONS.values()
        if filing.status in t.sources and t.may(actor, filing) and t.window(filing, now) is None
    ]


def transition(filing, name: str, *, actor, expected_version: int | None = None, comment: str = "", due=None,
               before_commit: Callable | None = None) -> Filing:
    """Make the named transition or raise TransitionRefused. `before_commit(filing)` runs inside the transaction
    after the checks (submit uses it to store the snapshot)."""
    spec = TRANSITIONS.get(name)
    if spec is None:
        raise TransitionRefused("未知的操作。")
    now = timezone.now()
    with transaction.atomic():
        locked = Filing.objects.select_for_update().select_related("institution__city", "year").get(pk=filing.pk)
        if expected_version is not None and locked.version != expected_version:
            raise TransitionRefused("该填报已被他人或其他窗口更新，请刷新页面后再操作。", status=409)
        if not spec.may(actor, locked):
            raise TransitionRefused(f"您无权对该填报执行“{spec.label}”。", status=403)
        if locked.status not in spec.sources:
            raise TransitionRefused(f"填报当前为“{locked.get_status_display()}”，不能{spec.label}。")
        refusal = spec.window(locked, now)
        if refusal:
            raise TransitionRefused(refusal)
        comment = (comment or "").strip()
        if spec.needs_comment and not comment:
            raise TransitionRefused(f"{spec.label}必须填写意见。")
        if spec.needs_due and (due is None or due <= now):
            raise TransitionRefused("请设定晚于当前时间的更正截止时间。")
        if spec.target == S.SUBMITTED:
            # Submission freezes the reviewing authority: hold the institution row so that a concurrent authority
            # choice or certificate edit is ordered before this submission or sees it (institutions.services).
            hold_reviewing_authority(locked.institution)
        if before_commit:
            before_commit(locked)
        from_status = locked.status
        locked.status = spec.target
        locked.version += 1
        if spec.target == S.SUBMITTED:
            locked.submitted_at = now
        if spec.target in (S.APPROVED, S.RETURNED):
            locked.decided_at = now
        if spec.needs_due:
            locked.correction_due = due
        locked.save(update_fields=["status", "version", "submitted_at", "decided_at", "correction_due", "updated_at"])
        FilingTransition.objects.create(
            filing=locked, action=name, from_status=from_status, to_status=spec.target, actor=actor, at=now,
            comment=comment, due=due if spec.needs_due else None,
        )
        if spec.target in (S.DRAFT, S.APPROVED):
            # The decision (or a withdrawal) lifts the freeze: certificate changes made meanwhile apply now.
            settle_reviewing_authority(locked.institution, actor=actor)
    return locked
