"""系统帮助: public pages linked from the login page and every footer; the check codes, report-number rules, the
notice and the bureaus' contacts."""
import importlib.util
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from filings.checks import CHECK_CODES
from portalhelp.guides import GUIDES, shots_used
from reports import ingest
from tests import factories

ROOT = Path(settings.BASE_DIR)
PAGES = ["help:index", "help:checks", "help:notice", "help:report_numbers", "help:contacts"]


def _text(response):
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_help_pages_open_without_login(client, name):
    body = _text(client.get(reverse(name)))
    assert "系统帮助" in body and 'lang="zh-Hans"' in body


@pytest.mark.django_db
@pytest.mark.parametrize("guide", GUIDES, ids=[guide.slug for guide in GUIDES])
def test_each_roles_guide_opens_without_login_with_its_screenshots(client, guide):
    body = _text(client.get(reverse("help:guide", args=[guide.slug])))
    assert guide.title in body
    for step in guide.steps:
        assert step.title in body and (not step.shot or f"help/{step.shot}.png" in body)


@pytest.mark.django_db
def test_an_unknown_guide_is_not_found(client):
    assert client.get(reverse("help:guide", args=["nobody"])).status_code == 404


@pytest.mark.django_db
def test_help_is_linked_from_the_login_page_and_every_pages_footer(client):
    assert reverse("help:index") in _text(client.get(reverse("login")))
    client.force_login(factories.FilerFactory())
    home = _text(client.get(reverse("home")))
    assert f'href="{reverse("help:index")}" data-testid="footer-help"' in home


@pytest.mark.django_db
def test_the_check_codes_page_lists_every_code_with_its_message_and_what_to_do(client):
    body = _text(client.get(reverse("help:checks")))
    for code, check in CHECK_CODES.items():
        assert f'id="{code}"' in body, code
        assert check.message in body and check.advice in body, code


def test_every_check_code_says_what_to_do():
    for code, check in CHECK_CODES.items():
        assert check.message and check.advice, f"{code}: add what to do in filings/checks.py CHECK_CODES"


@pytest.mark.django_db
def test_the_notice_is_rendered_as_a_page(client):
    body = _text(client.get(reverse("help:notice")))
    assert "湘市监认函〔2024〕8号" in body
    assert "每季度的第一个月内" in body and "“系统帮助”栏目" in body
    assert "([" not in body  # the source's conversion artifacts are gone


@pytest.mark.django_db
def test_the_report_number_rules_are_those_the_upload_enforces(client, settings):
    settings.REPORTS_VERIFY_PER_MINUTE = 17
    body = _text(client.get(reverse("help:report_numbers")))
    assert f"1～{ingest.MAX_LENGTH} 个字符" in body
    assert f"{ingest.MAX_BYTES // 1024 // 1024} MB" in body
    assert "每分钟最多查询 17 次" in body
    assert "第一个月内" in body and reverse("reports:verify") in body


@pytest.fixture
def changsha_contact(db):
    changsha = factories.region("430100")
    changsha.contact_name, changsha.contact_phone = "王科长", "0731-88880000"
    changsha.contact_email = "rzc@changsha.example.cn"
    changsha.save()
    return changsha


def test_contacts_are_shown_per_city_to_anyone(client, changsha_contact):
    body = _text(client.get(reverse("help:contacts")))
    assert "王科长" in body and "0731-88880000" in body and "mailto:rzc@changsha.example.cn" in body
    assert "株洲市" in body and "尚未登记" in body  # a city without a contact says so
    assert 'data-testid="home-city"' not in body


@pytest.mark.django_db
def test_provinces_without_any_contact_are_left_out(client):
    assert 'data-testid="no-contacts"' in _text(client.get(reverse("help:contacts")))
    factories.CityFactory(code="420100", name="武汉市", parent=factories.region("420000"))
    hubei = factories.region("420000")
    hubei.contact_phone = "027-87000000"
    hubei.save()
    body = _text(client.get(reverse("help:contacts")))
    assert "湖北省" in body and "武汉市" in body and "027-87000000" in body
    assert "湖南省" not in body and "长沙市" not in body


def test_a_filers_own_city_is_highlighted(client, changsha_contact):
    client.force_login(factories.FilerFactory(institution=factories.InstitutionFactory(city=changsha_contact)))
    body = _text(client.get(reverse("help:contacts")))
    row = body.split('data-testid="home-city"', 1)[1].split("</tr>", 1)[0]
    assert "长沙市" in row and "王科长" in row and "您所在的市州" in row


def test_a_city_officers_city_is_highlighted_and_a_reviewers_none(client, changsha_contact):
    client.force_login(factories.CityOfficerFactory(region=factories.region("430200")))
    row = _text(client.get(reverse("help:contacts"))).split('data-testid="home-city"', 1)[1].split("</tr>", 1)[0]
    assert "株洲市" in row
    client.force_login(factories.ProvincialReviewerFactory())
    assert 'data-testid="home-city"' not in _text(client.get(reverse("help:contacts")))


def test_the_admin_edits_a_citys_contact(client, changsha_contact):
    client.force_login(factories.AdminFactory())
    url = reverse("admin:institutions_region_change", args=[changsha_contact.pk])
    assert "联系方式（系统帮助中公开显示）" in _text(client.get(url))


def _screenshot_script():
    spec = importlib.util.spec_from_file_location("help_screenshots", ROOT / "scripts" / "help_screenshots.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_screenshot_a_guide_shows_is_taken_by_the_script_and_committed():
    taken = {shot.name for shot in _screenshot_script().SHOTS}
    assert shots_used() <= taken, f"add to scripts/help_screenshots.py SHOTS: {sorted(shots_used() - taken)}"
    missing = sorted(shot for shot in shots_used() if not (ROOT / "static" / "help" / f"{shot}.png").is_file())
    assert not missing, f"run scripts/help_screenshots.py (README 系统帮助): {missing}"
