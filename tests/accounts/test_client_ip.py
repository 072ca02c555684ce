"""The client's address behind a simulated reverse proxy: one setting (TRUSTED_PROXY_COUNT), one function
(accounts.clientip.client_ip), used by login throttling and by the public verification's rate limit."""
import pytest
from django.test import RequestFactory
from django.urls import reverse

from accounts.clientip import client_ip
from tests import factories

PASSWORD = "correct-horse-battery"
PROXY = "172.18.0.5"  # the reverse proxy as the web server sees it
ALICE = "203.0.113.7"
BOB = "198.51.100.8"


def request(remote=PROXY, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    "proxies, forwarded, expected",
    [
        (0, None, PROXY),
        (0, ALICE, PROXY),  # no proxy configured: the header is never trusted
        (1, ALICE, ALICE),
        (1, f"{BOB}, {ALICE}", ALICE),  # a forged left-most entry never wins
        (1, f"{BOB},,{ALICE} ", ALICE),
        (2, f"{BOB}, {ALICE}, 10.0.0.2", ALICE),  # two proxies: the second entry from the right
        (2, ALICE, PROXY),  # fewer entries than proxies: only the nearest address is vouched for
        (1, None, PROXY),
        (1, "not-an-address", PROXY),
        (1, "2001:DB8::1", "2001:db8::1"),
    ],
)
def test_client_ip_takes_the_right_most_untrusted_entry(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_ip(request(forwarded=forwarded)) == expected


def test_no_valid_address_gives_none(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request(remote="")) is None


def test_django_axes_asks_the_same_function(settings):
    from axes.helpers import get_client_ip_address

    settings.TRUSTED_PROXY_COUNT = 1
    assert get_client_ip_address(request(forwarded=f"{BOB}, {ALICE}")) == ALICE


def login(client, user, password, forwarded):
    return client.post(
        reverse("login"), {"username": user.username, "password": password},
        REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded,
    )


def lock_out(client, user, forwarded, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, user, "wrong", forwarded)


@pytest.mark.django_db
def test_behind_a_proxy_one_clients_failures_do_not_lock_out_another(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    user = factories.FilerFactory()
    lock_out(client, user, ALICE, settings)
    assert login(client, user, PASSWORD, ALICE).status_code == 429
    response = login(client, user, PASSWORD, BOB)
    assert response.status_code == 302 and response.url == reverse("home")


@pytest.mark.django_db
def test_a_forged_forwarded_header_cannot_escape_the_lockout(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    user = factories.FilerFactory()
    lock_out(client, user, ALICE, settings)
    # Alice adds her own X-Forwarded-For entry; the proxy appends her real address after it.
    for forged in (BOB, "127.0.0.1", "10.0.0.1"):
        assert login(client, user, PASSWORD, f"{forged}, {ALICE}").status_code == 429


@pytest.mark.django_db
def test_without_a_configured_proxy_the_header_is_ignored(client, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    user = factories.FilerFactory()
    lock_out(client, user, ALICE, settings)
    assert login(client, user, PASSWORD, BOB).status_code == 429


def verify(client, forwarded):
    return client.get(reverse("reports:verify"), {"number": "HN-2023-0001"},
                      REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)


@pytest.mark.django_db
def test_public_verification_is_rate_limited_per_real_client_behind_a_proxy(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.REPORTS_VERIFY_PER_MINUTE = 3
    for _ in range(3):
        assert verify(client, ALICE).status_code == 200
    assert verify(client, ALICE).status_code == 429
    assert verify(client, f"{BOB}, {ALICE}").status_code == 429  # a forged entry does not reset the count
    assert verify(client, BOB).status_code == 200  # another client behind the same proxy


@pytest.mark.django_db
def test_a_complaint_records_the_real_client_address(client, settings, two_provinces):
    from reports.models import Complaint

    settings.TRUSTED_PROXY_COUNT = 1
    institution = two_provinces["institutions"]["changsha"]
    response = client.post(reverse("reports:complain"), {
        "report_number": "CS-2023-0001", "institution": institution.name, "city": "",
        "description": "报告上的机构说没出过这份报告", "contact": "13800000000",
    }, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{BOB}, {ALICE}")
    assert response.status_code == 200
    assert Complaint.objects.get().client_address == ALICE
