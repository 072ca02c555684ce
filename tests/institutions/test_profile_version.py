"""The profile and section forms carry the version they were opened at; a POST without it (or with garbage) is
refused with a Chinese message and saves nothing, so two tabs can never overwrite each other silently."""
import pytest
from django.urls import reverse

from institutions import services
from institutions.models import Institution, Site

pytestmark = pytest.mark.django_db

PROFILE = {
    "registered_address": "湖南省长沙市岳麓区麓谷大道1号", "established_year": "2010", "nature": "enterprise",
    "legal_status": "independent", "ownership": "private", "professional_fields": ["1"], "contact_person": "李娜",
    "contact_phone": "0731-88880000",
}
SITES = {"sites-TOTAL_FORMS": "1", "sites-INITIAL_FORMS": "0", "sites-MIN_NUM_FORMS": "0",
         "sites-MAX_NUM_FORMS": "1000", "sites-0-address": "湖南省长沙市雨花区环保中路8号"}


@pytest.mark.parametrize("version", [None, "", "garbage", "2020-01-01T00:00:00+00:00"])
def test_a_profile_post_without_the_current_version_is_refused(client, two_provinces, version):
    institution = two_provinces["institutions"]["changsha"]
    client.force_login(two_provinces["users"]["filer"])
    data = dict(PROFILE) if version is None else {**PROFILE, "version": version}
    response = client.post(reverse("institutions:edit", args=[institution.pk]), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "您的修改未保存" in page and "请刷新页面" in page
    assert Institution.objects.get(pk=institution.pk).contact_person == ""


@pytest.mark.parametrize("version", [None, "", "garbage"])
def test_a_section_post_without_the_current_version_is_refused(client, two_provinces, version):
    institution = two_provinces["institutions"]["changsha"]
    client.force_login(two_provinces["users"]["filer"])
    data = dict(SITES) if version is None else {**SITES, "version": version}
    response = client.post(reverse("institutions:edit_section", args=[institution.pk, "sites"]), data)
    assert response.status_code == 200 and "您的修改未保存" in response.content.decode()
    assert not Site.objects.exists()


def test_the_version_the_page_carries_saves(client, two_provinces):
    institution = two_provinces["institutions"]["changsha"]
    client.force_login(two_provinces["users"]["filer"])
    version = client.get(reverse("institutions:edit", args=[institution.pk])).context["version"]
    assert f'name="version" value="{version}"' in client.get(reverse("institutions:edit", args=[institution.pk])).text
    response = client.post(reverse("institutions:edit", args=[institution.pk]), {**PROFILE, "version": version})
    assert response.status_code == 302
    assert Institution.objects.get(pk=institution.pk).contact_person == "李娜"
    assert version != services.version_of(Institution.objects.get(pk=institution.pk))


def test_the_filing_forms_also_refuse_a_post_without_a_version(client, two_provinces):
    """The filing part forms and the withdrawal carry the filing's version too (filings.forms.VersionedForm)."""
    from filings import services as filing_services
    from filings.models import Filing
    from tests import factories

    institution = two_provinces["institutions"]["changsha"]
    filer = two_provinces["users"]["filer"]
    factories.SiteFactory(institution=institution)
    factories.CmaCertificateFactory(institution=institution)
    filing = factories.make_filing(institution)
    client.force_login(filer)
    version = filing.version
    client.post(reverse("filings:statistics", args=[filing.pk]), {"staff_total": "99"})
    assert Filing.objects.get(pk=filing.pk).version == version
    assert Filing.objects.get(pk=filing.pk).statistics.staff_total != 99
    filing = filing_services.submit_filing(filing, actor=filer, expected_version=filing.version)
    client.post(reverse("filings:withdraw", args=[filing.pk]), {})
    client.post(reverse("filings:withdraw", args=[filing.pk]), {"version": "garbage"})
    assert Filing.objects.get(pk=filing.pk).status == Filing.Status.SUBMITTED
