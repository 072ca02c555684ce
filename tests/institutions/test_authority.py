"""Who reviews an institution: derived from its valid certificates (notice §3(三)), with the institution's choice
when it holds both levels."""
import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from institutions import services
from institutions.authority import derive_reviewing_authority
from institutions.models import Institution, ReviewingAuthority
from tests import factories

pytestmark = pytest.mark.django_db


def certificate(institution, *, national=False, items=100, expired=False):
    kwargs = {"issue_date": datetime.date(2012, 1, 1), "expiry_date": datetime.date(2018, 1, 1)} if expired else {}
    return factories.CmaCertificateFactory(institution=institution, national=national, capability_items=items, **kwargs)


def test_provincial_certificates_only_go_to_the_province():
    institution = factories.InstitutionFactory()
    certificate(institution, items=50)
    certificate(institution, items=70)
    derivation = derive_reviewing_authority(institution)
    assert derivation.authority == ReviewingAuthority.PROVINCE
    assert "仅持有省级" in derivation.reason and not derivation.holds_both_levels


def test_national_certificates_only_go_to_samr():
    institution = factories.InstitutionFactory()
    certificate(institution, national=True)
    derivation = derive_reviewing_authority(institution)
    assert derivation.authority == ReviewingAuthority.SAMR and "仅持有国家级" in derivation.reason


@pytest.mark.parametrize("national_items, provincial_items, expected, words", [
    (300, 200, ReviewingAuthority.SAMR, "国家级证书覆盖的能力项更多"),
    (100, 250, ReviewingAuthority.PROVINCE, "省级证书覆盖的能力项更多"),
    (150, 150, ReviewingAuthority.PROVINCE, "能力项相同"),
])
def test_both_levels_go_to_the_level_covering_more_capability_items(national_items, provincial_items, expected, words):
    institution = factories.InstitutionFactory()
    certificate(institution, national=True, items=national_items)
    certificate(institution, items=provincial_items)
    derivation = derive_reviewing_authority(institution)
    assert derivation.authority == expected and derivation.holds_both_levels
    assert words in derivation.reason


def test_expired_certificates_do_not_count():
    institution = factories.InstitutionFactory()
    certificate(institution, national=True, items=900, expired=True)
    certificate(institution, items=10)
    assert derive_reviewing_authority(institution).authority == ReviewingAuthority.PROVINCE


def test_refresh_stores_the_derived_authority_when_certificates_change():
    institution = factories.InstitutionFactory()
    certificate(institution, items=10)
    services.refresh_reviewing_authority(institution)
    assert Institution.objects.get(pk=institution.pk).reviewing_authority == ReviewingAuthority.PROVINCE
    certificate(institution, national=True, items=500)
    assert services.refresh_reviewing_authority(institution)
    assert Institution.objects.get(pk=institution.pk).reviewing_authority == ReviewingAuthority.SAMR


def test_an_institution_holding_both_levels_may_choose_and_the_choice_is_recorded():
    institution = factories.InstitutionFactory()
    filer = factories.FilerFactory(institution=institution)
    certificate(institution, national=True, items=500)
    certificate(institution, items=100)
    services.refresh_reviewing_authority(institution)
    chosen = services.choose_reviewing_authority(institution, actor=filer, authority=ReviewingAuthority.PROVINCE)
    assert chosen.reviewing_authority == ReviewingAuthority.PROVINCE and chosen.reviewing_authority_chosen
    assert chosen.reviewing_authority_chosen_by == filer and chosen.reviewing_authority_chosen_at
    record = chosen.history.first()
    assert record.history_user == filer and record.history_change_reason == "机构自选审核单位"
    # The choice stands when the certificates change, as long as both levels are held.
    certificate(institution, national=True, items=50)
    services.refresh_reviewing_authority(Institution.objects.get(pk=institution.pk))
    assert Institution.objects.get(pk=institution.pk).reviewing_authority == ReviewingAuthority.PROVINCE


def test_the_choice_lapses_when_the_institution_no_longer_holds_both_levels():
    institution = factories.InstitutionFactory()
    filer = factories.FilerFactory(institution=institution)
    national = certificate(institution, national=True, items=500)
    certificate(institution, items=100)
    services.choose_reviewing_authority(institution, actor=filer, authority=ReviewingAuthority.PROVINCE)
    national.delete()
    certificate(institution, national=True, items=700, expired=True)
    services.refresh_reviewing_authority(Institution.objects.get(pk=institution.pk))
    institution.refresh_from_db()
    assert institution.reviewing_authority == ReviewingAuthority.PROVINCE and not institution.reviewing_authority_chosen


def test_an_institution_with_one_level_cannot_choose():
    institution = factories.InstitutionFactory()
    filer = factories.FilerFactory(institution=institution)
    certificate(institution, items=100)
    with pytest.raises(ValidationError, match="同时持有"):
        services.choose_reviewing_authority(institution, actor=filer, authority=ReviewingAuthority.SAMR)
    assert Institution.objects.get(pk=institution.pk).reviewing_authority == ReviewingAuthority.PROVINCE


def test_only_the_institutions_own_filer_may_choose():
    institution = factories.InstitutionFactory()
    certificate(institution, national=True)
    certificate(institution)
    for outsider in (factories.FilerFactory(), factories.ProvincialReviewerFactory(), factories.CityOfficerFactory()):
        with pytest.raises(PermissionDenied):
            services.choose_reviewing_authority(institution, actor=outsider, authority=ReviewingAuthority.SAMR)
