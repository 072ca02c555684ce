"""Walks every URL pattern the project defines: an anonymous visitor is sent to the login page, except on the
public pages listed here. A new view that forgets its guard fails this test."""
import re
import uuid

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch

# Pages anyone may open without logging in.
PUBLIC = {"login", "healthz", "reports:verify", "reports:complain"}
# Token-authenticated API endpoints (no session): without a token they answer 401 with a JSON message.
TOKEN_AUTH = {"reports:api_upload", "reports:api_batch"}

CONVERTER_EXAMPLES = {"int": "1", "str": "x", "slug": "x", "path": "x/y", "uuid": str(uuid.uuid4())}


def _walk(resolver, namespace=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", pattern


def _example_url(name, pattern):
    converters = getattr(pattern.pattern, "converters", {})
    if converters or not pattern.pattern.regex.groupindex:
        kwargs = {key: CONVERTER_EXAMPLES.get(type(conv).__name__.replace("Converter", "").lower(), "1")
                  for key, conv in converters.items()}
        return reverse(name, kwargs=kwargs)
    # Regex patterns (the admin's): try plausible values for each group.
    from django.apps import apps

    candidates = ["1", "x"] + [config.label for config in apps.get_app_configs()]
    groups = list(pattern.pattern.regex.groupindex)
    for value in candidates:
        try:
            return reverse(name, kwargs={group: value for group in groups})
        except NoReverseMatch:
            continue
    raise AssertionError(f"no example URL for {name}; add one to the access test")


ALL = sorted(dict(_walk(get_resolver())).items())


def test_walk_finds_the_projects_patterns():
    names = {name for name, _ in ALL}
    assert {"home", "login", "institutions:list", "institutions:detail", "admin:index"} <= names


@pytest.mark.django_db
@pytest.mark.parametrize("name, pattern", ALL, ids=[name for name, _ in ALL])
def test_anonymous_visitor_is_sent_to_login(client, name, pattern):
    url = _example_url(name, pattern)
    response = client.get(url)
    if name in PUBLIC:
        assert response.status_code in (200, 503), f"{name} should be public"
        return
    if name in TOKEN_AUTH:
        assert response.status_code == 401 and "error" in response.json(), f"{name} should ask for a token"
        return
    assert response.status_code == 302, f"{name} ({url}) answered {response.status_code} to an anonymous visitor"
    # The admin's own guard sends to /admin/login/, which redirects to the portal's login page.
    logins = [reverse(settings.LOGIN_URL)] + ([reverse("admin:login")] if name.startswith("admin:") else [])
    location = response["Location"]
    assert any(re.match(rf"^{re.escape(login)}(\?next=|$)", location) for login in logins), location
    if location.startswith(reverse("admin:login")):
        assert client.get(location)["Location"].startswith(reverse(settings.LOGIN_URL))
