"""Which filings count as handed in (已提交), and the one Chinese label of each progress state (ADR 0012).

Every count of handed-in or late institutions reads this module: the 填报进度 page and its ranking, the workbook's
填报进度 sheet, the late-filer list (未提交机构) and its XLSX, the dashboard and the home-page notices. A returned
filing (已退回) waits for the filer's correction, so it is *not* handed in: it counts as 未提交 and is chased.
"""
from django.db.models import Count, Q

from .models import Filing

S = Filing.Status

# Handed in: the filer has nothing left to do unless a reviewer returns the filing.
HANDED_IN = (S.SUBMITTED, S.IN_REVIEW, S.APPROVED)
# Not handed in, beside institutions with no filing for the year at all.
NOT_HANDED_IN = tuple(status for status in S.values if status not in HANDED_IN)

# The progress state of an institution with no filing for the year.
NOT_STARTED = "not_started"
# Progress states in display order, each with its one label (the filing states' labels are Filing.Status's).
PROGRESS_STATES = (NOT_STARTED, *S.values)
PROGRESS_LABELS = {NOT_STARTED: "未开始", **dict(S.choices)}

HANDED_IN_LABEL = "已提交（含审核中、审核通过）"
RATE_LABEL = "提交率"
NOT_HANDED_IN_LABEL = "未提交"
RULE_TEXT = ("提交率 =（已提交 + 审核中 + 审核通过）÷ 在册机构数；已退回的填报须机构更正后重新提交，"
             "与未开始、草稿一样计为未提交。")


def progress_state(status: str | None) -> str:
    """The progress state of an institution whose filing for the year has `status` (None or "": no filing)."""
    return status or NOT_STARTED


def progress_label(status: str | None) -> str:
    return PROGRESS_LABELS[progress_state(status)]


def is_handed_in(status: str | None) -> bool:
    return status in HANDED_IN


def handed_in_q(path: str = "") -> Q:
    """Filings handed in; `path` leads from the queryset's model to the filing (e.g. "year_filing__")."""
    return Q(**{f"{path}status__in": HANDED_IN})


def not_handed_in_q(path: str) -> Q:
    """Institutions not handed in, through a relation `path` to their filing for one year (no filing matches)."""
    return Q(**{f"{path}isnull": True}) | Q(**{f"{path}status__in": NOT_HANDED_IN})


def handed_in_counts(row: dict) -> dict:
    """From a row of counts per progress state (and its "total"): handed_in, not_handed_in and rate (0..1 or None)."""
    handed_in = sum(row[status] for status in HANDED_IN)
    total = row["total"]
    return {
        "handed_in": handed_in,
        "not_handed_in": total - handed_in,
        "handed_in_rate": handed_in / total if total else None,
    }


def filing_progress_by_city(institutions, year):
    """[{city_id, city_code, city, total, not_started, draft, submitted, in_review, returned, approved, handed_in,
    not_handed_in, handed_in_rate}] for the institutions given (already scoped), one grouped query. An institution
    has at most one filing per year; handed in is this module's rule, the same for every page and sheet."""
    year_id = getattr(year, "pk", year)
    counts = {
        status: Count("filings", filter=Q(filings__year_id=year_id, filings__status=status))
        for status in Filing.Status.values
    }
    rows = (
        institutions.values("city_id", "city__code", "city__name", "city__parent__code", "city__parent__name")
        .annotate(total=Count("id", distinct=True), **counts)
        .order_by("city__code")
    )
    result = []
    for row in rows:
        started = sum(row[status] for status in Filing.Status.values)
        state_counts = {"total": row["total"], NOT_STARTED: row["total"] - started,
                        **{status: row[status] for status in Filing.Status.values}}
        result.append({
            "city_id": row["city_id"], "city_code": row["city__code"], "city": row["city__name"],
            "province_code": row["city__parent__code"], "province": row["city__parent__name"],
            **state_counts, **handed_in_counts(state_counts),
        })
    return result


def progress_by_province(city_rows: list[dict]) -> list[dict]:
    """filing_progress_by_city's rows summed per province (SAMR's national view): the same keys, `city_code` and
    `city` naming the province, in code order."""
    provinces = {}
    for row in city_rows:
        provinces.setdefault((row["province_code"], row["province"]), []).append(row)
    return [
        {"city_id": None, "city_code": code, "city": name, "province_code": code, "province": name,
         **progress_totals(rows)}
        for (code, name), rows in sorted(provinces.items())
    ]


def progress_totals(progress_rows: list[dict]) -> dict:
    """The 合计 of filing_progress_by_city's rows (total, every state, handed in or not and the rate)."""
    counts = {key: sum(row[key] for row in progress_rows) for key in ["total", *PROGRESS_STATES]}
    return {**counts, **handed_in_counts(counts)}
