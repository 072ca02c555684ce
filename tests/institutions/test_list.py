"""The institution list: filters, search, paging, and a fixed number of queries whatever the page holds."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from institutions.models import ProfessionalField, ReviewingAuthority
from tests import factories

pytestmark = pytest.mark.django_db


def names(response):
    return {institution.name for institution in response.context["page"]}


@pytest.fixture
def admin_client(client):
    client.force_login(factories.AdminFactory())
    return client


def test_filters_by_city_nature_field_authority_and_level(admin_client):
    zhuzhou = factories.region("430200")
    water = ProfessionalField.objects.get(code="05")
    a = factories.InstitutionFactory(name="长沙水质检测有限公司", nature="enterprise")
    a.professional_fields.add(water)
    b = factories.InstitutionFactory(name="株洲市产品质量检验所", city=zhuzhou, nature="public",
                                     reviewing_authority=ReviewingAuthority.SAMR)
    factories.CmaCertificateFactory(institution=a)
    factories.CmaCertificateFactory(institution=b, national=True)
    factories.CmaCertificateFactory(institution=b)
    url = reverse("institutions:list")
    assert names(admin_client.get(url, {"city": zhuzhou.pk})) == {b.name}
    assert names(admin_client.get(url, {"nature": "public"})) == {b.name}
    assert names(admin_client.get(url, {"field": water.pk})) == {a.name}
    assert names(admin_client.get(url, {"authority": "samr"})) == {b.name}
    assert names(admin_client.get(url, {"level": "provincial"})) == {a.name, b.name}
    assert names(admin_client.get(url, {"level": "national"})) == {b.name}
    assert names(admin_client.get(url, {"level": "both"})) == {b.name}
    shown = admin_client.get(url, {"level": "both"}).context["page"][0]
    assert (shown.national_count, shown.provincial_count, shown.site_count) == (1, 1, 0)


def test_search_by_part_of_the_name_or_the_whole_code(admin_client):
    a = factories.InstitutionFactory(name="湖南楚天环境检测有限公司")
    factories.InstitutionFactory(name="长沙其他检测有限公司")
    url = reverse("institutions:list")
    assert names(admin_client.get(url, {"q": "楚天"})) == {a.name}
    assert names(admin_client.get(url, {"q": a.credit_code.lower()})) == {a.name}


def test_a_city_officer_cannot_filter_into_another_city(client):
    officer = factories.CityOfficerFactory()
    factories.InstitutionFactory(city=factories.region("430200"))
    client.force_login(officer)
    response = client.get(reverse("institutions:list"), {"city": factories.region("430200").pk})
    assert response.status_code == 200 and response.context["page"].paginator.count == 0


def _populate(count):
    field = ProfessionalField.objects.get(code="01")
    for _ in range(count):
        institution = factories.InstitutionFactory()
        institution.professional_fields.add(field)
        factories.SiteFactory(institution=institution)
        factories.CmaCertificateFactory(institution=institution)
        factories.CmaCertificateFactory(institution=institution, national=True)


def _queries(client, params):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("institutions:list"), params)
    assert response.status_code == 200
    return len(captured), len(response.context["page"])


def test_the_list_issues_the_same_number_of_queries_for_3_or_40_rows(admin_client):
    _populate(3)
    few, shown_few = _queries(admin_client, {"level": "national"})
    _populate(37)
    many, shown_many = _queries(admin_client, {"level": "national"})
    assert (shown_few, shown_many) == (3, 40)
    assert few == many
