"""Reminder and decision e-mails go through the broker to a real Celery worker, which records the reminder."""
import time

import pytest

from filings import services as filing_services
from review import services
from review.models import ChasingRecord, DecisionNotice
from tests import factories

pytestmark = pytest.mark.worker


def wait_for(check, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_reminder_and_decision_e_mails_are_sent_by_the_worker(transactional_db, celery_worker_process):
    year = factories.ReportingYearFactory()
    institution = factories.filing_ready_institution(name="长沙有邮箱", contact_email="lab@example.cn")
    officer = factories.CityOfficerFactory()
    reviewer = factories.ProvincialReviewerFactory()
    from django.utils import timezone

    services.request_reminders([institution], actor=officer, year=year.year,
                               deadline=timezone.localtime(year.closes_at).date())
    assert wait_for(lambda: ChasingRecord.objects.filter(institution=institution, recorded_by=officer).exists())

    filer = factories.FilerFactory(institution=institution)
    filing = factories.make_filing(institution, year=year)
    filing = filing_services.submit_filing(filing, actor=filer, expected_version=filing.version)
    filing = filing_services.start_review(filing, actor=reviewer)
    services.approve(filing, actor=reviewer, expected_version=filing.version)
    assert wait_for(lambda: DecisionNotice.objects.filter(sent_at__isnull=False).exists())
    assert DecisionNotice.objects.get().recipients == "lab@example.cn"
