"""Each role sees only its own entity's or region's rows: the helper, the home pages and every list."""
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from accounts.scoping import visible_to
from institutions.models import Institution, Region

EXPECTED = {
    "filer": {"changsha"},
    "city_officer": {"changsha", "changsha2"},
    "provincial_reviewer": {"changsha", "changsha2", "zhuzhou"},
    "hubei_reviewer": {"wuhan"},
    "samr_reviewer": {"changsha", "changsha2", "zhuzhou", "wuhan"},
    "admin": {"changsha", "changsha2", "zhuzhou", "wuhan"},
}


def _keys(world, institutions):
    by_pk = {inst.pk: key for key, inst in world["institutions"].items()}
    return {by_pk[inst.pk] for inst in institutions}


@pytest.mark.parametrize("role", EXPECTED)
def test_visible_to_scopes_institutions_by_role(two_provinces, role):
    user = two_provinces["users"][role]
    assert _keys(two_provinces, visible_to(user, Institution)) == EXPECTED[role]


def test_visible_to_narrows_a_given_queryset(two_provinces):
    officer = two_provinces["users"]["city_officer"]
    queryset = Institution.objects.filter(name__contains="乙")
    assert _keys(two_provinces, visible_to(officer, queryset)) == {"changsha2"}


def test_anonymous_and_inactive_users_see_nothing(two_provinces):
    from django.contrib.auth.models import AnonymousUser

    assert not visible_to(AnonymousUser(), Institution).exists()
    admin = two_provinces["users"]["admin"]
    admin.is_active = False
    assert not visible_to(admin, Institution).exists()


def test_a_model_without_scope_lookups_is_refused(two_provinces):
    with pytest.raises(ImproperlyConfigured):
        visible_to(two_provinces["users"]["admin"], Region)


@pytest.mark.parametrize("role", [r for r in EXPECTED if r != "filer"])
def test_institution_list_shows_only_the_roles_rows(client, two_provinces, role):
    client.force_login(two_provinces["users"][role])
    response = client.get(reverse("institutions:list"))
    assert response.status_code == 200
    shown = {inst.name for inst in response.context["page"]}
    assert shown == {two_provinces["institutions"][key].name for key in EXPECTED[role]}
    hidden = set(two_provinces["institutions"]) - EXPECTED[role]
    body = response.content.decode()
    for key in hidden:
        assert two_provinces["institutions"][key].name not in body


def test_institution_list_search_by_name_and_exact_code(client, two_provinces):
    client.force_login(two_provinces["users"]["provincial_reviewer"])
    response = client.get(reverse("institutions:list"), {"q": "株洲"})
    assert [i.name for i in response.context["page"]] == ["株洲丙检测有限公司"]
    code = two_provinces["institutions"]["changsha2"].credit_code
    response = client.get(reverse("institutions:list"), {"q": code})
    assert [i.name for i in response.context["page"]] == ["长沙乙检测有限公司"]
    # Another province's institution is not found by its exact code either.
    response = client.get(reverse("institutions:list"), {"q": two_provinces["institutions"]["wuhan"].credit_code})
    assert list(response.context["page"]) == []


@pytest.mark.parametrize("role", EXPECTED)
def test_institution_detail_is_404_outside_scope(client, two_provinces, role):
    client.force_login(two_provinces["users"][role])
    for key, institution in two_provinces["institutions"].items():
        response = client.get(reverse("institutions:detail", args=[institution.pk]))
        assert response.status_code == (200 if key in EXPECTED[role] else 404), key


def test_filer_is_sent_from_the_list_to_its_own_institution(client, two_provinces):
    client.force_login(two_provinces["users"]["filer"])
    response = client.get(reverse("institutions:list"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("institutions:mine")
    assert response.context["institution"] == two_provinces["institutions"]["changsha"]


def test_mine_is_404_for_regulators(client, two_provinces):
    client.force_login(two_provinces["users"]["city_officer"])
    assert client.get(reverse("institutions:mine")).status_code == 404


@pytest.mark.parametrize("role", EXPECTED)
def test_home_page_figures_are_scoped(client, two_provinces, role):
    client.force_login(two_provinces["users"][role])
    response = client.get(reverse("home"))
    assert response.status_code == 200
    body = response.content.decode()
    if role == "filer":
        assert response.context["institution"] == two_provinces["institutions"]["changsha"]
        assert "长沙甲检测有限公司" in body
    else:
        assert response.context["institution_total"] == len(EXPECTED[role])


def test_province_home_lists_only_its_cities(client, two_provinces):
    client.force_login(two_provinces["users"]["provincial_reviewer"])
    response = client.get(reverse("home"))
    assert {city.name: n for city, n in response.context["by_city"]} == {"长沙市": 2, "株洲市": 1}


def test_samr_home_counts_by_province(client, two_provinces):
    client.force_login(two_provinces["users"]["samr_reviewer"])
    response = client.get(reverse("home"))
    assert dict(response.context["by_province"]) == {"湖南省": 3, "湖北省": 1}


@pytest.mark.parametrize(
    "role, visible, hidden",
    [
        ("filer", ["本单位信息"], ["机构名录", "系统管理"]),
        ("city_officer", ["机构名录"], ["本单位信息", "系统管理"]),
        ("provincial_reviewer", ["机构名录"], ["本单位信息", "系统管理"]),
        ("admin", ["机构名录", "系统管理"], ["本单位信息"]),
    ],
)
def test_navigation_shows_what_the_role_may_do(client, two_provinces, role, visible, hidden):
    client.force_login(two_provinces["users"][role])
    nav = client.get(reverse("home")).content.decode().split("<nav")[1].split("</nav>")[0]
    for label in visible:
        assert label in nav
    for label in hidden:
        assert label not in nav


def test_list_uses_a_fixed_number_of_queries(client, two_provinces, django_assert_max_num_queries):
    from tests.factories import InstitutionFactory

    client.force_login(two_provinces["users"]["admin"])
    client.get(reverse("institutions:list"))  # warm the session
    with django_assert_max_num_queries(6) as few:
        client.get(reverse("institutions:list"))
    InstitutionFactory.create_batch(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("institutions:list"))


