"""The one reminder mechanism (review/reminders.py, ADR 0019): the database holds "once a day per institution, reason
and key" whoever presses send; a reminder is recorded as sent (and in 催报记录) only once the mail server accepted it;
institutions without an address are recorded and named; each automatic point goes once; upload reminders follow the
same rules."""
import datetime
import smtplib
import threading
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from filings import services as filing_services
from reports import selectors as report_selectors, upload_reminders
from reports.quarters import recent_quarters
from review import reminders, services, tasks
from review.models import ChasingRecord, Reminder
from tests import factories

from .test_reminders import mail_down, set_deadline

QUARTER = recent_quarters(1)[0]
DEADLINE = datetime.date(2026, 4, 30)


def chase(institutions, actor, year):
    return services.request_reminders(institutions, actor=actor, year=year.year, deadline=DEADLINE)


def remind_upload(institutions, actor):
    return upload_reminders.remind_missing(institutions, actor=actor, quarter=QUARTER)


def refuse_recipient(monkeypatch):
    def refuse(self, fail_silently=False):
        raise smtplib.SMTPRecipientsRefused({"lab@example.cn": (550, b"5.1.1 mailbox unavailable")})

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)


# --- the database decides ----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_database_refuses_a_second_reminder_for_the_same_institution_reason_and_day():
    institution = factories.InstitutionFactory()
    Reminder.objects.create(institution=institution, reason=Reminder.Reason.CHASE, key="2025")
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(institution=institution, reason=Reminder.Reason.CHASE, key="2025")
    # Another reason, key or day is another reminder.
    Reminder.objects.create(institution=institution, reason=Reminder.Reason.UPLOAD, key="2025")
    Reminder.objects.create(institution=institution, reason=Reminder.Reason.CHASE, key="2024")
    Reminder.objects.create(institution=institution, reason=Reminder.Reason.CHASE, key="2025",
                            day=timezone.localdate() + datetime.timedelta(days=1))


@pytest.mark.django_db
def test_the_database_refuses_an_automatic_point_twice_even_on_another_day():
    institution = factories.InstitutionFactory()
    Reminder.objects.create(institution=institution, reason=Reminder.Reason.DEADLINE, key="2025/7")
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(institution=institution, reason=Reminder.Reason.DEADLINE, key="2025/7",
                                day=timezone.localdate() + datetime.timedelta(days=1))
    Reminder.objects.create(institution=institution, reason=Reminder.Reason.DEADLINE, key="2025/1")


def test_two_officers_pressing_send_at_the_same_moment_send_one_reminder(transactional_db):
    """Two connections: the second claim waits on the first one's uncommitted row and is told 'already today'."""
    year = factories.ReportingYearFactory()
    institution = factories.InstitutionFactory(name="长沙并发催报", contact_email="lab@example.cn")
    officer, reviewer = factories.CityOfficerFactory(), factories.ProvincialReviewerFactory()
    first_claimed, results = threading.Event(), {}

    def press(name, actor, hold=0.0):
        try:
            if name == "second":
                first_claimed.wait(10)
            with transaction.atomic():
                results[name] = chase([institution], actor, year)
                first_claimed.set()
                threading.Event().wait(hold)  # the first keeps its transaction open while the second inserts
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=("first", officer, 1.0)),
               threading.Thread(target=press, args=("second", reviewer))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [i.name for i in results["first"]["queued"]] == ["长沙并发催报"]
    assert [i.name for i in results["second"]["already_today"]] == ["长沙并发催报"]
    assert Reminder.objects.get().status == Reminder.Status.SENT
    assert len(mail.outbox) == 1 and ChasingRecord.objects.count() == 1


@pytest.mark.django_db
def test_redis_never_decides_alone(year, on_commit_immediately, monkeypatch):
    institution = factories.InstitutionFactory(contact_email="lab@example.cn")
    officer = factories.CityOfficerFactory()
    # The cache remembers a claim that never committed (rolled back, or sent to another database): not "already".
    cache.add(f"reminders:chase:{year.year}:{institution.pk}:{timezone.localdate().isoformat()}", 1)
    assert chase([institution], officer, year)["queued"] == [institution]
    # The cache was flushed (or says "new" for any reason): the database still refuses the second reminder.
    monkeypatch.setattr(reminders, "cache", SimpleNamespace(add=lambda *args, **kwargs: True))
    assert chase([institution], officer, year)["already_today"] == [institution]
    assert len(mail.outbox) == 1 and Reminder.objects.count() == 1


# --- recorded only after the mail server accepted it -------------------------------------------------------------

@pytest.mark.django_db
def test_a_failing_mail_server_records_nothing_sent_and_the_retry_sends_it_once(year, monkeypatch):
    institution = factories.InstitutionFactory(contact_email="lab@example.cn")
    officer = factories.CityOfficerFactory()
    chase([institution], officer, year)  # claimed; its task goes out when the transaction commits
    reminder = Reminder.objects.get()
    assert (reminder.status, reminder.sent_by, reminder.email) == (Reminder.Status.PENDING, officer, "lab@example.cn")
    with monkeypatch.context() as patch:
        mail_down(patch)
        with pytest.raises(smtplib.SMTPServerDisconnected):
            tasks.send_reminder.run(reminder.pk)  # escapes: Celery's autoretry queues it again
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.PENDING and reminder.sent_at is None
    assert not ChasingRecord.objects.exists() and not mail.outbox

    tasks.send_reminder.run(reminder.pk)  # the retry
    tasks.send_reminder.run(reminder.pk)  # a duplicate delivery
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT and reminder.sent_at is not None
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["lab@example.cn"]
    record = ChasingRecord.objects.get()
    assert (record.recorded_by, record.year, record.channel) == (officer, year.year, "email")
    assert record.note == "已发送催报邮件至 lab@example.cn"


@pytest.mark.django_db
def test_the_last_retry_marks_the_reminder_failed_and_it_may_be_sent_again_that_day(
    year, monkeypatch, on_commit_immediately
):
    institution = factories.InstitutionFactory(contact_email="lab@example.cn")
    officer = factories.CityOfficerFactory()
    with monkeypatch.context() as patch:
        mail_down(patch)
        chase([institution], officer, year)  # in-process (no broker): the fault fails it at once, the page answers
    reminder = Reminder.objects.get()
    assert reminder.status == Reminder.Status.FAILED and "SMTPServerDisconnected" in reminder.error
    assert reminder.get_status_display() == "发送失败" and not ChasingRecord.objects.exists()

    assert chase([institution], officer, year)["queued"] == [institution]
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT and not reminder.error
    assert len(mail.outbox) == 1 and ChasingRecord.objects.count() == 1 and Reminder.objects.count() == 1


@pytest.mark.django_db
def test_a_permanent_refusal_is_not_retried(year, monkeypatch):
    institution = factories.InstitutionFactory(contact_email="lab@example.cn")
    chase([institution], factories.CityOfficerFactory(), year)
    reminder = Reminder.objects.get()
    refuse_recipient(monkeypatch)
    retried = []
    monkeypatch.setattr(tasks.send_reminder, "retry", lambda exc, countdown: retried.append(countdown) or exc)
    tasks.send_reminder.run(reminder.pk)
    reminder.refresh_from_db()
    assert not retried and reminder.status == Reminder.Status.FAILED and "550" in reminder.error
    assert not ChasingRecord.objects.exists()


def test_transient_and_permanent_mail_faults():
    assert reminders.is_transient(smtplib.SMTPServerDisconnected("closed"))
    assert reminders.is_transient(ConnectionRefusedError())
    assert reminders.is_transient(smtplib.SMTPDataError(451, b"try again later"))
    assert not reminders.is_transient(smtplib.SMTPDataError(554, b"rejected"))
    assert not reminders.is_transient(smtplib.SMTPRecipientsRefused({"a@example.cn": (550, b"unknown")}))
    assert reminders.is_transient(smtplib.SMTPRecipientsRefused({"a@example.cn": (450, b"greylisted")}))


# --- no address ----------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_an_institution_without_address_is_recorded_named_and_reminded_once_it_has_one(
    year, client, on_commit_immediately
):
    institution = factories.InstitutionFactory(name="长沙无邮箱", contact_email="")
    client.force_login(factories.CityOfficerFactory())
    for _ in range(2):  # pressing again without an address names it again rather than "already today"
        page = client.post(reverse("review:remind"), {"year": year.year, "institution": [institution.pk]},
                           follow=True).content.decode()
        assert "以下机构未登记电子邮箱，未发送：长沙无邮箱" in page
    reminder = Reminder.objects.get()
    assert reminder.get_status_display() == "未登记电子邮箱，未发送" and not mail.outbox
    assert not ChasingRecord.objects.exists()

    institution.contact_email = "lab@example.cn"
    institution.save()
    page = client.post(reverse("review:remind"), {"year": year.year, "institution": [institution.pk]},
                       follow=True).content.decode()
    assert "已发送 1 封催报邮件" in page
    assert len(mail.outbox) == 1 and Reminder.objects.get().status == Reminder.Status.SENT


# --- automatic points ---------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_each_automatic_point_goes_once_even_if_the_beat_runs_on_later_days(year, on_commit_immediately):
    set_deadline(year, 7)
    factories.InstitutionFactory(contact_email="n@example.cn")
    today = timezone.localdate()
    assert len(services.plan_automatic_reminders(today)) == 1
    assert services.plan_automatic_reminders(today) == []
    # Still within the 7-day point on the following days: nothing again.
    assert services.plan_automatic_reminders(today + datetime.timedelta(days=1)) == []
    assert len(mail.outbox) == 1
    reminder = Reminder.objects.get()
    assert (reminder.reason, reminder.key, reminder.sent_by) == (Reminder.Reason.DEADLINE, f"{year.year}/7", None)
    assert ChasingRecord.objects.get().recorded_by is None


@pytest.mark.django_db
def test_an_automatic_reminder_is_not_sent_to_an_institution_that_handed_in_meanwhile(year):
    set_deadline(year, 30)
    institution = factories.filing_ready_institution(contact_email="d@example.cn")
    filing = factories.make_filing(institution, year=year)
    [claimed] = services.plan_automatic_reminders()
    filer = factories.FilerFactory(institution=institution)
    filing_services.submit_filing(filing, actor=filer, expected_version=filing.version)
    reminder = reminders.send(claimed)
    assert reminder.get_status_display() == "发送前已提交，未发送"
    assert not mail.outbox and not ChasingRecord.objects.exists()


# --- upload reminders follow the same rules ---------------------------------------------------------------------

@pytest.mark.django_db
def test_upload_reminders_are_recorded_after_acceptance_once_a_day_and_not_in_the_chasing_log(monkeypatch):
    institution = factories.InstitutionFactory(name="长沙上传", contact_email="lab@example.cn")
    without = factories.InstitutionFactory(name="长沙上传无邮箱", contact_email="")
    officer, reviewer = factories.CityOfficerFactory(), factories.ProvincialReviewerFactory()
    result = remind_upload([institution, without], officer)
    assert (result["sent"], result["without_email"]) == ([institution], [without])
    assert remind_upload([institution], reviewer)["already_today"] == [institution]

    reminder = Reminder.objects.get(institution=institution)
    assert (reminder.reason, reminder.key, reminder.status) == ("upload", QUARTER.code, Reminder.Status.PENDING)
    assert Reminder.objects.get(institution=without).status == Reminder.Status.NO_ADDRESS
    with monkeypatch.context() as patch:
        mail_down(patch)
        with pytest.raises(smtplib.SMTPServerDisconnected):
            tasks.send_reminder.run(reminder.pk)
    reminder.refresh_from_db()
    assert reminder.sent_at is None
    assert report_selectors.missing_uploads(officer, QUARTER).get(pk=institution.pk).reminded_at is None

    tasks.send_reminder.run(reminder.pk)
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT and QUARTER.label in mail.outbox[0].subject
    assert report_selectors.missing_uploads(officer, QUARTER).get(pk=institution.pk).reminded_at
    assert not ChasingRecord.objects.exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(institution=institution, reason=Reminder.Reason.UPLOAD, key=QUARTER.code)


# --- history carried over ------------------------------------------------------------------------------------------

def test_the_migration_carries_old_automatic_and_upload_reminders_over(transactional_db):
    year = factories.ReportingYearFactory()
    institution = factories.InstitutionFactory()
    officer = factories.CityOfficerFactory()
    call_command("migrate", "review", "0002", verbosity=0)  # also takes reports back before its table was dropped
    sent_at = datetime.datetime(2026, 4, 23, 2, 0, tzinfo=datetime.UTC)
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO review_autoreminder (institution_id, year_id, days_before, created_at, sent_at, outcome) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [(institution.pk, year.pk, 7, sent_at, sent_at, "已发送"),
             (institution.pk, year.pk, 1, sent_at, None, "未登记电子邮箱，未发送")],
        )
        cursor.executemany(
            "INSERT INTO reports_uploadreminder (institution_id, year, quarter, sent_by_id, sent_at, email) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [(institution.pk, 2026, 1, officer.pk, sent_at, "lab@example.cn"),
             (institution.pk, 2026, 1, officer.pk, sent_at + datetime.timedelta(minutes=5), "lab@example.cn")],
        )
    call_command("migrate", verbosity=0)
    rows = {(r.reason, r.key): r for r in Reminder.objects.all()}
    assert set(rows) == {("deadline", f"{year.year}/7"), ("deadline", f"{year.year}/1"), ("upload", "2026Q1")}
    assert rows[("deadline", f"{year.year}/7")].status == "sent"
    assert rows[("deadline", f"{year.year}/7")].sent_at == sent_at
    assert rows[("deadline", f"{year.year}/1")].status == "no_address"
    upload = rows[("upload", "2026Q1")]  # two presses the same day: the first is kept
    assert (upload.status, upload.sent_by, upload.sent_at, upload.day) == (
        "sent", officer, sent_at, datetime.date(2026, 4, 23)
    )
