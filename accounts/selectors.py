"""Reads for the role-specific home pages; every query starts from the scoping helper."""
from django.db.models import Count

from filings.selectors import current_year, days_left, filings_visible_to
from institutions.models import Institution, Region
from review.selectors import notifications_for

from . import permissions
from .scoping import visible_to


def institution_counts_by_city(user):
    """[(city, count)] for the cities whose institutions the user may see, largest first."""
    rows = (
        visible_to(user, Institution)
        .values("city_id")
        .annotate(n=Count("id"))
        .order_by("-n", "city_id")
    )
    cities = Region.objects.in_bulk([row["city_id"] for row in rows])
    return [(cities[row["city_id"]], row["n"]) for row in rows]


def institution_counts_by_province(user):
    rows = (
        visible_to(user, Institution)
        .values("city__parent_id", "city__parent__name")
        .annotate(n=Count("id"))
        .order_by("-n", "city__parent_id")
    )
    return [(row["city__parent__name"], row["n"]) for row in rows]


def home_context(user):
    """The figures a user's home page shows, by role, with the short list of what needs the user (review app)."""
    return {**_role_context(user), "notifications": notifications_for(user)}


def _role_context(user):
    if permissions.has_own_institution(user):
        year = current_year()
        filing = filings_visible_to(user).filter(year=year).first() if year else None
        return {
            "institution": visible_to(user, Institution).select_related("city").first(),
            "year": year,
            "filing": filing,
            "days_left": days_left(filing or year) if year else None,
        }
    context = {"institution_total": visible_to(user, Institution).count()}
    if not permissions.can_view_nation(user):
        context["by_city"] = institution_counts_by_city(user)
    else:
        context["by_province"] = institution_counts_by_province(user)
    return context
