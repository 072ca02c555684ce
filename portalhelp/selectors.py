"""Reads for the help pages. The bureaus' contacts are public: every visitor sees all of them."""
from accounts.permissions import has_own_institution
from institutions.models import Region


def bureau_contacts() -> list[tuple[Region, list[Region]]]:
    """Each province that has cities in the register, with its cities (and every one's contact), in code order."""
    cities = Region.objects.filter(level=Region.Level.CITY).select_related("parent").order_by("parent__code", "code")
    provinces: dict[Region, list[Region]] = {}
    for city in cities:
        provinces.setdefault(city.parent, []).append(city)
    return list(provinces.items())


def home_city_id(user) -> int | None:
    """The city whose bureau a user turns to: the own institution's city, or the city an officer works for."""
    if has_own_institution(user):
        return user.institution.city_id
    region = getattr(user, "region", None)
    if region is not None and region.level == Region.Level.CITY:
        return region.pk
    return None
