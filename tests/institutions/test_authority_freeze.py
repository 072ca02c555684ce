"""The reviewing authority is frozen from submission until the decision: the filer's choice, certificate edits, the
admin and the register import cannot move a filing submitted, in review or returned to another authority. The
certificates' authority applies once the filing is approved or withdrawn; every change stays in the history."""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from filings import services as filing_services
from filings.models import Filing
from filings.workflow import TransitionRefused
from institutions import services
from institutions.admin import InstitutionAdminForm
from institutions.models import Institution, ReviewingAuthority
from tests import factories

pytestmark = pytest.mark.django_db
S = Filing.Status


@pytest.fixture
def both_levels():
    """An institution holding both levels (national covers more, so SAMR is proposed) that chose the province."""
    institution = factories.filing_ready_institution()  # one provincial certificate of 120 items
    factories.CmaCertificateFactory(institution=institution, national=True, capability_items=500)
    filer = factories.FilerFactory(institution=institution)
    services.choose_reviewing_authority(institution, actor=filer, authority=ReviewingAuthority.PROVINCE)
    return Institution.objects.get(pk=institution.pk), filer


def submitted(institution, filer):
    filing = factories.make_filing(institution, year=factories.ReportingYearFactory())
    return filing_services.submit_filing(filing, actor=filer, expected_version=filing.version)


def authority(institution):
    return Institution.objects.get(pk=institution.pk).reviewing_authority


@pytest.mark.parametrize("state", ["submitted", "in_review", "returned"])
def test_the_filer_cannot_switch_authority_while_the_filing_is_open(client, both_levels, state):
    institution, filer = both_levels
    filing = submitted(institution, filer)
    reviewer = factories.ProvincialReviewerFactory()
    if state != "submitted":
        filing = filing_services.start_review(filing, actor=reviewer)
    if state == "returned":
        import datetime

        from django.utils import timezone

        filing_services.return_filing(filing, actor=reviewer, expected_version=filing.version, comment="请更正。",
                                      due=timezone.now() + datetime.timedelta(days=5))
    with pytest.raises(ValidationError, match="审核单位自提交起至审核通过前不能更改"):
        services.choose_reviewing_authority(institution, actor=filer, authority=ReviewingAuthority.SAMR)
    client.force_login(filer)
    response = client.post(reverse("institutions:choose_authority", args=[institution.pk]), {"authority": "samr"},
                           follow=True)
    assert "审核单位自提交起至审核通过前不能更改" in response.content.decode()
    assert authority(institution) == ReviewingAuthority.PROVINCE
    page = client.get(reverse("institutions:detail", args=[institution.pk])).content.decode()
    assert 'data-testid="authority-frozen"' in page and 'data-testid="authority-form"' not in page


def test_certificate_edits_while_submitted_keep_the_authority_until_approval(client, two_provinces):
    institution = two_provinces["institutions"]["changsha"]
    factories.SiteFactory(institution=institution)
    existing = factories.CmaCertificateFactory(institution=institution, capability_items=50)
    filer = two_provinces["users"]["filer"]
    filing = submitted(institution, filer)
    client.force_login(filer)
    rows = {"certificates-TOTAL_FORMS": "2", "certificates-INITIAL_FORMS": "1", "certificates-MIN_NUM_FORMS": "0",
            "certificates-MAX_NUM_FORMS": "1000",
            "version": services.version_of(Institution.objects.get(pk=institution.pk)),
            "certificates-0-id": str(existing.pk), "certificates-0-number": existing.number,
            "certificates-0-issue_date": "2021-03-01", "certificates-0-expiry_date": "2027-02-28",
            "certificates-0-capability_items": "50",
            "certificates-1-number": "220012010007", "certificates-1-issue_date": "2022-06-01",
            "certificates-1-expiry_date": "2028-05-31", "certificates-1-capability_items": "300",
            # A hostile extra field: the authority is never a form field.
            "reviewing_authority": "samr"}
    response = client.post(reverse("institutions:edit_section", args=[institution.pk, "certificates"]), rows)
    assert response.status_code == 302
    assert authority(institution) == ReviewingAuthority.PROVINCE  # the national certificate waits for the decision
    province, samr = two_provinces["users"]["provincial_reviewer"], two_provinces["users"]["samr_reviewer"]
    with pytest.raises(TransitionRefused):
        filing_services.start_review(filing, actor=samr)
    filing = filing_services.start_review(filing, actor=province)
    filing_services.approve_filing(filing, actor=province, expected_version=filing.version)
    assert authority(institution) == ReviewingAuthority.SAMR
    record = Institution.objects.get(pk=institution.pk).history.first()
    assert record.reviewing_authority == ReviewingAuthority.SAMR and record.history_user == province


def test_withdrawing_lifts_the_freeze_and_the_choice_works_again(both_levels):
    institution, filer = both_levels
    filing = submitted(institution, filer)
    filing_services.withdraw_filing(filing, actor=filer, expected_version=filing.version)
    services.choose_reviewing_authority(institution, actor=filer, authority=ReviewingAuthority.SAMR)
    assert authority(institution) == ReviewingAuthority.SAMR
    reasons = list(Institution.objects.get(pk=institution.pk).history.values_list("history_change_reason", flat=True))
    assert reasons[:2] == ["恢复系统建议的审核单位", "机构自选审核单位"]


def test_an_admin_refresh_or_import_keeps_the_frozen_authority(both_levels):
    institution, filer = both_levels
    submitted(institution, filer)
    factories.CmaCertificateFactory(institution=institution, national=True, capability_items=900)
    institution.cma_certificates.filter(level="provincial").delete()  # no longer holds both levels
    admin = factories.AdminFactory()
    assert services.refresh_reviewing_authority(Institution.objects.get(pk=institution.pk), actor=admin) is False
    assert authority(institution) == ReviewingAuthority.PROVINCE


def test_the_register_import_neither_moves_the_authority_nor_the_province_of_a_frozen_institution(
    both_levels, on_commit_immediately
):
    from tests.institutions.test_import import confirm, csv_upload, row, upload

    institution, filer = both_levels
    submitted(institution, filer)
    admin = factories.AdminFactory()
    wuhan = factories.CityFactory(code="420100", name="武汉市")
    code_number = next(n for n in range(1000, 5000) if factories.make_credit_code(n) == institution.credit_code)
    job = upload(admin, csv_upload([row(code_number, institution.name, city=wuhan.name)]), on_commit_immediately)
    assert "审核决定作出前不能迁往其他省份" in str(job.errors)
    job = upload(admin, csv_upload([row(code_number, institution.name, cma="230001060999", items="2000")]),
                 on_commit_immediately)
    assert job.errors == [], job.errors
    confirm(job, admin)
    assert institution.cma_certificates.count() == 3
    assert authority(institution) == ReviewingAuthority.PROVINCE


def test_the_admin_cannot_move_a_frozen_institution_to_another_province(both_levels):
    institution, filer = both_levels
    submitted(institution, filer)
    wuhan = factories.CityFactory(code="420100", name="武汉市")
    data = {field: value for field, value in InstitutionAdminForm(instance=institution).initial.items()
            if value is not None}
    data.update(city=wuhan.pk, professional_fields=[])
    form = InstitutionAdminForm(data, instance=Institution.objects.get(pk=institution.pk))
    assert not form.is_valid() and "审核决定作出前不能迁往其他省份" in str(form.errors["city"])
    data.update(city=factories.region("430200").pk)
    form = InstitutionAdminForm(data, instance=Institution.objects.get(pk=institution.pk))
    assert "city" not in form.errors
