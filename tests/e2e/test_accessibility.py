"""axe-core finds no critical or serious violation on any page a role reaches: the anonymous visitor's public pages
(also on a 390 px phone), and for the filer, the city officer, the provincial and the SAMR reviewer and the admin
every page of the access matrix (tests/test_access.py) that role gets in to, with the matrix's objects. A page added
to the matrix is checked here without further ado."""
import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, assert_accessible, axe_violations, describe_violations, open_page
from tests.test_access import ALL, _example_url, _expected, _world_url, world  # noqa: F401 -- world is the matrix's fixture

pytestmark = pytest.mark.e2e

ROLES = ("filer", "city", "province", "samr", "admin")


def signed_in(role, matrix):
    """A test client logged in as the role (anonymous for None)."""
    client = Client()
    if role:
        client.force_login(matrix["users"][role])
    return client


def html_pages(client, matrix, role):
    """The addresses of the pages (HTML answered to a GET) that the matrix lets the role into; None: anonymous."""
    urls = []
    for name, pattern in ALL:
        expected = _expected(name)
        reaches = expected == "public" if role is None else isinstance(expected, set | frozenset) and role in expected
        if not reaches or (name.startswith("admin:") and name != "admin:index"):
            continue
        # Public pages name no object of the matrix.
        url = _example_url(name, pattern) if role is None else _world_url(name, pattern, matrix["objects"])
        response = client.get(url)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            urls.append(url)  # downloads, JSON, POST-only actions and redirects are not pages
    return urls


def violations_on(page, urls):
    found = []
    for url in urls:
        response = page.goto(url)
        assert response.ok, f"{url} answered {response.status}"
        page.wait_for_load_state()
        violations = axe_violations(page)
        if violations:
            found.append(describe_violations(url, violations))
    return found


@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_role_reaches_passes_axe(browser, live_server, transactional_db, world, role):  # noqa: F811
    client = signed_in(role, world)
    urls = html_pages(client, world, role)
    assert len(urls) >= 5, urls  # the matrix gives every role its home, lists and objects
    context, page = open_page(browser, live_server)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value  # the login page is checked with the public pages
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
    found = violations_on(page, urls)
    context.close()
    assert not found, "\n\n".join(found)


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["office-screen", "phone"])
def test_public_pages_pass_axe_on_a_screen_and_on_a_phone(browser, live_server, transactional_db, world,  # noqa: F811
                                                          viewport):
    urls = html_pages(signed_in(None, world), world, None)
    urls += ["/reports/verify/?number=X-1"]  # the answer to a lookup
    context, page = open_page(browser, live_server, **({"viewport": viewport} if viewport else {}))
    found = violations_on(page, urls)
    if viewport:
        for url in urls:
            page.goto(url)
            page.wait_for_load_state()
            width = page.evaluate("() => document.documentElement.scrollWidth")
            if width > viewport["width"]:
                found.append(f"{url}: {width} px wide on a {viewport['width']} px phone (scrolls sideways)")
    context.close()
    assert not found, "\n\n".join(found)


def test_a_refused_login_passes_axe(page, transactional_db):
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill("nobody")
    page.get_by_label("密码").fill("wrong")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("body")).to_contain_text("用户名或密码错误")
    assert_accessible(page)
