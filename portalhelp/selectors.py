"""Reads for the help pages. The bureaus' contacts are public: every visitor sees all of them."""
from accounts.permissions import has_own_institution
from institutions.models import Region


def bureau_contacts(home_city_id: int | None = None) -> list[tuple[Region, list[Region]]]:
    """Each province with its cities (and every one's contact), in code order: the provinces where the admin has
    registered a contact, and the province of `home_city_id` (the visitor's own city)."""
    cities = Region.objects.filter(level=Region.Level.CITY).select_related("parent").order_by("parent__code", "code")
    provinces: dict[Region, list[Region]] = {}
    for city in cities:
        provinces.setdefault(city.parent, []).append(city)
    return [(province, members) for province, members in provinces.items()
            if any(map(_has_contact, [province, *members])) or any(city.pk == home_city_id for city in members)]


def _has_contact(region: Region) -> bool:
    return bool(region.contact_name or region.contact_phone or region.contact_email)


def home_city_id(user) -> int | None:
    """The city whose bureau a user turns to: the own institution's city, or the city an officer works for."""
    if has_own_institution(user):
        return user.institution.city_id
    region = getattr(user, "region", None)
    if region is not None and region.level == Region.Level.CITY:
        return region.pk
    return None
