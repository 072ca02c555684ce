"""Reads of filings, always through the scoping helper."""
import datetime
from dataclasses import dataclass

from django.utils import timezone

from accounts.scoping import visible_to
from institutions.models import NationalCentre, ReviewingAuthority
from institutions.selectors import authority_names_at

from .models import Extension, ExtensionRequest, Filing, FilingStatistics, ReportingYear, SocialResponsibilityReport

# While the filer may still change the filing its parts follow the register; once handed in, the submission counts.
FOLLOWS_REGISTER = (Filing.Status.DRAFT, Filing.Status.RETURNED)
# The transitions by which a reviewer sends a filing back for correction (with field comments).
RETURNING_ACTIONS = ("return_for_correction", "quality_return")


def filings_visible_to(user):
    return visible_to(user, Filing).select_related("institution__city", "year")


def filing_for(user, pk):
    """The filing with this id if the user may see it (else Filing.DoesNotExist)."""
    return filings_visible_to(user).get(pk=pk)


def current_year(now=None):
    return ReportingYear.objects.current(now)


def latest_extension(institution_id, year_id):
    return Extension.objects.filter(institution_id=institution_id, year_id=year_id).order_by("-until").first()


@dataclass(frozen=True)
class Deadline:
    """The one deadline that applies to a filing: when, and what set it (the window, an extension, a return)."""

    WINDOW = "window"
    EXTENSION = "extension"
    CORRECTION = "correction"
    LABELS = {WINDOW: "填报截止", EXTENSION: "延期至", CORRECTION: "更正截止"}

    at: datetime.datetime
    kind: str

    @property
    def label(self) -> str:
        return self.LABELS[self.kind]


def deadline_of(year, *, extension_until=None, correction_due=None) -> Deadline:
    """The latest of the window's close, the institution's latest extension and the filing's correction due date:
    until then the filer may change, submit and withdraw (a tie names the more particular date)."""
    candidates = [Deadline(year.closes_at, Deadline.WINDOW)]
    if extension_until:
        candidates.append(Deadline(extension_until, Deadline.EXTENSION))
    if correction_due:  # set when a reviewer returned it: corrections (and their withdrawal) until then
        candidates.append(Deadline(correction_due, Deadline.CORRECTION))
    return max(reversed(candidates), key=lambda deadline: deadline.at)


def editing_deadline(filing) -> Deadline:
    """The deadline the workflow enforces for this filing, whatever its state (filings.workflow)."""
    extension = latest_extension(filing.institution_id, filing.year_id)
    return deadline_of(filing.year, extension_until=extension and extension.until,
                       correction_due=filing.correction_due)


def filing_deadline(filing) -> Deadline | None:
    """The deadline every page, e-mail and PDF states for this filing, said once: the window's close, an extension or
    the correction due date, whichever applies now (editing_deadline); none once the filing is approved."""
    if filing.status == Filing.Status.APPROVED:
        return None
    return editing_deadline(filing)


def previous_approved_statistics(filing):
    """Last year's approved statistics of the same institution, for the year-on-year warnings."""
    return (
        FilingStatistics.objects.filter(
            filing__institution_id=filing.institution_id,
            filing__year__year=filing.year.year - 1,
            filing__status=Filing.Status.APPROVED,
        )
        .first()
    )


def days_left(filing_or_year, now=None) -> int | None:
    """Whole days until the filer's deadline (negative once past); None before the window opens."""
    now = now or timezone.now()
    deadline = editing_deadline(filing_or_year).at if isinstance(filing_or_year, Filing) else filing_or_year.closes_at
    return (timezone.localtime(deadline).date() - timezone.localtime(now).date()).days


def sr_reports_no_longer_required(filing):
    """Parts kept for centres the entity no longer leads (while the filing follows the register): shown, not asked."""
    if filing.status not in FOLLOWS_REGISTER:
        return SocialResponsibilityReport.objects.none()
    return (SocialResponsibilityReport.objects.filter(filing=filing)
            .exclude(centre__lead_institution_id=filing.institution_id).select_related("centre").order_by("centre__name"))


def sr_reports_in_force(filing) -> list[tuple]:
    """The (centre, report) pairs this filing must carry, by centre name; report is None where no part was saved yet.

    While the filing is a draft or returned, they are the national centres its entity leads now in the register: a
    centre registered (or handed to this entity) after the filing was opened appears, and the part of a centre the
    entity no longer leads is kept in the database but no longer required. Once handed in, the centres of the latest
    submission's snapshot count, whatever the register says since."""
    if filing.status in FOLLOWS_REGISTER:
        centres = NationalCentre.objects.filter(lead_institution_id=filing.institution_id)
    else:
        snapshot = filing.snapshots.only("data").first()
        if snapshot is None:
            centres = NationalCentre.objects.filter(lead_institution_id=filing.institution_id)
        else:
            centre_ids = [r["centre_id"] for r in snapshot.data.get("sr_reports", [])]
            centres = NationalCentre.objects.filter(pk__in=centre_ids)
    centres = list(centres.order_by("name"))
    reports = {
        report.centre_id: report
        for report in SocialResponsibilityReport.objects.filter(
            filing=filing, centre__in=centres
        ).select_related("centre")
    }
    return [(centre, reports.get(centre.pk)) for centre in centres]


def timeline(filing):
    """Every transition with its comment and the field comments attached to it, and every step of the filing's
    extension requests (ExtensionEvent), oldest first."""
    transitions = list(filing.transitions.select_related("actor").order_by("at", "pk"))
    comments = {}
    for comment in filing.field_comments.order_by("pk"):
        comments.setdefault(comment.transition_id, []).append(comment)
    for transition in transitions:
        transition.field_comment_list = comments.get(transition.pk, [])
    for transition, name in zip(transitions, decision_authority_names(filing, transitions), strict=True):
        transition.authority_name = name
    return sorted(transitions + extension_events(filing), key=lambda entry: entry.at)


# The reviewer's steps, made in the name of the institution's reviewing authority; SAMR's quality review in its own.
REVIEWING_ACTIONS = ("start_review", "approve", "return_for_correction")


def decision_authority_names(filing, transitions) -> list[str]:
    """For each transition, the authority it was made in the name of, as named then ("" for the filer's steps): a
    review group renamed or an institution reassigned since leaves earlier decisions with their names (ADR 0029)."""
    names = authority_names_at(filing.institution, [t.at for t in transitions if t.action in REVIEWING_ACTIONS])
    return [names[t.at] if t.action in REVIEWING_ACTIONS
            else ReviewingAuthority.SAMR.label if t.action == "quality_return" else "" for t in transitions]


@dataclass(frozen=True)
class ExtensionEvent:
    """One step of an extension request on the timeline: asked, commented, granted, refused or withdrawn."""

    at: datetime.datetime
    actor: object
    text: str
    comment: str = ""
    extension_event: bool = True


def _local(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def extension_events(filing) -> list[ExtensionEvent]:
    events = []
    requests = filing.extension_requests.select_related("requested_by", "officer_comment_by", "decided_by")
    for request in requests:
        events.append(ExtensionEvent(request.requested_at, request.requested_by,
                                     f"申请延期至 {_local(request.requested_until)}", f"延期原因：{request.reason}"))
        if request.officer_comment_at:
            events.append(ExtensionEvent(request.officer_comment_at, request.officer_comment_by, "市州局意见",
                                         request.officer_comment))
        if request.decided_at:
            granted = request.granted_until or request.decided_at
            text = {ExtensionRequest.Status.GRANTED: f"批准延期至 {_local(granted)}",
                    ExtensionRequest.Status.REFUSED: "拒绝延期申请",
                    ExtensionRequest.Status.WITHDRAWN: "撤回延期申请"}[request.status]
            comment = f"审核意见：{request.decision_comment}" if request.decision_comment else ""
            events.append(ExtensionEvent(request.decided_at, request.decided_by, text, comment))
    return events


def latest_extension_request(filing):
    """The filing's most recent extension request (its state is shown on the filing's overview), or None."""
    return filing.extension_requests.select_related("decided_by").first()


def pending_extension_requests(user):
    """The pending extension requests in the user's area, oldest first (city officers comment, reviewers decide)."""
    return (visible_to(user, ExtensionRequest).filter(status=ExtensionRequest.Status.PENDING)
            .select_related("filing__institution__city", "filing__year", "requested_by", "officer_comment_by")
            .order_by("requested_at", "pk"))


def extension_request_for(user, pk):
    """The extension request with this id if the user may see it (else ExtensionRequest.DoesNotExist)."""
    return visible_to(user, ExtensionRequest).select_related("filing__institution__city", "filing__year").get(pk=pk)


def open_review_comments(filing):
    """While a filing is returned: the return (its general comment and due date) and its field comments keyed by
    field, for showing to the filer beside the fields. Otherwise (None, {})."""
    if filing.status != Filing.Status.RETURNED:
        return None, {}
    last_return = filing.transitions.filter(action__in=RETURNING_ACTIONS).order_by("-at", "-pk").first()
    if last_return is None:
        return None, {}
    by_field = {}
    for comment in last_return.field_comments.order_by("pk"):
        by_field.setdefault(comment.field, []).append(comment)
    return last_return, by_field
