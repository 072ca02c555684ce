"""seed_demo's filings: years 2022 and 2023, a realistic mix of 2023 states, figures that pass every check, and the
history and snapshots the state machine would have written."""
import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from filings.checks import check_statistics
from filings.models import Filing, FilingSnapshot, FilingTransition, ReportingYear
from filings.selectors import previous_approved_statistics

S = Filing.Status
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seeded once for the module, inside a transaction rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", institutions=300, seed=11)
        yield
        transaction.set_rollback(True)


def test_demo_has_a_closed_2022_and_an_open_2023(seeded):
    previous, current = ReportingYear.objects.get(year=2022), ReportingYear.objects.get(year=2023)
    assert not previous.window_is_open()
    assert current.window_is_open()
    assert set(Filing.objects.filter(year=previous).values_list("status", flat=True)) == {S.APPROVED}


def test_demo_2023_holds_every_state_and_institutions_not_started(seeded):
    filings = Filing.objects.filter(year__year=2023)
    assert set(filings.values_list("status", flat=True)) == set(S.values)
    assert 0 < filings.count() < 300


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
