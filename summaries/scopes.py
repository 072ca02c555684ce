"""Which regions a user may export, and the institutions an export of a region covers.

City officers: their city. Provincial reviewers: their province or one of its cities. SAMR reviewers and admins:
the nation, any province or any city. Filers export nothing (`accounts.permissions.can_export` is the rule).
Institutions always come through visible_to as well.
"""
from accounts.permissions import can_export_summaries, can_view_nation
from accounts.scoping import visible_to
from institutions.models import Institution, Region


def export_regions_for(user):
    """The regions the user may choose, broadest first."""
    regions = Region.objects.select_related("parent")
    if not can_export_summaries(user):
        return regions.none()
    if can_view_nation(user):
        return regions.order_by("code")
    # The user's own region and the regions under it (a province's cities; a city has none), as can_export says.
    return regions.filter(pk=user.region_id) | regions.filter(parent=user.region_id)


def region_filter(region, city_path: str = "city") -> dict:
    """The ORM filter that keeps rows whose institution lies in `region` (nation, province or city)."""
    if region.level == Region.Level.NATION:
        return {}
    if region.level == Region.Level.PROVINCE:
        return {f"{city_path}__parent": region.pk}
    return {city_path: region.pk}


def institutions_in(user, region):
    return visible_to(user, Institution).filter(**region_filter(region))
