"""Reminders on the embedded default: SQLite holds the once-a-day constraint, the e-mail goes out in-process during the
request, and a mail server that is down fails the reminder instead of the request (it may be sent again that day)."""
import smtplib

from django.core import mail
from django.urls import reverse

from filings.models import ReportingYear
from institutions.models import Institution
from review.models import ChasingRecord, Reminder


def remind(officer, year, institution):
    return officer.post(reverse("review:remind"), {"year": year.year, "institution": [institution.pk]},
                        follow=True).content.decode()


def test_a_reminder_is_sent_in_process_once_a_day_and_a_mail_fault_does_not_fail_the_request(login, monkeypatch):
    officer = login("city")
    year = ReportingYear.objects.order_by("-year").first()
    institution = Institution.objects.filter(city__code="430100").exclude(contact_email="").order_by("pk").first()

    def refuse(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    with monkeypatch.context() as patch:
        patch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
        assert "已发送 1 封催报邮件" in remind(officer, year, institution)
    reminder = Reminder.objects.get(institution=institution, reason=Reminder.Reason.CHASE)
    assert reminder.status == Reminder.Status.FAILED and not mail.outbox

    assert "已发送 1 封催报邮件" in remind(officer, year, institution)
    assert "今天已发送过催报邮件，未重复发送" in remind(officer, year, institution)
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT and [m.to for m in mail.outbox] == [[institution.contact_email]]
    assert ChasingRecord.objects.filter(institution=institution, note__startswith="已发送催报邮件至").count() == 1
