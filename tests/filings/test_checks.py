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
    return factories.make_sr_report(filing, **values)


def sr_findings(filing, code):
    return [f for f in run_checks(Filing.objects.get(pk=filing.pk)) if f.code == code]


def test_a_complete_social_responsibility_report_has_no_findings(filing):
    _sr_report(filing)
    assert codes(filing) == set()


def test_social_responsibility_report_checks(filing):
    report = _sr_report(filing, director_name="", instruments=10, instruments_imported=11, staff_auxiliary=6)
    assert {"E140", "E141", "E142"} <= codes(filing)
    SocialResponsibilityReport.objects.filter(pk=report.pk).update(
        director_name="张主任", instruments_imported=2, new_instruments=5, staff_auxiliary=5
    )
    assert codes(filing) == set()


def test_centre_staff_must_partition_into_management_testing_and_auxiliary(filing):
    report = _sr_report(filing, staff_management=5, staff_testing=20, staff_auxiliary=None)
    found = sr_findings(filing, "E141")
    assert len(found) == 1 and "（25）" in found[0].message and "（40）" in found[0].message
    assert found[0].field == f"sr.{report.centre_id}.staff_management"
    SocialResponsibilityReport.objects.filter(pk=report.pk).update(staff_testing=35, staff_auxiliary=None)
    assert "E141" not in codes(filing)  # 辅助人员 only where applicable: blank counts as none


@pytest.mark.parametrize("field, entity_field, value", [
    ("staff_total", "staff_total", 51), ("instruments", "instruments_total", 201),
    ("lab_area", "lab_area", Decimal("2400.01")), ("fixed_assets", "total_assets", Decimal("3300")),
])
def test_a_centre_is_no_larger_than_its_legal_entity(filing, field, entity_field, value):
    extra = {"staff_testing": 41} if field == "staff_total" else {}
    report = _sr_report(filing, **{field: value}, **extra)
    found = sr_findings(filing, "E144")
    assert [f.field for f in found] == [f"sr.{report.centre_id}.{field}"]
    assert "所在法人单位" in found[0].message and str(getattr(filing.statistics, entity_field)) in found[0].message
    SocialResponsibilityReport.objects.filter(pk=report.pk).update(**{field: getattr(filing.statistics, entity_field)})
    assert "E144" not in codes(filing)


@pytest.mark.parametrize("added, stock", [("new_staff", "staff_total"), ("new_instruments", "instruments"),
                                          ("lab_area_added", "lab_area")])
def test_added_staff_instruments_and_area_are_part_of_the_stock(filing, added, stock):
    report = _sr_report(filing)
    SocialResponsibilityReport.objects.filter(pk=report.pk).update(**{added: getattr(report, stock) + 1})
    found = sr_findings(filing, "E145")
    assert [f.field for f in found] == [f"sr.{report.centre_id}.{added}"] and "不能大于" in found[0].message
    SocialResponsibilityReport.objects.filter(pk=report.pk).update(**{added: getattr(report, stock)})
    assert "E145" not in codes(filing)


@pytest.mark.parametrize("field, bad, good", [
    ("research_share", Decimal("100.01"), Decimal("100")), ("commissioned_income_share", Decimal("150"), Decimal("0")),
    ("income_growth", Decimal("-120"), Decimal("250")), ("commissioned_growth", Decimal("-100.5"), Decimal("-100")),
])
def test_percentages_stay_within_their_range(filing, field, bad, good):
    report = _sr_report(filing, **{field: bad})
    found = sr_findings(filing, "E146")
    assert [f.field for f in found] == [f"sr.{report.centre_id}.{field}"]
    SocialResponsibilityReport.objects.filter(pk=report.pk).update(**{field: good})
    assert "E146" not in codes(filing)


def test_certificate_number_must_be_one_of_the_entitys_certificates_valid_in_the_year(filing):
    other = factories.CmaCertificateFactory()  # another institution's certificate
    report = _sr_report(filing, cma_certificate_number=other.number)
    found = sr_findings(filing, "E147")
    assert found and other.number in found[0].message and found[0].field.endswith(".cma_certificate_number")
    expired = factories.CmaCertificateFactory(institution=filing.institution, issue_date="2015-01-01",
                                              expiry_date="2020-12-31")
    SocialResponsibilityReport.objects.filter(pk=report.pk).update(cma_certificate_number=expired.number)
    assert "E147" in codes(filing)
    SocialResponsibilityReport.objects.filter(pk=report.pk).update(
        cma_certificate_number=filing.institution.cma_certificates.first().number)
    assert "E147" not in codes(filing)


@pytest.mark.parametrize("field, bad, good", [
    ("director_mobile", "1380000000", "138 0000 0000"), ("quality_manager_mobile", "0731-88880000", "+86 13900000000"),
    ("quality_manager_phone", "88880000", "(0731)88880000"), ("fax", "0731-888", "0731－88880000-123"),
])
def test_phone_numbers_have_the_format_of_their_kind(filing, field, bad, good):
    report = _sr_report(filing, **{field: bad})
    found = sr_findings(filing, "E148")
    assert [f.field for f in found] == [f"sr.{report.centre_id}.{field}"] and "格式不正确" in found[0].message
    SocialResponsibilityReport.objects.filter(pk=report.pk).update(**{field: good})
    assert "E148" not in codes(filing)


def test_deputy_phone_numbers_are_checked_on_their_fields(filing):
    report = _sr_report(filing, deputies=[{"name": "王副", "phone": "12345", "mobile": "13700000000"}])
    assert [f.field for f in sr_findings(filing, "E148")] == [f"sr.{report.centre_id}.deputy1_phone"]


def test_postal_code_has_six_digits(filing):
    report = _sr_report(filing, postal_code="41020")
    assert [f.field for f in sr_findings(filing, "E149")] == [f"sr.{report.centre_id}.postal_code"]
    SocialResponsibilityReport.objects.filter(pk=report.pk).update(postal_code="410205")
    assert "E149" not in codes(filing)


def test_every_work_count_of_the_year_must_be_reported_zero_included(filing):
    report = _sr_report(filing, ccc_batches=None, proficiency_batches=None, proficiency_organised=1)
    found = sr_findings(filing, "E150")
    prefix = f"sr.{report.centre_id}"
    assert {f.field for f in found} == {f"{prefix}.ccc_batches", f"{prefix}.proficiency_batches"}
    assert "E142" not in codes(filing)  # the missing whole is reported once, by E150
    SocialResponsibilityReport.objects.filter(pk=report.pk).update(ccc_batches=0, proficiency_batches=1)
    assert codes(filing) == set()


def test_a_led_centre_without_a_report_is_an_error_naming_it(filing):
    centre = factories.NationalCentreFactory(lead_institution=filing.institution,
                                             name="国家锂电池质量检验检测中心（湖南）")
    found = sr_findings(filing, "E143")
    assert len(found) == 1 and "国家锂电池质量检验检测中心（湖南）" in found[0].message
    factories.make_sr_report(filing, centre=centre)
    assert codes(filing) == set()


@pytest.mark.parametrize("code, changes", [
    ("E102", ["staff_doctorate", "staff_master", "staff_bachelor", "staff_college_or_below"]),
    ("E103", ["staff_senior_title", "staff_intermediate_title", "staff_junior_title", "staff_no_title"]),
])
def test_staff_splits_left_entirely_blank_are_errors(filing, code, changes):
    FilingStatistics.objects.filter(filing=filing).update(**dict.fromkeys(changes))
    found = [f for f in run_checks(Filing.objects.get(pk=filing.pk)) if f.code == code]
    assert len(found) == 1 and "请填写其分项" in found[0].message and "（50）" not in found[0].message
    FilingStatistics.objects.filter(filing=filing).update(staff_total=0, **dict.fromkeys(
        ["staff_doctorate", "staff_master", "staff_bachelor", "staff_college_or_below", "staff_senior_title",
         "staff_intermediate_title", "staff_junior_title", "staff_no_title"]))
    assert code not in codes(filing)  # no staff, nothing to split


def test_instruments_over_500k_cannot_be_worth_more_than_all_instruments(filing):
    FilingStatistics.objects.filter(filing=filing).update(instruments_over_500k=31)  # 31 × 50 = 1550 > 1500
    found = [f for f in run_checks(Filing.objects.get(pk=filing.pk)) if f.code == "E113"]
    assert len(found) == 1 and "1550" in found[0].message and found[0].field == "statistics.instruments_over_500k"
    FilingStatistics.objects.filter(filing=filing).update(instruments_over_500k=30)
    assert "E113" not in codes(filing)


def test_a_subsidy_larger_than_total_income_is_reported_once(filing):
    FilingStatistics.objects.filter(filing=filing).update(public_income_total=Decimal("10"),
                                                          public_income_subsidy=Decimal("11"))
    found = [f.code for f in run_checks(Filing.objects.get(pk=filing.pk)) if f.code in ("E111", "E112")]
    assert found == ["E111"]


def test_a_missing_total_is_reported_once_not_also_as_a_part_exceeding_it(filing):
    FilingStatistics.objects.filter(filing=filing).update(instruments_total=None)
    found = {f.code for f in run_checks(Filing.objects.get(pk=filing.pk))}
    assert "E101" in found and "E105" not in found


def test_every_code_is_documented_and_tested():
    from pathlib import Path

    # The peer warnings (W221–W224) are tested with their statistics in test_peer_outliers.py.
    source = "".join(Path(__file__).with_name(name).read_text(encoding="utf-8")
                     for name in ("test_checks.py", "test_peer_outliers.py"))
    for code in CHECK_CODES:
        assert f'"{code}"' in source, f"no test names {code}"


def test_derived_figures_are_computed(filing):
    stats = filing.statistics
    assert not stats.is_above_scale and stats.is_small_micro
    stats.revenue, stats.staff_total = Decimal("1000"), 100
    assert stats.is_above_scale and not stats.is_small_micro
