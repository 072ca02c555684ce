"""The reviewing authority has one name wherever it is shown (issue 13 §7): the bureau of the institution's province
by name (湖南省市场监督管理局), or 国家市场监督管理总局 — never the generic 省级市场监督管理局 for one institution."""
import pytest
from django.urls import reverse

from institutions.forms import AuthorityChoiceForm
from institutions.models import Institution, ReviewingAuthority, reviewing_authority_name
from tests import factories


def test_the_name_is_the_provinces_bureau_or_samr(db):
    assert reviewing_authority_name(ReviewingAuthority.PROVINCE, "湖南省") == "湖南省市场监督管理局"
    assert reviewing_authority_name(ReviewingAuthority.SAMR, "湖南省") == "国家市场监督管理总局"
    institution = factories.InstitutionFactory()  # in 长沙市, 湖南省
    assert institution.reviewing_authority_name == "湖南省市场监督管理局"


@pytest.fixture
def institution(db):
    return factories.filing_ready_institution(name="长沙市岳麓检测有限公司")


@pytest.mark.parametrize("page", ["institutions:detail", "institutions:list"])
def test_register_pages_name_the_provincial_bureau(client, institution, page):
    client.force_login(factories.ProvincialReviewerFactory())
    url = reverse(page, args=[institution.pk]) if page == "institutions:detail" else reverse(page)
    body = client.get(url).content.decode()
    assert "湖南省市场监督管理局" in body and "省级市场监督管理局" not in body


def test_profile_names_samr_and_the_choice_names_both_authorities(client, institution):
    Institution.objects.filter(pk=institution.pk).update(reviewing_authority=ReviewingAuthority.SAMR)
    client.force_login(factories.SamrReviewerFactory())
    body = client.get(reverse("institutions:detail", args=[institution.pk])).content.decode()
    assert 'data-testid="authority-value">国家市场监督管理总局' in body
    form = AuthorityChoiceForm(institution=institution)
    assert [label for _, label in form.fields["authority"].choices] == ["湖南省市场监督管理局", "国家市场监督管理总局"]


def test_list_filter_names_the_bureau_of_the_users_province(client, institution):
    client.force_login(factories.CityOfficerFactory())
    body = client.get(reverse("institutions:list")).content.decode()
    assert '<option value="province">湖南省市场监督管理局</option>' in body and "省级市场监督管理局" not in body
    factories.InstitutionFactory(city=factories.CityFactory())  # a city of another province
    client.force_login(factories.SamrReviewerFactory())
    body = client.get(reverse("institutions:list")).content.decode()
    assert '<option value="province">省级市场监督管理局</option>' in body


def test_the_reason_does_not_repeat_the_authoritys_name(client, institution):
    client.force_login(factories.ProvincialReviewerFactory())
    body = client.get(reverse("institutions:detail", args=[institution.pk])).content.decode()
    assert "系统建议：湖南省市场监督管理局。仅持有省级资质认定证书（1 张有效），由省局审核。" in body
