"""Templates ask `accounts.permissions` too: `{% if user|may:"review" %}` for a capability of the user alone,
`{% can user "request_identity_change" institution as may_change %}` for one that concerns an object."""
from django import template

from accounts import permissions

register = template.Library()


def _predicate(capability):
    predicate = getattr(permissions, f"can_{capability}", None)
    if predicate is None:
        raise template.TemplateSyntaxError(f"accounts.permissions has no can_{capability}")
    return predicate


@register.filter
def may(user, capability):
    return _predicate(capability)(user)


@register.simple_tag
def can(user, capability, obj):
    return _predicate(capability)(user, obj)
