"""The notices panels of other apps' pages: `{% home_notices %}` on each home page (unread first, with a badge) and
`{% login_notices %}` on the login page (the latest public notices)."""
from django import template

from notices import selectors

register = template.Library()


@register.inclusion_tag("notices/_home_notices.html", takes_context=True)
def home_notices(context):
    notices, unread = selectors.home_notices(context["user"])
    return {"notices": notices, "unread": unread}


@register.inclusion_tag("notices/_login_notices.html")
def login_notices():
    return {"notices": selectors.public_notices()[:selectors.LOGIN_LIMIT]}
