"""Reminder e-mails (manual and automatic, never twice per point), decision e-mails to filers, and mail faults."""
import datetime
import smtplib

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from filings import services as filing_services
from filings.models import ReportingYear
from review import reminders, services, tasks
from review.models import ChasingRecord, DecisionNotice, Reminder
from tests import factories

from .conftest import due, filer_of

pytestmark = pytest.mark.django_db


def mail_down(monkeypatch):
    def refuse(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)


def test_officer_sends_reminders_to_selected_institutions_and_they_are_logged_after_sending(
    year, client, on_commit_immediately
):
    with_mail = factories.InstitutionFactory(name="长沙有邮箱", contact_email="lab@example.cn")
    without = factories.InstitutionFactory(name="长沙无邮箱", contact_email="")
    officer = factories.CityOfficerFactory()
    client.force_login(officer)
    response = client.post(reverse("review:remind"), {"year": year.year, "institution": [with_mail.pk, without.pk]},
                           follow=True)
    page = response.content.decode()
    assert "已发送 1 封催报邮件" in page
    assert "以下机构未登记电子邮箱，未发送：长沙无邮箱" in page
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    deadline = timezone.localtime(year.closes_at)
    assert message.to == ["lab@example.cn"]
    assert message.subject == f"【质检统计直报】请于{deadline:%Y年%m月%d日}前完成{year.year}年度统计填报"
    assert "长沙有邮箱：" in message.body and f"您单位{year.year}年度检验检测统计数据尚未提交" in message.body
    assert "长沙市市场监督管理局" in message.body
    record = ChasingRecord.objects.get()
    assert (record.institution, record.channel, record.recorded_by) == (with_mail, "email", officer)


def test_reminder_to_an_institution_outside_the_city_is_refused(year, client):
    other = factories.InstitutionFactory(city=factories.region("430200"), contact_email="x@example.cn")
    client.force_login(factories.CityOfficerFactory())
    response = client.post(reverse("review:remind"), {"year": year.year, "institution": [other.pk]})
    assert response.status_code == 403 and not mail.outbox and not ChasingRecord.objects.exists()


def test_reminder_with_nothing_selected_says_so(year, client):
    client.force_login(factories.CityOfficerFactory())
    response = client.post(reverse("review:remind"), {"year": year.year}, follow=True)
    assert "请先勾选要催报的机构" in response.content.decode()


def test_mail_server_down_retries_logs_and_records_nothing(year, monkeypatch, caplog):
    institution = factories.InstitutionFactory(contact_email="lab@example.cn")
    officer = factories.CityOfficerFactory()
    services.request_reminders([institution], actor=officer, year=year.year, deadline=datetime.date(2026, 4, 30))
    mail_down(monkeypatch)
    retried = []
    monkeypatch.setattr(tasks.send_reminder, "retry", lambda exc, countdown: retried.append(countdown) or exc)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        tasks.send_reminder.run(Reminder.objects.get().pk)
    assert retried == [60]
    assert "failed (SMTPServerDisconnected" in caplog.text and "retry 1 of 5" in caplog.text
    assert not ChasingRecord.objects.exists()


def test_decision_e_mails_tell_the_filer_in_chinese(submit, province_reviewer, on_commit_immediately):
    filing = submit(name="长沙甲检测", contact_email="lab@example.cn")
    filing = filing_services.start_review(filing, actor=province_reviewer)
    when = due(40)  # after the window's close (in 30 days): the correction due date is the filing's deadline
    services.return_for_correction(
        filing, actor=province_reviewer, expected_version=filing.version, comment="请核对营业收入。", due=when,
        field_comments=[("statistics.revenue", "数值偏低。")],
        field_labels={"statistics.revenue": "统计调查数据 · 营业收入（万元）"},
    )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["filer@example.cn", "lab@example.cn"]
    assert message.subject == (
        f"【质检统计直报】您单位{filing.year.year}年度统计填报已被退回，"
        f"请于{timezone.localtime(when):%Y年%m月%d日 %H:%M}前更正"
    )
    assert "退回意见：请核对营业收入。" in message.body
    assert "统计调查数据 · 营业收入（万元）：数值偏低。" in message.body
    assert "&" not in message.body

    filer = filer_of(filing)
    filing = filing_services.submit_filing(filing.__class__.objects.get(pk=filing.pk), actor=filer,
                                           expected_version=filing.version + 1)
    filing = filing_services.start_review(filing, actor=province_reviewer)
    services.approve(filing, actor=province_reviewer, expected_version=filing.version, comment="通过。")
    assert mail.outbox[1].subject == f"【质检统计直报】您单位{filing.year.year}年度统计填报已审核通过"
    assert "审核通过" in mail.outbox[1].body and "审核意见：通过。" in mail.outbox[1].body

    filing = filing.__class__.objects.get(pk=filing.pk)
    services.quality_return(filing, actor=factories.SamrReviewerFactory(), expected_version=filing.version,
                            comment="质量抽查。", due=due(5))
    assert "经质量审查退回" in mail.outbox[2].subject and "质量审查" in mail.outbox[2].body


def test_decision_e_mail_is_sent_once_even_if_the_task_runs_again(submit, province_reviewer, on_commit_immediately):
    filing = filing_services.start_review(submit(name="长沙甲"), actor=province_reviewer)
    services.approve(filing, actor=province_reviewer, expected_version=filing.version)
    notice = DecisionNotice.objects.get()
    tasks.send_decision_email.run(notice.transition_id)
    assert len(mail.outbox) == 1 and notice.transition.action == "approve"


def test_decision_e_mail_with_mail_server_down_retries_and_is_not_marked_sent(submit, province_reviewer, monkeypatch):
    filing = filing_services.start_review(submit(name="长沙甲"), actor=province_reviewer)
    filing = services.approve(filing, actor=province_reviewer, expected_version=filing.version)
    mail_down(monkeypatch)
    retried = []
    monkeypatch.setattr(tasks.send_decision_email, "retry", lambda exc, countdown: retried.append(countdown) or exc)
    transition = filing.transitions.get(action="approve")
    with pytest.raises(smtplib.SMTPServerDisconnected):
        tasks.send_decision_email.run(transition.pk)
    assert retried and DecisionNotice.objects.get(transition=transition).sent_at is None


# --- automatic reminders -------------------------------------------------------------------------------------------

def set_deadline(year, days_from_today):
    closes = timezone.localtime().replace(hour=23, minute=59, second=0, microsecond=0) + datetime.timedelta(
        days=days_from_today)
    ReportingYear.objects.filter(pk=year.pk).update(
        closes_at=closes, review_closes_at=closes + datetime.timedelta(days=60)
    )
    year.refresh_from_db()
    return year


@pytest.mark.parametrize("left, point", [(31, None), (30, 30), (12, 30), (7, 7), (5, 7), (1, 1), (0, 1), (-1, None)])
def test_the_due_point_is_the_latest_reached(year, left, point):
    assert services.due_reminder_point(set_deadline(year, left)) == point


def test_beat_reminds_every_not_submitted_institution_once_per_point(year, submit, on_commit_immediately):
    set_deadline(year, 7)
    draft = factories.make_filing(
        factories.filing_ready_institution(name="草稿", contact_email="d@example.cn"), year=year
    )
    factories.InstitutionFactory(name="未开始", contact_email="n@example.cn")
    factories.InstitutionFactory(name="无邮箱", contact_email="")
    submit(name="已提交", contact_email="s@example.cn")

    assert tasks.send_deadline_reminders.run() == 3
    assert sorted(m.to[0] for m in mail.outbox) == ["d@example.cn", "n@example.cn"]
    assert "请于" in mail.outbox[0].subject
    automatic = Reminder.objects.filter(reason=Reminder.Reason.DEADLINE)
    assert automatic.filter(key=f"{year.year}/7", sent_at__isnull=False).count() == 2
    assert automatic.get(institution__name="无邮箱").get_status_display() == "未登记电子邮箱，未发送"
    notes = list(ChasingRecord.objects.values_list("note", flat=True))
    assert len(notes) == 2 and all("系统自动催报（截止前7天）" in note for note in notes)

    # The next run on the same day, and the days after until the next point, send nothing again.
    assert tasks.send_deadline_reminders.run() == 0
    set_deadline(year, 6)
    assert tasks.send_deadline_reminders.run() == 0
    assert len(mail.outbox) == 2
    # The 1-day point is a new point: the still-unsubmitted draft gets one more reminder.
    set_deadline(year, 1)
    draft.institution.refresh_from_db()
    assert tasks.send_deadline_reminders.run() == 3
    assert len(mail.outbox) == 4
    assert automatic.count() == 6


def test_automatic_reminder_with_mail_server_down_is_retried_and_sent_only_once_later(year, monkeypatch):
    set_deadline(year, 30)
    factories.InstitutionFactory(contact_email="n@example.cn")
    claimed = services.plan_automatic_reminders()
    assert len(claimed) == 1
    with monkeypatch.context() as patch:
        mail_down(patch)
        with pytest.raises(smtplib.SMTPServerDisconnected):
            reminders.send(claimed[0])
    reminder = Reminder.objects.get()
    assert reminder.sent_at is None and not ChasingRecord.objects.exists()
    reminders.send(claimed[0])  # the retry
    reminders.send(claimed[0])  # a duplicate delivery of the task
    assert len(mail.outbox) == 1 and ChasingRecord.objects.count() == 1
    assert services.plan_automatic_reminders() == []


def test_the_beat_schedule_runs_the_reminder_task_daily():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["send-deadline-reminders"]
    assert entry["task"] == tasks.send_deadline_reminders.name


def test_an_institution_gets_one_manual_reminder_a_day_whoever_presses_send(year, client, on_commit_immediately):
    institution = factories.InstitutionFactory(name="长沙重复催报", contact_email="lab@example.cn")
    client.force_login(factories.CityOfficerFactory())
    client.post(reverse("review:remind"), {"year": year.year, "institution": [institution.pk]})
    client.force_login(factories.ProvincialReviewerFactory())
    page = client.post(reverse("review:remind"), {"year": year.year, "institution": [institution.pk]},
                       follow=True).content.decode()
    assert "以下机构今天已发送过催报邮件，未重复发送：长沙重复催报" in page
    assert len(mail.outbox) == 1 and ChasingRecord.objects.count() == 1
