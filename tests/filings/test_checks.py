"""Every check code: one failing case and one passing case."""
from decimal import Decimal

import pytest

from filings.checks import CHECK_CODES, run_checks
from filings.models import AnnualReport, Filing, FilingStatistics, SocialResponsibilityReport
from tests import factories

pytestmark = pytest.mark.django_db


def codes(filing):
    filing.refresh_from_db()
    return {f.code for f in run_checks(Filing.objects.get(pk=filing.pk))}


def test_a_complete_filing_has_no_findings(filing):
    assert codes(filing) == set()


@pytest.mark.parametrize(
    "code, changes",
    [
        ("E101", {"revenue": None}),
        ("E102", {"staff_master": 9}),
        ("E103", {"staff_no_title": 11}),
        ("E104", {"instruments_imported": 21}),
        ("E105", {"instruments_over_500k": 201}),
        ("E106", {"instrument_value_imported": Decimal("499")}),
        ("E107", {"reports_other": 501}),
        ("E108", {"patents_invention": 5}),
        ("E109", {"standards_industry_lead": 3}),
        ("E111", {"public_income_total": Decimal("10"), "public_income_subsidy": Decimal("11")}),
        ("E112", {"public_income_total": Decimal("10"), "public_income_service": Decimal("6"),
                  "public_income_business": Decimal("5")}),
        ("W210", {"reports_total": 0, "reports_enforcement": 0, "reports_commissioned": 0, "reports_other": 0}),
        ("W211", {"revenue": Decimal("0")}),
    ],
)
def test_statistics_check_fails_then_passes(filing, code, changes):
    stats = filing.statistics
    original = {field: getattr(stats, field) for field in changes}
    FilingStatistics.objects.filter(pk=stats.pk).update(**changes)
    found = [f for f in run_checks(Filing.objects.get(pk=filing.pk)) if f.code == code]
    assert found, f"{code} not raised"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in f.message) for f in found)
    assert found[0].field.startswith("statistics.")
    FilingStatistics.objects.filter(pk=stats.pk).update(**original)
    assert code not in codes(filing)


@pytest.mark.parametrize("code, field", [("W201", "staff_total"), ("W202", "revenue"), ("W203", "reports_total"),
                                         ("W204", "instruments_total")])
def test_year_on_year_warning_against_last_approved_filing(filing, code, field):
    last_year = factories.ReportingYearFactory(year=filing.year.year - 1)
    previous = factories.make_filing(filing.institution, year=last_year, status=Filing.Status.APPROVED)
    value = getattr(previous.statistics, field)
    FilingStatistics.objects.filter(pk=previous.statistics.pk).update(**{field: value * 3})
    found = [f for f in run_checks(Filing.objects.get(pk=filing.pk)) if f.code == code]
    assert found and "50%" in found[0].message
    # Within 50 % it passes; and a previous filing that is not approved does not count.
    FilingStatistics.objects.filter(pk=previous.statistics.pk).update(**{field: value * Decimal("1.4")})
    assert code not in codes(filing)
    FilingStatistics.objects.filter(pk=previous.statistics.pk).update(**{field: value * 3})
    Filing.objects.filter(pk=previous.pk).update(status=Filing.Status.RETURNED)
    assert code not in codes(filing)


@pytest.mark.parametrize("field", ["compliance", "conduct", "activities"])
def test_annual_report_required_sections(filing, field):
    AnnualReport.objects.filter(filing=filing).update(**{field: "  "})
    assert "E120" in codes(filing)
    AnnualReport.objects.filter(filing=filing).update(**{field: "已填写"})
    assert "E120" not in codes(filing)


def test_optional_fourth_section_is_not_required(filing):
    AnnualReport.objects.filter(filing=filing).update(achievements="")
    assert codes(filing) == set()


def test_no_site_and_no_valid_certificate(filing):
    filing.institution.sites.all().delete()
    assert "E130" in codes(filing)
    factories.SiteFactory(institution=filing.institution)
    assert "E130" not in codes(filing)
    filing.institution.cma_certificates.update(expiry_date="2024-12-31", issue_date="2020-01-01")
    assert "E131" in codes(filing)  # expired before the reporting year 2025
    filing.institution.cma_certificates.update(expiry_date="2025-06-30")
    assert "E131" not in codes(filing)


def test_established_after_the_reporting_year(filing):
    type(filing.institution).objects.filter(pk=filing.institution_id).update(established_year=filing.year.year + 1)
    assert "E132" in codes(filing)
    type(filing.institution).objects.filter(pk=filing.institution_id).update(established_year=filing.year.year)
    assert "E132" not in codes(filing)


def _sr_report(filing, **values):
    centre = factories.NationalCentreFactory(lead_institution=filing.institution)
    complete = dict(director_name="张主任", director_mobile="13800000000", quality_manager_name="李质量",
                    staff_total=40, staff_management=5, staff_testing=30, staff_auxiliary=5,
                    contribution="服务产业升级。", responsibility="履行社会责任。")
    return SocialResponsibilityReport.objects.create(filing=filing, centre=centre, **{**complete, **values})


def test_social_responsibility_report_checks(filing):
    report = _sr_report(filing, director_name="", instruments=10, instruments_imported=11, staff_auxiliary=6)
    assert {"E140", "E141", "E142"} <= codes(filing)
    SocialResponsibilityReport.objects.filter(pk=report.pk).update(
        director_name="张主任", instruments_imported=2, staff_auxiliary=5
    )
    assert codes(filing) == set()


def test_every_code_is_documented_and_tested():
    from pathlib import Path

    source = Path(__file__).read_text(encoding="utf-8")
    for code in CHECK_CODES:
        assert f'"{code}"' in source, f"no test names {code}"


def test_derived_figures_are_computed(filing):
    stats = filing.statistics
    assert not stats.is_above_scale and stats.is_small_micro
    stats.revenue, stats.staff_total = Decimal("1000"), 100
    assert stats.is_above_scale and not stats.is_small_micro
