"""Reads for the dashboard: the headline figures of one region within the user's scope, for one reporting year.

Every figure comes from the same functions in aggregates.py as the 年度汇总 workbook's sheets, so that the dashboard
and a workbook of the same scope, year and counting rule always show the same numbers.
"""
from filings.models import ReportingYear

from . import aggregates
from .scopes import export_regions_for, institutions_in

# The indicators the dashboard compares with the previous year (the workbook's 总体情况 has them all).
HEADLINE_KEYS = [
    "institutions", "staff_total", "revenue", "reports_total", "instruments_total", "instrument_value_total",
    "lab_area", "above_scale",
]


def dashboard_regions(user):
    return export_regions_for(user)


def default_region(user):
    """The broadest region the user may look at (the nation, their province, their city)."""
    return dashboard_regions(user).order_by("code").first() if not user.region_id else user.region


def dashboard_years():
    return list(ReportingYear.objects.order_by("-year").values_list("year", flat=True))


def default_year(years):
    """The year being filed now (or the latest that has opened), if it is one of `years`."""
    current = ReportingYear.objects.current()
    return current.year if current else (years[0] if years else None)


def _number(value):
    """Decimal sums as float for the charts (json); counts stay int."""
    return value if isinstance(value, int) else round(float(value), 2)


def dashboard_figures(user, region, year: int | None, *, include_submitted: bool = False) -> dict:
    institutions = institutions_in(user, region)
    figures = {
        "institution_total": institutions.count(),
        "year": year,
        "include_submitted": include_submitted,
        "basis": aggregates.basis_text(include_submitted),
        "filing_states": [], "handed_in": None, "by_area": [], "area_label": "市州",
        "by_nature": [], "by_ownership": [], "top_fields": [],
        "year_on_year": [], "same_institutions_note": "",
    }
    reporting_year = ReportingYear.objects.filter(year=year).first() if year else None
    if reporting_year is None:
        return figures
    counting = {"include_submitted": include_submitted}
    progress = aggregates.progress_totals(aggregates.filing_progress_by_city(institutions, reporting_year))
    figures["filing_states"] = [
        (aggregates.PROGRESS_LABELS[state], progress[state]) for state in aggregates.PROGRESS_STATES
    ]
    figures["handed_in"] = {
        "handed_in": progress["handed_in"], "not_handed_in": progress["not_handed_in"],
        "rate_pct": None if progress["handed_in_rate"] is None else round(progress["handed_in_rate"] * 100, 1),
    }
    by_province = region.level == region.Level.NATION  # the nation per province; a province or a city per city
    figures["area_label"] = "省份" if by_province else "市州"
    figures["by_area"] = [
        (row["label"], row["institutions"], _number(row["revenue"]))
        for row in aggregates.breakdown_by_area(institutions, year, by_province=by_province, **counting)
    ]
    for key, field in (("by_nature", "nature"), ("by_ownership", "ownership")):
        figures[key] = [
            (row["label"], row["institutions"])
            for row in aggregates.breakdown_by_choice(institutions, year, field, **counting)
        ]
    fields = aggregates.breakdown_by_professional_field(institutions, year, **counting)
    figures["top_fields"] = [(row["label"], row["institutions"]) for row in aggregates.top_professional_fields(fields)]
    comparison = aggregates.year_on_year(institutions, year, **counting)
    figures["same_institutions_note"] = aggregates.same_institutions_note(year, comparison[0]["same_current"])
    figures["year_on_year"] = [
        {
            "key": row["key"], "label": row["label"].removeprefix("其中："), "unit": row["unit"],
            **{name: _number(row[name]) for name in ("same_current", "same_previous", "current", "previous")},
            "same_change": row["same_change"], "change": row["change"],
        }
        for row in comparison
        if row["key"] in HEADLINE_KEYS
    ]
    return figures
