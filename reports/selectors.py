"""Scoped reads for report numbers: upload status per quarter, missing uploads, the public lookup, complaints."""
from django.db import connections
from django.db.models import Count, Exists, OuterRef, Q, Sum

from accounts.scoping import visible_to
from config.replica import read_alias
from institutions.models import Institution
from review.models import Reminder

from .models import ApiToken, Complaint, ReportNumberBatch
from .quarters import Quarter

# An institution has uploaded a quarter when one of its finished uploads for it held at least one valid number.
_COUNTS = Q(status=ReportNumberBatch.Status.DONE) & (Q(accepted__gt=0) | Q(duplicate_existing__gt=0))


def completed_batches(institutions=None):
    batches = ReportNumberBatch.objects.filter(_COUNTS)
    if institutions is not None:
        batches = batches.filter(institution__in=institutions.values("pk"))
    return batches


def upload_status_by_quarter(institutions, year: int) -> list[dict]:
    """For an already-scoped Institution queryset and a calendar year: one dict per quarter 1..4 with "quarter"
    (label), "quarter_code", "institutions", "uploaded", "on_time", "late", "missing", "numbers". Two grouped
    queries whatever the number of institutions."""
    total = institutions.order_by().count()
    rows = (
        completed_batches(institutions)
        .filter(year=year)
        .values("quarter")
        .order_by("quarter")
        .annotate(
            uploaded=Count("institution", distinct=True),
            on_time=Count("institution", distinct=True, filter=Q(is_late=False)),
            numbers=Sum("accepted"),
        )
    )
    by_quarter = {row["quarter"]: row for row in rows}
    result = []
    for number in range(1, 5):
        quarter = Quarter(year, number)
        row = by_quarter.get(number, {})
        uploaded, on_time = row.get("uploaded", 0), row.get("on_time", 0)
        result.append({
            "quarter": quarter.label,
            "quarter_code": quarter.code,
            "institutions": total,
            "uploaded": uploaded,
            "on_time": on_time,
            "late": uploaded - on_time,
            "missing": total - uploaded,
            "numbers": row.get("numbers") or 0,
        })
    return result


def institution_quarter_status(institution, quarters: list[Quarter]) -> list[dict]:
    """One institution's status for each of `quarters`: uploaded or missing, counts, on time or late. One query."""
    years = {q.year for q in quarters}
    rows = (
        ReportNumberBatch.objects.filter(institution=institution, year__in=years, status=ReportNumberBatch.Status.DONE)
        .values("year", "quarter")
        .order_by()
        .annotate(
            batches=Count("id"),
            numbers=Sum("accepted"),
            valid=Count("id", filter=_COUNTS),
            on_time=Count("id", filter=_COUNTS & Q(is_late=False)),
            rejected=Sum("rejected"),
        )
    )
    found = {(row["year"], row["quarter"]): row for row in rows}
    result = []
    for quarter in quarters:
        row = found.get((quarter.year, quarter.quarter), {})
        uploaded = bool(row.get("valid"))
        result.append({
            "quarter": quarter,
            "uploaded": uploaded,
            "on_time": uploaded and bool(row.get("on_time")),
            "late": uploaded and not row.get("on_time"),
            "batches": row.get("batches", 0),
            "numbers": row.get("numbers") or 0,
            "rejected": row.get("rejected") or 0,
        })
    return result


def batches_visible_to(user):
    return visible_to(user, ReportNumberBatch).select_related("institution", "uploaded_by")


def tokens_of(user, institution):
    return visible_to(user, ApiToken).filter(institution=institution).select_related("created_by", "revoked_by")


def missing_uploads(user, quarter: Quarter):
    """The institutions the user may see with no upload for `quarter`, with the time an upload reminder for it was
    last sent (accepted by the mail server)."""
    uploaded = completed_batches().filter(institution=OuterRef("pk"), year=quarter.year, quarter=quarter.quarter)
    last_reminder = (
        Reminder.objects.filter(
            institution=OuterRef("pk"), reason=Reminder.Reason.UPLOAD, key=quarter.code, status=Reminder.Status.SENT
        ).order_by("-sent_at").values("sent_at")[:1]
    )
    from django.db.models import Subquery

    return (
        visible_to(user, Institution)
        .filter(~Exists(uploaded))
        .select_related("city")
        .annotate(reminded_at=Subquery(last_reminder))
        .order_by("city__code", "name")
    )


def complaints_visible_to(user):
    return visible_to(user, Complaint).select_related("institution", "city", "handled_by")


def open_complaints(user):
    """The complaints in the user's area still to be handled (the home page's count, the officer's digest)."""
    return complaints_visible_to(user).filter(status=Complaint.Status.OPEN)


LOOKUP_SQL = (
    "SELECT i.name, c.name, r.year, r.quarter FROM reports_reportnumber r "
    "JOIN institutions_institution i ON i.id = r.institution_id "
    "JOIN institutions_region c ON c.id = i.city_id "
    "WHERE r.number = %s"
)


def lookup_report_number(number: str, institution_hint: str = "", limit: int = 5) -> list[dict]:
    """The public exact lookup: the rows stored under exactly `number` (optionally only of the institution whose full
    name or credit code is `institution_hint`), as institution name, city and quarter. One indexed query."""
    sql = LOOKUP_SQL
    params = [number]
    if institution_hint:
        sql += " AND (i.name = %s OR i.credit_code = %s)"
        params += [institution_hint, institution_hint.upper()]
    sql += " ORDER BY r.year DESC, r.quarter DESC LIMIT %s"
    params.append(limit)
    with connections[read_alias()].cursor() as cursor:  # the replica inside the public page, if there is one
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        {"institution": name, "city": city, "quarter": Quarter(year, quarter).label}
        for name, city, year, quarter in rows
    ]
