"""Social responsibility reports follow the register until submission: a centre the entity comes to lead gets its
part, a centre it no longer leads is no longer required (what was typed is kept), and submission is refused while a
led centre has no report. After submission the snapshot is what counts."""
import pytest
from django.urls import reverse

from filings import services
from filings.checks import run_checks
from filings.models import AnnualReport, Filing, FilingStatistics, SocialResponsibilityReport
from filings.workflow import TransitionRefused
from tests import factories
from tests.factories import COMPLETE_SR_REPORT

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, filer):
    client.force_login(filer)
    return client


def sr_post(filing, **changes):
    data = {k: ("" if v is None else str(v)) for k, v in {**COMPLETE_SR_REPORT, **changes}.items()}
    data["cma_certificate_number"] = filing.institution.cma_certificates.first().number
    data["version"] = Filing.objects.get(pk=filing.pk).version
    return data


def overview(filing, user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.get(reverse("filings:overview", args=[filing.pk])).content.decode()


def fresh(filing):
    return Filing.objects.get(pk=filing.pk)


def test_centre_registered_after_the_filing_was_opened_gets_its_part_and_blocks_submission(logged_in, filer, year):
    logged_in.get(reverse("filings:home"))
    filing = Filing.objects.get(institution=filer.institution, year=year)
    # The filing was opened before the centre existed: no part was created then.
    FilingStatistics.objects.filter(filing=filing).update(**factories.COMPLETE_STATISTICS)
    AnnualReport.objects.filter(filing=filing).update(**factories.COMPLETE_ANNUAL_REPORT)
    assert not filing.sr_reports.exists()

    centre = factories.NationalCentreFactory(lead_institution=filer.institution,
                                             name="国家稻米质量检验检测中心（湖南）")
    body = logged_in.get(reverse("filings:overview", args=[filing.pk])).content.decode()
    assert "社会责任报告：国家稻米质量检验检测中心（湖南）" in body

    with pytest.raises(TransitionRefused, match=r"E143.*国家稻米质量检验检测中心"):
        services.submit_filing(fresh(filing), actor=filer, expected_version=fresh(filing).version)
    summary = logged_in.get(reverse("filings:submit", args=[filing.pk])).content.decode()
    assert "E143" in summary and "国家稻米质量检验检测中心（湖南）" in summary

    url = reverse("filings:sr_report", args=[filing.pk, centre.pk])
    assert logged_in.get(url).status_code == 200
    assert logged_in.post(url, sr_post(filing)).status_code == 302
    assert SocialResponsibilityReport.objects.get(filing=filing, centre=centre).director_name == "张主任"

    submitted = services.submit_filing(fresh(filing), actor=filer, expected_version=fresh(filing).version)
    assert submitted.status == Filing.Status.SUBMITTED
    assert [r["centre_id"] for r in submitted.snapshots.first().data["sr_reports"]] == [centre.pk]


def test_a_change_of_lead_entity_moves_the_required_report_and_keeps_what_was_typed(filing, filer):
    centre = factories.NationalCentreFactory(lead_institution=filing.institution,
                                             name="国家陶瓷质量检验检测中心（湖南）")
    typed = factories.make_sr_report(filing, centre=centre, director_name="原主任", ccc_batches=None)
    assert "E150" in {f.code for f in run_checks(fresh(filing))}

    new_lead = factories.filing_ready_institution(name="醴陵陶瓷检测有限公司")
    new_lead_filing = factories.make_filing(new_lead, year=filing.year)
    type(centre).objects.filter(pk=centre.pk).update(lead_institution=new_lead)

    # The old lead: the part is no longer required nor checked, but what was typed stays in the database.
    assert {f.code for f in run_checks(fresh(filing))} == set()
    page = overview(filing, filer)
    assert "本单位已不再牵头“国家陶瓷质量检验检测中心（湖南）”" in page and "社会责任报告：国家陶瓷" not in page
    submitted = services.submit_filing(fresh(filing), actor=filer, expected_version=fresh(filing).version)
    assert submitted.snapshots.first().data["sr_reports"] == []
    assert SocialResponsibilityReport.objects.get(pk=typed.pk).director_name == "原主任"

    # The new lead: its filing, opened before the change, must now carry the centre's report.
    findings = [f for f in run_checks(fresh(new_lead_filing)) if f.code == "E143"]
    assert len(findings) == 1 and "国家陶瓷质量检验检测中心（湖南）" in findings[0].message


def test_the_old_leads_page_for_a_centre_it_no_longer_leads_is_gone_and_a_stale_save_is_refused(logged_in, filing,
                                                                                                 filer):
    centre = factories.NationalCentreFactory(lead_institution=filing.institution)
    report = factories.make_sr_report(filing, centre=centre)
    url = reverse("filings:sr_report", args=[filing.pk, centre.pk])
    assert logged_in.get(url).status_code == 200

    type(centre).objects.filter(pk=centre.pk).update(lead_institution=factories.filing_ready_institution())
    assert logged_in.post(url, sr_post(filing, director_name="改名")).status_code == 404
    # The service refuses it too (a form loaded before the change), and nothing is written.
    report.director_name = "改名"
    with pytest.raises(TransitionRefused, match="已不由本单位牵头"):
        services.save_part(fresh(filing), report, actor=filer, expected_version=fresh(filing).version,
                           data={"director_name": "改名"})
    assert SocialResponsibilityReport.objects.get(pk=report.pk).director_name == "张主任"


def test_a_filer_cannot_create_a_report_for_another_entitys_centre(logged_in, filing):
    other = factories.NationalCentreFactory(lead_institution=factories.filing_ready_institution())
    url = reverse("filings:sr_report", args=[filing.pk, other.pk])
    assert logged_in.get(url).status_code == 404
    assert logged_in.post(url, sr_post(filing)).status_code == 404
    assert not SocialResponsibilityReport.objects.filter(centre=other).exists()


def test_after_submission_the_snapshot_counts_not_the_register(logged_in, filing, filer):
    centre = factories.NationalCentreFactory(lead_institution=filing.institution,
                                             name="国家茶叶质量检验检测中心（湖南）")
    factories.make_sr_report(filing, centre=centre)
    filing = services.submit_filing(fresh(filing), actor=filer, expected_version=fresh(filing).version)

    # The register changes after submission: the centre goes to another entity and a new centre is registered.
    type(centre).objects.filter(pk=centre.pk).update(lead_institution=factories.filing_ready_institution())
    factories.NationalCentreFactory(lead_institution=filing.institution, name="国家辣椒制品质量检验检测中心（湖南）")
    assert {f.code for f in run_checks(fresh(filing))} == set()
    body = logged_in.get(reverse("filings:overview", args=[filing.pk])).content.decode()
    assert "社会责任报告：国家茶叶质量检验检测中心（湖南）" in body and "国家辣椒制品" not in body
    assert logged_in.get(reverse("filings:sr_report", args=[filing.pk, centre.pk])).status_code == 200

    # Withdrawn, the filing follows the register again.
    filing = services.withdraw_filing(fresh(filing), actor=filer, expected_version=fresh(filing).version)
    assert [f.code for f in run_checks(fresh(filing))] == ["E143"]
