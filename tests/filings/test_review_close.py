"""The review close defaults to the window's close (the notice: submitted *and approved* by the end of April); the
admin may extend it; a filing the filer could submit later (extension, correction due date) can still be decided
for 30 days after that date (ADR 0013)."""
import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from filings import services
from filings.admin import ReportingYearForm
from filings.models import Filing, ReportingYear
from filings.workflow import LATE_REVIEW_PERIOD, TransitionRefused, decision_deadline
from tests import factories

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args):
    return mock.patch("django.utils.timezone.now", return_value=datetime.datetime(*args, tzinfo=SHANGHAI))


def moment(*args):
    return datetime.datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def filing_2023(filer):
    return factories.make_filing(filer.institution, year=ReportingYear.objects.create(year=2023))


def fresh(filing):
    return Filing.objects.get(pk=filing.pk)


def test_review_closes_with_the_window_by_default():
    year = ReportingYear.objects.create(year=2023)
    assert timezone.localtime(year.review_closes_at).isoformat() == "2024-04-30T23:59:59+08:00"
    assert year.review_closes_at == year.closes_at


def test_the_admin_may_leave_the_dates_blank_extend_the_review_but_not_end_it_before_the_window():
    form = ReportingYearForm(data={"year": 2023})
    assert form.is_valid(), form.errors
    year = form.save()
    assert year.review_closes_at == year.closes_at == moment(2024, 4, 30, 23, 59, 59)

    later_close = {"closes_at": "2025-05-31 23:59:59"}
    form = ReportingYearForm(data={"year": 2024, **later_close})
    assert form.is_valid(), form.errors
    assert form.save().review_closes_at == moment(2025, 5, 31, 23, 59, 59)  # follows the window's close

    extended = {"review_closes_at": "2024-06-30 23:59:59"}
    form = ReportingYearForm(data={"year": 2023, **extended}, instance=year)
    assert form.is_valid(), form.errors
    assert form.save().review_closes_at == moment(2024, 6, 30, 23, 59, 59)

    too_early = {"review_closes_at": "2024-04-01 00:00:00"}
    form = ReportingYearForm(data={"year": 2023, **too_early}, instance=ReportingYear.objects.get(year=2023))
    assert not form.is_valid() and "审核截止时间不能早于填报截止时间" in str(form.errors)
    assert ReportingYear.objects.get(year=2023).review_closes_at == moment(2024, 6, 30, 23, 59, 59)


def test_a_filing_submitted_under_an_extension_can_be_decided_after_the_review_close(filing_2023, filer):
    reviewer = factories.ProvincialReviewerFactory()
    until = moment(2024, 5, 20, 23, 59, 59)
    with at(2024, 5, 2, 9, 0, 0):
        services.grant_extension(filing_2023.institution, filing_2023.year, actor=reviewer, until=until,
                                 reason="系统故障导致无法按时填报")
    with at(2024, 5, 20, 22, 0, 0):
        services.submit_filing(fresh(filing_2023), actor=filer, expected_version=fresh(filing_2023).version)
    assert decision_deadline(fresh(filing_2023)) == until + LATE_REVIEW_PERIOD
    with at(2024, 6, 19, 23, 59, 59):
        filing = services.start_review(fresh(filing_2023), actor=reviewer)
        services.approve_filing(filing, actor=reviewer, expected_version=filing.version)
    assert fresh(filing_2023).status == Filing.Status.APPROVED


def test_the_late_review_period_ends_too(filing_2023, filer):
    reviewer = factories.ProvincialReviewerFactory()
    with at(2024, 5, 2, 9, 0, 0):
        services.grant_extension(filing_2023.institution, filing_2023.year, actor=reviewer,
                                 until=moment(2024, 5, 20, 23, 59, 59), reason="系统故障")
        services.submit_filing(fresh(filing_2023), actor=filer, expected_version=fresh(filing_2023).version)
    with at(2024, 6, 20, 0, 0, 0), pytest.raises(TransitionRefused, match="审核已于2024年06月19日 23:59截止"):
        services.start_review(fresh(filing_2023), actor=reviewer)
    assert fresh(filing_2023).status == Filing.Status.SUBMITTED


def test_a_filing_corrected_after_the_review_close_can_still_be_decided(filing_2023, filer):
    reviewer = factories.ProvincialReviewerFactory()
    with at(2024, 4, 25, 10, 0, 0):
        filing = services.submit_filing(filing_2023, actor=filer, expected_version=filing_2023.version)
        filing = services.start_review(filing, actor=reviewer)
        services.return_filing(filing, actor=reviewer, expected_version=filing.version, comment="请核对收入",
                               due=moment(2024, 5, 10, 23, 59, 59))
    with at(2024, 5, 10, 12, 0, 0):
        services.submit_filing(fresh(filing_2023), actor=filer, expected_version=fresh(filing_2023).version)
        filing = services.start_review(fresh(filing_2023), actor=reviewer)
        services.approve_filing(filing, actor=reviewer, expected_version=filing.version)
    assert fresh(filing_2023).status == Filing.Status.APPROVED


def test_an_ordinary_filing_is_not_decided_after_the_review_close(filing_2023, filer):
    reviewer = factories.ProvincialReviewerFactory()
    with at(2024, 4, 30, 12, 0, 0):
        services.submit_filing(filing_2023, actor=filer, expected_version=filing_2023.version)
    with at(2024, 5, 1, 0, 0, 0), pytest.raises(TransitionRefused, match="审核已于2024年04月30日 23:59截止"):
        services.start_review(fresh(filing_2023), actor=reviewer)


def test_the_admin_site_creates_a_year_from_its_number_alone(client):
    from django.urls import reverse

    client.force_login(factories.AdminFactory())
    response = client.post(reverse("admin:filings_reportingyear_add"), {"year": 2026})
    assert response.status_code == 302, response.content.decode()[:2000]
    year = ReportingYear.objects.get(year=2026)
    assert year.opens_at == moment(2027, 1, 1)
    assert year.review_closes_at == year.closes_at == moment(2027, 4, 30, 23, 59, 59)
