"""Redis down (issue 15 §4): the cache answers with a miss, e-mails claimed meanwhile wait as 待发送 and are sent once
the broker is back; no request fails because the queue could not take a message."""
import datetime
import socket
import time

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from filings.models import Filing
from institutions.models import ProfessionalField
from review import reminders, services, tasks
from review.models import DecisionNotice, Digest, Reminder
from tests import factories

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


@pytest.fixture
def redis_gone():
    with override_settings(CACHES={"default": {
        "BACKEND": "config.cache.FailSoftRedisCache", "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
    }}):
        yield


def _refuse(self, *args, **kwargs):
    """A task's message refused as kombu refuses it when Redis cannot be reached."""
    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.fixture
def broker_gone(monkeypatch):
    monkeypatch.setattr("celery.app.task.Task.delay", _refuse)


def test_the_cache_answers_with_a_miss_quickly_while_redis_is_down(redis_gone):
    started = time.monotonic()
    assert cache.get("peer-stats", "default") == "default"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.add("fast-path", 1) is False  # the cautious answer: callers fall back on the database
    cache.set("key", 1)
    cache.delete("key")
    assert time.monotonic() - started < 30  # refused at once, not hung: the port is closed


def test_the_review_queue_and_its_peer_filter_answer_while_redis_is_down(redis_gone, client):
    institution = factories.filing_ready_institution(city=factories.region("430100"), name="长沙同行比较")
    institution.professional_fields.set(ProfessionalField.objects.all()[:1])
    factories.make_filing(institution, year=factories.ReportingYearFactory(), status=Filing.Status.SUBMITTED)
    client.force_login(factories.ProvincialReviewerFactory())
    for query in ({}, {"peers": "outliers"}):  # the queue's badges and its filter both read the peer statistics
        response = client.get(reverse("review:queue"), query)
        assert response.status_code == 200
    assert "长沙同行比较" in client.get(reverse("review:queue")).content.decode()


def test_a_decision_while_the_broker_is_down_is_stored_and_the_reviewer_sees_it(
    broker_gone, client, on_commit_immediately
):
    institution = factories.filing_ready_institution(city=factories.region("430100"))
    factories.FilerFactory(institution=institution, email="filer@example.cn")
    filing = factories.make_filing(institution, year=factories.ReportingYearFactory(), status=Filing.Status.IN_REVIEW)
    client.force_login(factories.ProvincialReviewerFactory())
    response = client.post(reverse("review:approve", args=[filing.pk]), {"version": filing.version}, follow=True)
    assert response.status_code == 200
    filing.refresh_from_db()
    assert filing.status == Filing.Status.APPROVED


def test_reminders_claimed_while_the_broker_is_down_are_sent_once_it_is_back(client, monkeypatch):
    year = factories.ReportingYearFactory()
    institution = factories.InstitutionFactory(name="长沙待发", contact_email="lab@example.cn")
    client.force_login(factories.CityOfficerFactory())
    with monkeypatch.context() as patch:
        patch.setattr("django.db.connection.on_commit", lambda func, robust=False: func())
        patch.setattr("celery.app.task.Task.delay", _refuse)
        response = client.post(reverse("review:remind"), {"year": year.year, "institution": [institution.pk]},
                               follow=True)
    assert response.status_code == 200
    row = Reminder.objects.get(institution=institution)
    assert row.status == Reminder.Status.PENDING and not mail.outbox

    assert reminders.resend_pending() == 0  # too recent: its message may merely be slow
    later = timezone.now() + reminders.RESEND_AFTER + datetime.timedelta(seconds=1)
    assert reminders.resend_pending(now=later) == 1  # eager in the tests: sent at once
    row.refresh_from_db()
    assert row.status == Reminder.Status.SENT and len(mail.outbox) == 1
    assert reminders.resend_pending(now=later) == 0  # sent rows are left alone


def test_a_pending_digest_is_sent_again_and_a_week_old_one_is_left_alone():
    officer = factories.CityOfficerFactory(email="officer@example.cn")
    now = timezone.now()
    def digest(week, age):
        return Digest.objects.create(user=officer, kind=Digest.Kind.ON_DEMAND, week=week, email=officer.email,
                                     subject="待办摘要", body="1 家未提交", created_at=now - age)

    fresh, stale = digest("2026-W48", datetime.timedelta(minutes=10)), digest("2026-W40", datetime.timedelta(days=8))
    assert reminders.resend_pending(now=now) == 1
    fresh.refresh_from_db()
    stale.refresh_from_db()
    assert fresh.status == Digest.Status.SENT and stale.status == Digest.Status.PENDING
    assert [message.to for message in mail.outbox] == [["officer@example.cn"]]


def test_the_beat_schedule_resends_pending_mail_every_few_minutes():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["resend-pending-mail"]
    assert entry["task"] == tasks.resend_pending_mail.name and entry["schedule"] <= 600


def test_a_decision_whose_e_mail_message_was_lost_is_e_mailed_once_by_the_resend(broker_gone, client, monkeypatch):
    institution = factories.filing_ready_institution(city=factories.region("430100"))
    factories.FilerFactory(institution=institution, email="filer@example.cn")
    filing = factories.make_filing(institution, year=factories.ReportingYearFactory(), status=Filing.Status.IN_REVIEW)
    client.force_login(factories.ProvincialReviewerFactory())
    with monkeypatch.context() as patch:
        patch.setattr("django.db.connection.on_commit", lambda func, robust=False: func())
        client.post(reverse("review:approve", args=[filing.pk]), {"version": filing.version})
    decision = filing.transitions.get(action="approve")
    assert not DecisionNotice.objects.exists() and not mail.outbox  # the message never reached a worker

    monkeypatch.undo()  # the broker is back
    assert services.resend_lost_decision_notices() == 0  # too recent: its message may merely be slow
    later = timezone.now() + reminders.RESEND_AFTER + datetime.timedelta(seconds=1)
    assert services.resend_lost_decision_notices(now=later) == 1
    assert [message.to for message in mail.outbox] == [["filer@example.cn"]]
    assert DecisionNotice.objects.get().transition == decision
    assert services.resend_lost_decision_notices(now=later) == 0  # a task that ran is Celery's to retry
    services.send_decision_notice(decision.pk)  # a duplicate delivery sends nothing
    assert len(mail.outbox) == 1
