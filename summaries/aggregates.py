"""Grouped queries behind both the dashboard and the workbooks, so that their figures are the same by construction.

Each function takes an already-scoped queryset and runs one grouped query in the database.
"""
from django.db.models import Count, Q

from institutions.models import Institution, ProfessionalField


def institutions_by_city(institutions):
    """[(city name, count)] in city-code order."""
    rows = institutions.values("city__code", "city__name").annotate(n=Count("id")).order_by("city__code")
    return [(row["city__name"], row["n"]) for row in rows]


def institutions_by_choice(institutions, field: str):
    """[(label, count)] for a choices field such as nature or ownership, in the order of its choices."""
    labels = dict(Institution._meta.get_field(field).choices)
    counts = dict(institutions.values_list(field).annotate(n=Count("id")).order_by())
    return [(label, counts.get(value, 0)) for value, label in labels.items()]


def institutions_by_professional_field(institutions):
    """[(field name, count)]: an institution counts once in every field it ticked."""
    rows = (
        ProfessionalField.objects.filter(institution__in=institutions.values("pk"))
        .values("code", "name")
        .annotate(n=Count("institution"))
        .order_by("-n", "code")
    )
    return [(row["name"], row["n"]) for row in rows]


# The filing states a progress table shows, in order; "not_started" means no filing exists for the year.
PROGRESS_STATES = ["not_started", "draft", "submitted", "in_review", "returned", "approved"]


def filing_progress_by_city(institutions, year):
    """[{city_id, city_code, city, total, not_started, draft, submitted, in_review, returned, approved}] for the
    institutions given (already scoped), one grouped query. An institution has at most one filing per year."""
    from filings.models import Filing

    year_id = getattr(year, "pk", year)
    counts = {
        status: Count("filings", filter=Q(filings__year_id=year_id, filings__status=status))
        for status in Filing.Status.values
    }
    rows = (
        institutions.values("city_id", "city__code", "city__name")
        .annotate(total=Count("id", distinct=True), **counts)
        .order_by("city__code")
    )
    result = []
    for row in rows:
        started = sum(row[status] for status in Filing.Status.values)
        result.append({
            "city_id": row["city_id"], "city_code": row["city__code"], "city": row["city__name"],
            "total": row["total"], "not_started": row["total"] - started,
            **{status: row[status] for status in Filing.Status.values},
        })
    return result
