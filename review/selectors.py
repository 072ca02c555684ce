"""Reads for reviewers and city officers, every one starting from the scoping helper."""
from dataclasses import dataclass

from django.db.models import Exists, F, FilteredRelation, Max, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from accounts import permissions
from accounts.permissions import authority_q
from accounts.scoping import visible_to
from filings import peers
from filings.models import Extension, Filing, FilingSnapshot, ReportingYear
from filings.progress import (
    PROGRESS_STATES,
    filing_progress_by_city,
    not_handed_in_q,
    progress_by_province,
    progress_totals,
)
from filings.selectors import (
    RETURNING_ACTIONS,
    current_year,
    days_left,
    deadline_of,
    filing_deadline,
    pending_extension_requests,
    timeline,
)
from institutions.models import Institution
from institutions.selectors import identity_change_notices, visible_cities

from .diff import diff_snapshots, group_by_section
from .models import ChasingRecord

S = Filing.Status
QUEUE_STATES = (S.SUBMITTED, S.IN_REVIEW)
DECISION_ACTIONS = ("approve", *RETURNING_ACTIONS)


def with_snapshot_facts(filings):
    """Annotate the number of submissions and whether the latest submission carried warnings (two subqueries)."""
    submissions = FilingSnapshot.objects.filter(filing=OuterRef("pk")).values("filing").annotate(
        n=Max("number")
    ).values("n")
    warned = FilingSnapshot.objects.filter(filing=OuterRef("pk"), number=OuterRef("submissions")).exclude(
        data__warnings=[]
    )
    return filings.annotate(submissions=Subquery(submissions)).annotate(has_warnings=Exists(warned))


def review_queue(user, year=None):
    """Submitted and in-review filings the user reviews, oldest submission first."""
    filings = visible_to(user, Filing).filter(authority_q(user), status__in=QUEUE_STATES)
    if year is not None:
        filings = filings.filter(year=year)
    return with_snapshot_facts(filings).select_related("institution__city", "year").order_by("submitted_at", "pk")


def next_in_queue(rows, current=None):
    """The filing to open after `current` in the queue `rows` (ordered oldest submission first): the next one after
    it, else the first other one; the first of the queue when there is no current filing. None if there is none."""
    others = rows.exclude(pk=current.pk) if current is not None else rows
    if current is not None and current.submitted_at is not None:
        later = others.filter(
            Q(submitted_at__gt=current.submitted_at) | Q(submitted_at=current.submitted_at, pk__gt=current.pk)
        ).first()
        if later is not None:
            return later
    return others.first()


def unexplained_warning_ids(filings) -> set[int]:
    """The ids of the filings among `filings` whose latest submission carries a warning without an explanation (read
    from each latest snapshot's warnings only, so that the embedded SQLite default answers it too)."""
    latest = FilingSnapshot.objects.filter(filing=OuterRef("filing")).order_by("-number").values("pk")[:1]
    snapshots = (
        FilingSnapshot.objects.filter(filing__in=filings.order_by().values("pk"), pk=Subquery(latest))
        .exclude(data__warnings=[])
        .values_list("filing_id", "data__warnings")
    )
    return {
        pk for pk, warnings in snapshots
        if any(not str(warning.get("explanation") or "").strip() for warning in warnings or [])
    }


def peer_outlier_ids(filings) -> list[int]:
    """The ids of the filings among `filings` that stray from their peers now (filings.peers; fixed queries)."""
    return sorted(peers.peer_outliers(filings))


def peer_flags(filings) -> dict[int, str]:
    """{filing id: what strays, as "人均收入↑、人均报告↓"} for the filings of a queue page."""
    return {pk: peers.outlier_summary(items) for pk, items in peers.peer_outliers(filings).items()}


def bulk_approvable(rows):
    """全部 of 批量审核通过: the queue's rows (review_queue under the reviewer's filters) less those whose latest
    submission carries an unexplained warning."""
    return rows.exclude(pk__in=unexplained_warning_ids(rows))


def reviewable_filings(user):
    """Every filing the user may open on the review screen (any state), with what the page needs."""
    return visible_to(user, Filing).select_related("institution__city__parent", "year")


def queue_cities(user):
    return visible_cities(user)


# --- review screen ---------------------------------------------------------------------------------------------

@dataclass
class Comparison:
    title: str
    base_label: str
    changes: list
    available: bool

    @property
    def sections(self):
        return group_by_section(self.changes)


def last_year_approved_snapshot(filing):
    return (
        FilingSnapshot.objects.filter(
            filing__institution_id=filing.institution_id, filing__year__year=filing.year.year - 1,
            filing__status=S.APPROVED,
        )
        .order_by("-number")
        .first()
    )


def review_screen(filing) -> dict:
    """Everything the review screen shows about one filing."""
    snapshots = list(filing.snapshots.order_by("-number")[:2])
    latest = snapshots[0] if snapshots else None
    previous = snapshots[1] if len(snapshots) > 1 else None
    last_year = last_year_approved_snapshot(filing)
    comparisons = []
    if latest:
        comparisons.append(Comparison(
            "与上次提交相比", f"第 {previous.number} 次提交" if previous else "",
            diff_snapshots(previous.data, latest.data) if previous else [], previous is not None,
        ))
        comparisons.append(Comparison(
            "与上年度审核通过的填报相比", f"{filing.year.year - 1}年度" if last_year else "",
            diff_snapshots(last_year.data, latest.data) if last_year else [], last_year is not None,
        ))
    return {
        "snapshot": latest,
        "comparisons": comparisons,
        "peer_comparisons": peers.peer_comparisons(Filing.objects.filter(pk=filing.pk)).get(filing.pk, []),
        "peer_rule": peers.RULE_TEXT,
        "timeline": timeline(filing),
    }


# --- progress and chasing ----------------------------------------------------------------------------------------

def progress_years():
    return ReportingYear.objects.order_by("-year")


def progress_cities(user, year, province=None, by_province=False):
    """Per city in the user's scope (per province with `by_province`: SAMR's national view): counts and shares by
    state, the handed-in count and rate (filings.progress's rule) and the rank by rate. Figures come from the same
    grouped query as the summary workbook's 填报进度 sheet."""
    institutions = visible_to(user, Institution)
    if province is not None:
        institutions = institutions.filter(city__parent=province)
    rows = filing_progress_by_city(institutions, year)
    if by_province:
        rows = progress_by_province(rows)
    for row in rows:
        total = row["total"] or 0
        row["shares"] = {
            state: (row[state] / total * 100 if total else 0)
            for state in PROGRESS_STATES
        }
        row["cells"] = [(state, row[state], row["shares"][state]) for state in PROGRESS_STATES]
        row["completion"] = (row["handed_in_rate"] or 0) * 100
    ranked = sorted(rows, key=lambda r: (-r["completion"], -r["approved"], r["city_code"]))
    for rank, row in enumerate(ranked, start=1):
        row["rank"] = rank
    return rows, ranked


def totals(rows) -> dict:
    result = progress_totals(rows)
    result["cells"] = [(state, result[state]) for state in PROGRESS_STATES]
    result["completion"] = (result["handed_in_rate"] or 0) * 100
    return result


def late_filers_scope(user, city=None) -> str:
    """What the late-filer list covers, as its page and its workbook name it: the chosen city, else the user's own
    region (an officer's city, a reviewer's province), else 全国."""
    region = city or user.region
    return region.name if region else "全国"


def late_filers(user, year, city=None):
    """Institutions in scope whose filing for the year is not handed in (filings.progress: no filing, a draft, or
    returned and not yet corrected), with their filing's status and due date and the date they were last chased
    (one query)."""
    institutions = visible_to(user, Institution)
    if city is not None:
        institutions = institutions.filter(city=city)
    return (
        with_year_filing(institutions, year)
        .filter(not_handed_in_q("year_filing__"))
        .annotate(
            last_chased=Subquery(
                ChasingRecord.objects.filter(institution=OuterRef("pk"), year=year.year)
                .order_by("-contacted_on").values("contacted_on")[:1]
            ),
        )
        .select_related("city")
        .order_by("city__code", "name", "pk")
    )


def with_year_filing(institutions, year):
    """Institutions annotated with their filing for the year (status, id, correction due date) and their latest
    extension, the facts late_filer_deadline reads."""
    return institutions.annotate(
        year_filing=FilteredRelation("filings", condition=Q(filings__year=year)),
    ).annotate(
        filing_status=F("year_filing__status"),
        filing_id=F("year_filing__id"),
        correction_due=F("year_filing__correction_due"),
        extension_until=Subquery(
            Extension.objects.filter(institution=OuterRef("pk"), year=year).order_by("-until").values("until")[:1]
        ),
    )


def late_filer_deadline(institution, year):
    """The deadline of a row of late_filers (filings.selectors.deadline_of: the window, an extension or the
    correction due date)."""
    return deadline_of(year, extension_until=institution.extension_until, correction_due=institution.correction_due)


def chasing_records(user, institution, year=None):
    records = visible_to(user, ChasingRecord).filter(institution=institution).select_related("recorded_by")
    if year is not None:
        records = records.filter(year=year)
    return records


# --- notifications on the home page ----------------------------------------------------------------------------

@dataclass
class Notice:
    text: str
    url: str
    level: str = "info"


NOTICE_LIMIT = 5


def notifications_for(user) -> list[Notice]:
    """A short list of what needs the user now: returned filings (filers), new submissions awaiting review
    (reviewers), late filers as the deadline nears (city officers and the province)."""
    # Decided identity change requests (filers) and those waiting for the user's authority (reviewers, admins).
    notices = [Notice(text, reverse(url), level) for text, url, level in identity_change_notices(user)]
    if permissions.can_handle_extension_requests(user):
        pending = pending_extension_requests(user).count()
        if pending:
            notices.append(Notice(f"有 {pending} 条延期申请待处理。", reverse("filings:extension_requests"), "warning"))
    year = current_year()
    if year is None:
        return notices
    if permissions.has_own_institution(user):
        for filing in visible_to(user, Filing).filter(status=S.RETURNED).select_related("year")[:NOTICE_LIMIT]:
            deadline = filing_deadline(filing)
            due = timezone.localtime(deadline.at) if deadline else None
            notices.append(Notice(
                f"{filing.year}填报已被审核部门退回，请按意见修改"
                + (f"，并于{due:%Y年%m月%d日 %H:%M}前重新提交。" if due else "。"),
                reverse("filings:overview", args=[filing.pk]), "warning",
            ))
        for filing in visible_to(user, Filing).filter(status=S.APPROVED, year=year).select_related("year")[:1]:
            notices.append(
                Notice(f"{filing.year}填报已审核通过。", reverse("filings:overview", args=[filing.pk]), "success")
            )
        return notices
    if permissions.can_decide_filings(user):
        waiting = visible_to(user, Filing).filter(authority_q(user), status=S.SUBMITTED, year=year)
        count = waiting.count()
        if count:
            notices.append(
                Notice(f"有 {count} 份新提交的填报待审核。", reverse("review:queue") + "?status=submitted", "primary")
            )
        for filing in waiting.select_related("institution").order_by("submitted_at", "pk")[:NOTICE_LIMIT]:
            notices.append(Notice(
                f"{filing.institution.name} 于{timezone.localtime(filing.submitted_at):%m月%d日 %H:%M}提交",
                reverse("review:detail", args=[filing.pk]),
            ))
    if permissions.can_send_reminders(user) and not permissions.can_view_nation(user):
        late = late_filers(user, year).count()
        left = days_left(year)
        if late and left is not None:
            when = f"距填报截止还有 {left} 天" if left >= 0 else "填报已截止"
            notices.append(Notice(
                f"辖区内有 {late} 家机构尚未提交{year}填报（{when}）。", reverse("review:late_filers"),
                "warning" if left is not None and left <= 7 else "info",
            ))
    return notices
