"""Which regions a user may export, and the institutions an export of a region covers.

City officers: their city. Provincial reviewers: their province or one of its cities. SAMR reviewers and admins:
the nation, any province or any city. Filers export nothing. Institutions always come through visible_to as well.
"""
from accounts.models import Role
from accounts.scoping import visible_to
from institutions.models import Institution, Region


def export_regions_for(user):
    """The regions the user may choose, broadest first."""
    regions = Region.objects.select_related("parent")
    if user.role in (Role.ADMIN, Role.SAMR_REVIEWER):
        return regions.order_by("code")
    if user.role == Role.PROVINCIAL_REVIEWER and user.region_id:
        return regions.filter(pk=user.region_id) | regions.filter(parent=user.region_id)
    if user.role == Role.CITY_OFFICER and user.region_id:
        return regions.filter(pk=user.region_id)
    return regions.none()


def can_export(user, region) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.role in (Role.ADMIN, Role.SAMR_REVIEWER):
        return True
    if user.role == Role.PROVINCIAL_REVIEWER:
        return region.pk == user.region_id or region.parent_id == user.region_id
    if user.role == Role.CITY_OFFICER:
        return region.pk == user.region_id
    return False


def region_filter(region, city_path: str = "city") -> dict:
    """The ORM filter that keeps rows whose institution lies in `region` (nation, province or city)."""
    if region.level == Region.Level.NATION:
        return {}
    if region.level == Region.Level.PROVINCE:
        return {f"{city_path}__parent": region.pk}
    return {city_path: region.pk}


def institutions_in(user, region):
    return visible_to(user, Institution).filter(**region_filter(region))
