"""The filing window and extensions, at their exact boundaries in Asia/Shanghai."""
import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from filings import services
from filings.models import Filing, ReportingYear
from filings.workflow import TransitionRefused
from tests import factories

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args):
    return mock.patch("django.utils.timezone.now", return_value=datetime.datetime(*args, tzinfo=SHANGHAI))


def test_default_window_is_january_to_april_of_the_next_year():
    year = ReportingYear.objects.create(year=2023)
    assert timezone.localtime(year.opens_at).isoformat() == "2024-01-01T00:00:00+08:00"
    assert timezone.localtime(year.closes_at).isoformat() == "2024-04-30T23:59:59+08:00"


@pytest.fixture
def filing_2023(filer):
    year = ReportingYear.objects.create(year=2023)
    return factories.make_filing(filer.institution, year=year)


def save_revenue(filing, filer, value=900):
    filing.refresh_from_db()
    return services.save_part(filing, filing.statistics, actor=filer, expected_version=filing.version,
                              data={"revenue": value})


def test_last_second_in_and_first_second_out(filing_2023, filer):
    with at(2024, 4, 30, 23, 59, 59):
        save_revenue(filing_2023, filer)
    with at(2024, 5, 1, 0, 0, 0), pytest.raises(TransitionRefused, match="截止"):
        save_revenue(filing_2023, filer, 901)
    with at(2024, 5, 1, 0, 0, 0), pytest.raises(TransitionRefused, match="截止"):
        services.submit_filing(Filing.objects.get(pk=filing_2023.pk), actor=filer, expected_version=None)
    filing_2023.statistics.refresh_from_db()
    assert filing_2023.statistics.revenue == 900


def test_before_the_window_opens(filing_2023, filer):
    with at(2023, 12, 31, 23, 59, 59), pytest.raises(TransitionRefused, match="尚未开始"):
        save_revenue(filing_2023, filer)


def test_an_extension_reopens_editing_for_that_institution_only(filing_2023, filer):
    reviewer = factories.ProvincialReviewerFactory()
    other = factories.make_filing(factories.filing_ready_institution(), year=filing_2023.year)
    other_filer = factories.FilerFactory(institution=other.institution)
    with at(2024, 5, 2, 9, 0, 0):
        services.grant_extension(filing_2023.institution, filing_2023.year, actor=reviewer,
                                 until=datetime.datetime(2024, 5, 15, 23, 59, 59, tzinfo=SHANGHAI),
                                 reason="系统故障导致无法按时填报")
        save_revenue(filing_2023, filer)
        with pytest.raises(TransitionRefused):
            save_revenue(other, other_filer)
    with at(2024, 5, 15, 23, 59, 59):
        save_revenue(filing_2023, filer, 950)
    with at(2024, 5, 16, 0, 0, 0), pytest.raises(TransitionRefused):
        save_revenue(filing_2023, filer, 960)


def test_extension_needs_a_reviewer_in_scope_and_a_reason(filing_2023):
    until = timezone.now() + datetime.timedelta(days=5)
    with pytest.raises(PermissionDenied):
        services.grant_extension(filing_2023.institution, filing_2023.year, actor=factories.CityOfficerFactory(),
                                 until=until, reason="x")
    with pytest.raises(PermissionDenied):
        services.grant_extension(filing_2023.institution, filing_2023.year,
                                 actor=factories.ProvincialReviewerFactory(region=factories.region("420000")),
                                 until=until, reason="x")
    with pytest.raises(services.ExtensionRefused, match="原因"):
        services.grant_extension(filing_2023.institution, filing_2023.year,
                                 actor=factories.ProvincialReviewerFactory(), until=until, reason=" ")


def test_a_returned_filing_may_be_corrected_until_its_due_date(filing_2023, filer):
    reviewer = factories.ProvincialReviewerFactory()
    with at(2024, 4, 20, 10, 0, 0):
        filing = services.submit_filing(filing_2023, actor=filer, expected_version=filing_2023.version)
        filing = services.start_review(filing, actor=reviewer)
        services.return_filing(filing, actor=reviewer, expected_version=filing.version, comment="请核对收入",
                               due=datetime.datetime(2024, 5, 20, 23, 59, 59, tzinfo=SHANGHAI))
    with at(2024, 5, 20, 23, 59, 59):
        save_revenue(filing_2023, filer, 870)
    with at(2024, 5, 21, 0, 0, 0), pytest.raises(TransitionRefused):
        save_revenue(filing_2023, filer, 880)
