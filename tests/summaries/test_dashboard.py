"""The dashboard shows figures of the user's scope only; they are computed independently here."""
import json

import pytest
from django.urls import reverse

from institutions.models import Institution, ProfessionalField
from tests import factories


def _figures(response):
    body = response.content.decode()
    raw = body.split('id="dashboard-figures" type="application/json">')[1].split("</script>")[0]
    return json.loads(raw)


@pytest.fixture
def population(two_provinces):
    food, water = ProfessionalField.objects.get(name="食品及食品接触材料"), ProfessionalField.objects.get(name="水质")
    inst = two_provinces["institutions"]
    inst["changsha"].professional_fields.set([food, water])
    inst["changsha2"].professional_fields.set([food])
    inst["zhuzhou"].professional_fields.set([water])
    Institution.objects.filter(pk=inst["changsha2"].pk).update(nature=Institution.Nature.PUBLIC_INSTITUTION)
    return two_provinces


@pytest.mark.django_db
def test_province_dashboard_counts(client, population):
    client.force_login(population["users"]["provincial_reviewer"])
    figures = _figures(client.get(reverse("summaries:dashboard")))
    assert figures["institution_total"] == 3
    assert dict(figures["by_city"]) == {"长沙市": 2, "株洲市": 1}
    assert dict(figures["by_nature"]) == {"企业": 2, "事业单位": 1, "其他（机关、社会团体等）": 0}
    # An institution counts once in each field it ticked.
    assert dict(figures["top_fields"]) == {"食品及食品接触材料": 2, "水质": 2}


@pytest.mark.django_db
def test_city_officer_cannot_look_at_another_city(client, population):
    client.force_login(population["users"]["city_officer"])
    response = client.get(reverse("summaries:dashboard"), {"region": factories.region("430200").pk})
    assert response.context["region"].name == "长沙市"
    assert _figures(response)["institution_total"] == 2


@pytest.mark.django_db
def test_samr_dashboard_defaults_to_the_nation(client, population):
    client.force_login(population["users"]["samr_reviewer"])
    response = client.get(reverse("summaries:dashboard"))
    assert response.context["region"].name == "全国"
    assert _figures(response)["institution_total"] == 4


@pytest.mark.django_db
def test_filer_has_no_dashboard(client, population):
    client.force_login(population["users"]["filer"])
    assert client.get(reverse("summaries:dashboard")).status_code == 403


@pytest.mark.django_db
def test_dashboard_serves_echarts_locally(client, population):
    client.force_login(population["users"]["admin"])
    body = client.get(reverse("summaries:dashboard")).content.decode()
    assert "/static/vendor/echarts/echarts.min.js" in body and "cdn" not in body.lower()
