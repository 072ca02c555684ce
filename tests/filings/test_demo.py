"""seed_demo's filings: years 2022 and 2023, a realistic mix of 2023 states, figures that pass every check, and the
history and snapshots the state machine would have written."""
import pytest
from django.utils import timezone

from filings.checks import check_statistics
from filings.models import Filing, FilingSnapshot, FilingTransition, ReportingYear
from filings.selectors import previous_approved_statistics

S = Filing.Status
pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(demo_data):
    """seed_demo's 300 institutions (seed 11), seeded once for every demo-data test (tests/conftest.py)."""
    return demo_data


def test_demo_has_a_closed_2022_and_an_open_2023(seeded):
    previous, current = ReportingYear.objects.get(year=2022), ReportingYear.objects.get(year=2023)
    assert not previous.window_is_open()
    assert current.window_is_open()
    assert set(Filing.objects.filter(year=previous).values_list("status", flat=True)) == {S.APPROVED}


def test_demo_2023_holds_every_state_and_institutions_not_started(seeded):
    filings = Filing.objects.filter(year__year=2023)
    assert set(filings.values_list("status", flat=True)) == set(S.values)
    assert 0 < filings.count() < seeded.institutions


def test_demo_figures_pass_every_check_and_jumps_are_explained(seeded):
    for filing in Filing.objects.select_related("statistics", "year", "institution"):
        findings = check_statistics(filing.statistics, previous_approved_statistics(filing))
        assert not [f for f in findings if f.is_error], (filing, findings)
        if filing.status != S.DRAFT:
            explained = set(filing.explanations.values_list("code", flat=True))
            assert {f.code for f in findings} <= explained


def test_demo_history_matches_each_state(seeded):
    for filing in Filing.objects.exclude(status=S.DRAFT):
        actions = list(FilingTransition.objects.filter(filing=filing).values_list("action", flat=True))
        assert actions[0] == "submit" and FilingSnapshot.objects.filter(filing=filing).count() == 1
        assert (filing.status == S.RETURNED) == ("return_for_correction" in actions)
        if filing.status == S.RETURNED:
            assert filing.correction_due > timezone.now()
    assert not FilingTransition.objects.filter(filing__status=S.DRAFT).exists()


def test_demo_filer_starts_this_years_filing_themselves(seeded):
    from accounts.models import User

    filer = User.objects.get(username="filer")
    assert not Filing.objects.filter(institution=filer.institution, year__year=2023).exists()


def test_demo_review_data_field_comments_and_chasing_log(seeded):
    from review.models import ChasingRecord, FieldComment

    returned = Filing.objects.filter(year__year=2023, status=S.RETURNED)
    assert set(FieldComment.objects.values_list("filing", flat=True)) == set(returned.values_list("pk", flat=True))
    records = ChasingRecord.objects.select_related("recorded_by__region", "institution__city")
    assert records.exists()
    assert all(r.recorded_by.region == r.institution.city for r in records)
    assert not records.filter(institution__filings__year__year=2023, institution__filings__status=S.APPROVED).exists()


def test_every_handed_in_demo_filing_passes_every_check_and_every_warning_is_explained(seeded):
    """Not only the statistics: the institution checks (founding year, sites, certificates), the annual report and
    the social responsibility reports of the centres each institution leads."""
    from filings.checks import run_checks

    handed_in = Filing.objects.exclude(status=S.DRAFT).select_related("institution__city", "year", "statistics",
                                                                      "annual_report")
    with_centres = 0
    for filing in handed_in:
        findings = run_checks(filing)
        assert not [f for f in findings if f.is_error], (filing, [f for f in findings if f.is_error])
        explained = {code for code, text in filing.explanations.values_list("code", "text") if text.strip()}
        assert {f.code for f in findings} <= explained, filing
        with_centres += filing.sr_reports.exists()
    assert with_centres, "the demo should show at least one handed-in social responsibility report"


def test_demo_institutions_are_founded_no_later_than_the_years_they_file_for(seeded):
    for filing in Filing.objects.select_related("institution", "year"):
        assert filing.institution.established_year <= filing.year.year, filing


def test_demo_filer_can_complete_and_submit_this_years_filing(seeded):
    """The demo filer opens 2023, fills every part (its centres' reports too), explains the warnings and submits."""
    import random

    from accounts.models import User
    from filings import services
    from filings.checks import run_checks
    from filings.demo import ANNUAL_REPORT_TEXT, demo_sr_report, demo_statistics
    from filings.models import SocialResponsibilityReport
    from filings.selectors import sr_reports_in_force

    filer = User.objects.get(username="filer")
    filing = services.open_filing(filer.institution, ReportingYear.objects.get(year=2023), actor=filer)
    assert not [f for f in run_checks(filing) if f.field == "institution"]

    values = demo_statistics(random.Random(1), filer.institution.nature)
    filing = services.save_part(filing, filing.statistics, actor=filer, expected_version=filing.version, data=values)
    filing = services.save_part(filing, filing.annual_report, actor=filer, expected_version=filing.version,
                                data=ANNUAL_REPORT_TEXT)
    for centre, report in sr_reports_in_force(filing):
        typed = demo_sr_report(filing, centre, values)
        data = {f.name: getattr(typed, f.name) for f in SocialResponsibilityReport._meta.concrete_fields
                if f.name not in ("id", "filing", "centre", "document")}
        filing = services.save_part(filing, report or SocialResponsibilityReport(filing=filing, centre=centre),
                                    actor=filer, expected_version=filing.version, data=data)
    filing = Filing.objects.get(pk=filing.pk)
    warnings = {f.code: "已核对。" for f in run_checks(filing) if not f.is_error}
    filing = services.save_explanations(filing, actor=filer, expected_version=filing.version, explanations=warnings)
    filing = services.submit_filing(filing, actor=filer, expected_version=filing.version)
    assert filing.status == S.SUBMITTED
