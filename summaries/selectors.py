"""Reads for the dashboard: the figures of one region within the user's scope."""
from . import aggregates
from .scopes import export_regions_for, institutions_in


def dashboard_regions(user):
    return export_regions_for(user)


def default_region(user):
    """The broadest region the user may look at (the nation, their province, their city)."""
    return dashboard_regions(user).order_by("code").first() if not user.region_id else user.region


def dashboard_figures(user, region) -> dict:
    institutions = institutions_in(user, region)
    return {
        "institution_total": institutions.count(),
        "by_city": aggregates.institutions_by_city(institutions),
        "by_nature": aggregates.institutions_by_choice(institutions, "nature"),
        "by_ownership": aggregates.institutions_by_choice(institutions, "ownership"),
        "top_fields": aggregates.institutions_by_professional_field(institutions)[:10],
    }
