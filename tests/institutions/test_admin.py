"""The admin site: accepting a pilot-region credit code with a recorded reason, and certificates edited there keep
the reviewing authority in step."""
import pytest
from django.urls import reverse

from institutions.models import Institution, ReviewingAuthority
from tests import factories

pytestmark = pytest.mark.django_db

BAD_CHECK = "91350100M000100Y44"


def change_form(institution, **overrides):
    data = {
        "name": institution.name, "credit_code": institution.credit_code, "city": institution.city_id,
        "nature": "enterprise", "legal_status": "independent", "ownership": "private",
        "credit_code_override_reason": "", "cnas_number": "", "division_code": "",
    }
    for prefix in ("sites", "cma_certificates", "other_qualifications"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0",
                     f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})
    data.update(overrides)
    return data


def test_admin_accepts_a_bad_check_character_only_with_a_reason_and_records_who(client):
    admin = factories.AdminFactory()
    institution = factories.InstitutionFactory()
    client.force_login(admin)
    url = reverse("admin:institutions_institution_change", args=[institution.pk])
    response = client.post(url, change_form(institution, credit_code=BAD_CHECK))
    assert response.status_code == 200 and "校验位错误" in response.text
    response = client.post(url, change_form(institution, credit_code=BAD_CHECK,
                                            credit_code_override_reason="早期试点代码，经登记机关书面确认"))
    assert response.status_code == 302
    institution.refresh_from_db()
    assert institution.credit_code == BAD_CHECK and institution.credit_code_override_by == admin


def test_a_certificate_added_in_the_admin_updates_the_authority(client):
    client.force_login(factories.AdminFactory())
    institution = factories.InstitutionFactory()
    url = reverse("admin:institutions_institution_change", args=[institution.pk])
    response = client.post(url, change_form(institution, **{
        "cma_certificates-TOTAL_FORMS": "1", "cma_certificates-0-number": "220001060009",
        "cma_certificates-0-issue_date": "2022-01-01", "cma_certificates-0-expiry_date": "2028-01-01",
        "cma_certificates-0-capability_items": "30",
    }))
    assert response.status_code == 302, response.text[:3000]
    institution = Institution.objects.get(pk=institution.pk)
    assert institution.cma_certificates.get().level == "national"
    assert institution.reviewing_authority == ReviewingAuthority.SAMR
