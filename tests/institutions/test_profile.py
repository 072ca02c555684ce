"""The profile page and self-service editing: who sees what, who may change it, bad input saves nothing, and the
history of who changed what."""
import pytest
from django.urls import reverse

from institutions import services
from institutions.models import CertificateLevel, CmaCertificate, Institution, ReviewingAuthority, Site
from tests import factories

pytestmark = pytest.mark.django_db


def detail(institution):
    return reverse("institutions:detail", args=[institution.pk])


@pytest.mark.parametrize("role, sees", [
    ("filer", {"changsha"}),
    ("city_officer", {"changsha", "changsha2"}),
    ("provincial_reviewer", {"changsha", "changsha2", "zhuzhou"}),
    ("hubei_reviewer", {"wuhan"}),
    ("samr_reviewer", {"changsha", "changsha2", "zhuzhou", "wuhan"}),
    ("admin", {"changsha", "changsha2", "zhuzhou", "wuhan"}),
])
def test_each_role_sees_exactly_the_profiles_in_its_scope(client, two_provinces, role, sees):
    client.force_login(two_provinces["users"][role])
    for key, institution in two_provinces["institutions"].items():
        response = client.get(detail(institution))
        assert response.status_code == (200 if key in sees else 404), (role, key)


@pytest.mark.parametrize("role, count", [
    ("city_officer", 2), ("provincial_reviewer", 3), ("hubei_reviewer", 1), ("samr_reviewer", 4), ("admin", 4),
])
def test_the_list_shows_only_institutions_in_scope(client, two_provinces, role, count):
    client.force_login(two_provinces["users"][role])
    response = client.get(reverse("institutions:list"))
    assert response.status_code == 200
    assert response.context["page"].paginator.count == count


def test_a_filer_is_sent_from_the_list_to_its_own_profile(client, two_provinces):
    client.force_login(two_provinces["users"]["filer"])
    assert client.get(reverse("institutions:list"))["Location"] == reverse("institutions:mine")
    response = client.get(reverse("institutions:mine"))
    assert response.context["institution"] == two_provinces["institutions"]["changsha"]


def test_regulators_see_the_profile_read_only(client, two_provinces):
    institution = two_provinces["institutions"]["changsha"]
    for role in ("city_officer", "provincial_reviewer", "samr_reviewer"):
        client.force_login(two_provinces["users"][role])
        page = client.get(detail(institution))
        assert page.status_code == 200 and reverse("institutions:edit", args=[institution.pk]) not in page.text
        assert client.get(reverse("institutions:edit", args=[institution.pk])).status_code == 403
        response = client.post(reverse("institutions:edit_section", args=[institution.pk, "sites"]), {})
        assert response.status_code == 403


def test_a_filer_cannot_open_another_institutions_forms(client, two_provinces):
    client.force_login(two_provinces["users"]["filer"])
    other = two_provinces["institutions"]["changsha2"]
    assert client.get(reverse("institutions:edit", args=[other.pk])).status_code == 404
    assert client.post(reverse("institutions:edit_section", args=[other.pk, "certificates"]), {}).status_code == 404


def current_version(institution):
    return services.version_of(Institution.objects.get(pk=institution.pk))


def profile_data(institution=None, **overrides):
    """A complete profile POST, carrying the institution's current version (the form's hidden field)."""
    data = {
        "registered_address": "湖南省长沙市岳麓区麓谷大道1号",
        "division_code": "430104", "established_year": "2010", "nature": "enterprise", "legal_status": "independent",
        "ownership": "private", "professional_fields": ["1"], "contact_person": "李娜",
        "contact_phone": "0731-88880000", "contact_email": "lab@example.com", "cnas_number": "CNAS L1234",
    }
    if institution is not None:
        data["version"] = current_version(institution)
    data.update(overrides)
    return data


def test_filer_edits_the_profile_and_the_history_shows_who_changed_what(client, two_provinces):
    from institutions.models import ProfessionalField

    filer = two_provinces["users"]["filer"]
    institution = two_provinces["institutions"]["changsha"]
    client.force_login(filer)
    field = ProfessionalField.objects.get(code="03")
    response = client.post(reverse("institutions:edit", args=[institution.pk]),
                           profile_data(institution, professional_fields=[str(field.pk)], contact_person="赵强"))
    assert response.status_code == 302
    institution.refresh_from_db()
    assert institution.contact_person == "赵强" and list(institution.professional_fields.all()) == [field]
    assert institution.history.first().history_user == filer
    page = client.get(detail(institution)).text
    assert "联系人：（空） → 赵强" in page and filer.first_name in page
    assert "专业领域：（空） → 建筑工程" in page


@pytest.mark.parametrize("overrides, field, message", [
    ({"division_code": "440104"}, "division_code", "应属于长沙市"),
    ({"contact_phone": "电话"}, "contact_phone", "联系电话只能包含"),
    ({"cnas_number": "L12"}, "cnas_number", "CNAS L1234"),
    ({"professional_fields": []}, "professional_fields", "至少勾选一个"),
    ({"established_year": "2999"}, "established_year", "不能晚于今年"),
])
def test_bad_profile_input_gets_a_chinese_message_and_saves_nothing(client, two_provinces, overrides, field, message):
    institution = two_provinces["institutions"]["changsha"]
    client.force_login(two_provinces["users"]["filer"])
    response = client.post(reverse("institutions:edit", args=[institution.pk]), profile_data(institution, **overrides))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert Institution.objects.get(pk=institution.pk).contact_person == ""


def formset_post(prefix, rows, initial=0, institution=None):
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    if institution is not None:
        data["version"] = current_version(institution)
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
    return data


def test_filer_adds_a_national_certificate_and_the_authority_follows(client, two_provinces):
    institution = two_provinces["institutions"]["changsha"]
    factories.CmaCertificateFactory(institution=institution, capability_items=50)
    client.force_login(two_provinces["users"]["filer"])
    existing = institution.cma_certificates.get()
    rows = [
        {"id": str(existing.pk), "number": existing.number, "issue_date": "2021-03-01", "expiry_date": "2027-02-28",
         "capability_items": "50"},
        {"number": "220012010007", "issue_date": "2022-06-01", "expiry_date": "2028-05-31", "capability_items": "300"},
    ]
    response = client.post(reverse("institutions:edit_section", args=[institution.pk, "certificates"]),
                           formset_post("certificates", rows, initial=1, institution=institution))
    assert response.status_code == 302, response.context["formset"].errors
    added = CmaCertificate.objects.get(number="220012010007")
    assert added.level == CertificateLevel.NATIONAL and added.issuer.code == "00"
    institution.refresh_from_db()
    assert institution.reviewing_authority == ReviewingAuthority.SAMR
    page = client.get(detail(institution)).text
    assert "国家级证书覆盖的能力项更多" in page and "新增 资质认定证书 220012010007" in page


@pytest.mark.parametrize("row, field, message", [
    ({"number": "22001201000", "issue_date": "2022-06-01", "expiry_date": "2028-05-31"}, "number", "12位数字"),
    ({"number": "229912010007", "issue_date": "2022-06-01", "expiry_date": "2028-05-31"}, "number", "第3-4位"),
    ({"number": "220012010007", "issue_date": "2022-06-01", "expiry_date": "2022-05-31"}, "expiry_date",
     "必须晚于发证日期"),
])
def test_a_bad_certificate_is_refused_and_nothing_in_the_formset_is_saved(client, two_provinces, row, field, message):
    institution = two_provinces["institutions"]["changsha"]
    client.force_login(two_provinces["users"]["filer"])
    good = {"number": "211801060001", "issue_date": "2021-03-01", "expiry_date": "2027-02-28", "capability_items": "10"}
    response = client.post(reverse("institutions:edit_section", args=[institution.pk, "certificates"]),
                           formset_post("certificates", [good, {**row, "capability_items": "5"}]))
    assert response.status_code == 200
    assert message in " ".join(response.context["formset"].forms[1].errors[field])
    assert not CmaCertificate.objects.exists()


def test_sites_need_at_least_one_and_deleting_the_last_is_refused(client, two_provinces):
    institution = two_provinces["institutions"]["changsha"]
    site = factories.SiteFactory(institution=institution)
    client.force_login(two_provinces["users"]["filer"])
    url = reverse("institutions:edit_section", args=[institution.pk, "sites"])
    deleted = {"id": str(site.pk), "address": site.address, "DELETE": "on"}
    response = client.post(url, formset_post("sites", [deleted], 1, institution))
    assert response.status_code == 200 and "至少要保留一个" in str(response.context["formset"].non_form_errors())
    assert Site.objects.filter(pk=site.pk).exists()
    response = client.post(url, formset_post("sites", [
        {"id": str(site.pk), "address": site.address},
        {"address": "湖南省长沙市雨花区环保中路8号", "postal_code": "410007"},
    ], 1, institution))
    assert response.status_code == 302 and institution.sites.count() == 2


def test_the_profile_warns_when_the_institution_cannot_file_yet(client, two_provinces):
    institution = two_provinces["institutions"]["changsha"]
    client.force_login(two_provinces["users"]["filer"])
    page = client.get(detail(institution)).text
    assert "至少要有一个检验检测场所" in page and "有效的资质认定证书或其他法定资质" in page
    factories.SiteFactory(institution=institution)
    factories.CmaCertificateFactory(institution=institution)
    assert "暂不能提交年度填报" not in client.get(detail(institution)).text


def test_the_filer_chooses_the_authority_on_the_profile_page(client, two_provinces):
    institution = two_provinces["institutions"]["changsha"]
    factories.CmaCertificateFactory(institution=institution, capability_items=50)
    factories.CmaCertificateFactory(institution=institution, national=True, capability_items=500)
    client.force_login(two_provinces["users"]["filer"])
    assert 'data-testid="authority-form"' in client.get(detail(institution)).text
    client.post(reverse("institutions:choose_authority", args=[institution.pk]), {"authority": "province"})
    institution.refresh_from_db()
    assert institution.reviewing_authority == ReviewingAuthority.PROVINCE and institution.reviewing_authority_chosen
    assert "机构自选" in client.get(detail(institution)).text


def test_the_decoder_endpoint_explains_a_number(client, two_provinces):
    client.force_login(two_provinces["users"]["filer"])
    data = client.get(reverse("institutions:decode_cma"), {"number": "211801060001"}).json()
    assert data["ok"] and data["issuer"] == "湖南省市场监督管理局" and data["level_label"] == "省级"
    data = client.get(reverse("institutions:decode_cma"), {"number": "abc"}).json()
    assert not data["ok"] and "12位数字" in data["error"]


def test_the_profile_page_issues_the_same_number_of_queries_for_few_or_many_rows(client, two_provinces):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    institution = two_provinces["institutions"]["changsha"]
    filer = two_provinces["users"]["filer"]
    client.force_login(filer)

    def add_rows(count):
        for _ in range(count):
            factories.SiteFactory(institution=institution)
            factories.CmaCertificateFactory(institution=institution)
        client.post(reverse("institutions:edit", args=[institution.pk]),
                    profile_data(institution, registered_address=f"湖南省长沙市岳麓区麓谷大道{count}号",
                                 contact_person=f"联系人{count}"))

    def count_queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(detail(institution)).status_code == 200
        return len(captured)

    add_rows(1)
    few = count_queries()
    add_rows(6)
    add_rows(2)
    assert count_queries() == few


def test_a_form_opened_before_someone_else_saved_does_not_overwrite_their_change(client, two_provinces):
    institution = two_provinces["institutions"]["changsha"]
    client.force_login(two_provinces["users"]["filer"])
    stale_version = client.get(reverse("institutions:edit", args=[institution.pk])).context["version"]
    # Meanwhile, in another tab, a site is added.
    site = {"address": "湖南省长沙市雨花区环保中路8号"}
    assert client.post(reverse("institutions:edit_section", args=[institution.pk, "sites"]),
                       formset_post("sites", [site], institution=institution)).status_code == 302
    response = client.post(reverse("institutions:edit", args=[institution.pk]),
                           {**profile_data(contact_person="赵强"), "version": stale_version})
    assert response.status_code == 200 and "被他人修改" in response.text
    assert Institution.objects.get(pk=institution.pk).contact_person == ""
