"""The one place that knows which rows each role may see.

Every model a user can reach declares `scope_lookups = ScopeLookups(institution=..., city=...)`: the ORM paths from
that model to the institution it belongs to and to that institution's city; or `ScopeLookups(owner=...)` for things a
user owns (their exports), which only that user and admins see; or `ScopeLookups(audience=...)` for things
addressed to the nation or one province (notices). `visible_to(user, model_or_queryset)`
narrows a queryset accordingly; views, selectors, exports and tests all go through it.
"""
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from .lookups import ScopeLookups
from .models import Role

__all__ = ["ScopeLookups", "visible_to"]


def visible_to(user, model_or_queryset) -> models.QuerySet:
    if isinstance(model_or_queryset, models.QuerySet):
        queryset = model_or_queryset
    else:
        queryset = model_or_queryset._default_manager.all()
    lookups = getattr(queryset.model, "scope_lookups", None)
    if not isinstance(lookups, ScopeLookups):
        raise ImproperlyConfigured(f"{queryset.model.__name__} declares no scope_lookups; visible_to cannot scope it")

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    role = user.role
    if lookups.owner:
        return queryset if role == Role.ADMIN else queryset.filter(**{lookups.owner: user.pk})
    if lookups.audience:
        return queryset.filter(_audience_q(user, lookups.audience))
    if role in (Role.ADMIN, Role.SAMR_REVIEWER):
        return queryset
    if role == Role.PROVINCIAL_REVIEWER and user.region_id:
        return queryset.filter(**{f"{lookups.city}__parent": user.region_id})
    if role == Role.CITY_OFFICER and user.region_id:
        return queryset.filter(**{lookups.city: user.region_id})
    if role == Role.FILER and user.institution_id:
        return queryset.filter(**{lookups.institution: user.institution_id})
    if role == Role.GROUP_REVIEWER:
        # The institutions SAMR assigned to the user's active review groups, read now (a removal applies at once).
        prefix = "" if lookups.institution == "pk" else f"{lookups.institution}__"
        return queryset.filter(**{f"{prefix}review_group__in": member_review_groups(user)})
    return queryset.none()


def member_review_groups(user) -> models.QuerySet:
    """The active review groups the user belongs to, as a subquery (no query of its own)."""
    from institutions.models import ReviewGroup  # institutions.models imports this module (ScopeLookups)

    return ReviewGroup.objects.filter(is_active=True, members=user).values("pk")


def _audience_q(user, path: str) -> models.Q:
    """Rows addressed to the nation (a region without parent) or to the user's province; nothing for a role without
    its region or institution (deny by default, as above)."""
    role = user.role
    if role in (Role.ADMIN, Role.SAMR_REVIEWER):
        return models.Q()
    if role == Role.GROUP_REVIEWER:
        return models.Q(**{f"{path}__parent__isnull": True})  # a group is national: the nation's notices
    if role == Role.PROVINCIAL_REVIEWER and user.region_id:
        province = user.region_id
    elif role == Role.CITY_OFFICER and user.region_id:
        province = user.region.parent_id
    elif role == Role.FILER and user.institution_id:
        province = user.institution.city.parent_id
    else:
        return models.Q(pk__in=[])
    return models.Q(**{f"{path}__parent__isnull": True}) | models.Q(**{path: province})
