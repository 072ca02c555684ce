"""待办摘要 (city officers' and the province's, on the page, on demand and weekly, once per ISO week) and 催报情况 by
city with the lag warning (issue 14 §5)."""
import datetime
import smtplib

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from filings.models import ExtensionRequest
from reports.models import Complaint
from review import digests, tasks
from review.models import ChasingRecord, Digest, Reminder
from tests import factories

pytestmark = pytest.mark.django_db


def institution(city="430100", name=None, **fields):
    return factories.InstitutionFactory(city=factories.region(city), **({"name": name} if name else {}), **fields)


def handed_in(lab, year):
    return factories.make_filing(lab, year=year, status="submitted")


def complaint(city="430100", lab=None, status=Complaint.Status.OPEN, text="长沙被投诉检测公司"):
    return Complaint.objects.create(
        report_number="HN2025-0001", institution=lab, institution_text=text, city=factories.region(city),
        description="报告编号查不到", contact="13800000000", status=status,
    )


def pending_request(lab, year):
    filing = factories.make_filing(lab, year=year)
    filer = factories.FilerFactory(institution=lab)
    return ExtensionRequest.objects.create(filing=filing, requested_until=year.closes_at + datetime.timedelta(days=20),
                                           reason="设备检修", requested_by=filer)


def sections(digest):
    return {section.key: section for section in digest.sections}


# --- content and scoping -----------------------------------------------------------------------------------------

def test_city_digest_lists_late_filers_missing_uploads_open_complaints_and_requests_of_the_city_only(year):
    late = institution(name="长沙未提交检测")
    done = institution(name="长沙已提交检测")
    handed_in(done, year)
    asking = institution(name="长沙申请延期检测")
    pending_request(asking, year)
    institution("430200", name="株洲未提交检测")
    complaint(lab=late)
    complaint(status=Complaint.Status.HANDLED, text="已处理的投诉")
    complaint("430200", text="株洲的投诉")
    digest = digests.build_digest(factories.CityOfficerFactory())
    found = sections(digest)
    assert list(found) == ["late_filers", "missing_uploads", "complaints", "extension_requests"]
    assert digest.scope == "长沙市"
    assert {line.name for line in found["late_filers"].lines} == {"长沙未提交检测", "长沙申请延期检测"}
    details = {line.name: line.detail for line in found["late_filers"].lines}
    assert details["长沙未提交检测"].startswith("未开始，截止") and details["长沙申请延期检测"].startswith("草稿")
    assert found["missing_uploads"].count == 3  # no Changsha institution uploaded; Zhuzhou's is not the officer's
    assert [line.name for line in found["complaints"].lines] == ["长沙被投诉检测公司"]
    assert [line.name for line in found["extension_requests"].lines] == ["长沙申请延期检测"]
    assert "株洲" not in str(digest)


def test_digest_counts_agree_with_the_late_filer_list_and_show_only_the_first_rows(year, client):
    for n in range(digests.ROWS_SHOWN + 3):
        institution(name=f"长沙未提交{n:02d}")
    officer = factories.CityOfficerFactory()
    late = sections(digests.build_digest(officer))["late_filers"]
    assert late.count == digests.ROWS_SHOWN + 3 and len(late.lines) == digests.ROWS_SHOWN and late.more == 3
    client.force_login(officer)
    page = client.get(reverse("review:late_filers")).content.decode()
    assert f"共 {late.count} 家" in page


def test_sections_with_nothing_are_left_out_and_an_empty_digest_is_not_sent(year, client, on_commit_immediately):
    officer = factories.CityOfficerFactory(region=factories.region("430200"), email="zz@example.cn")
    digest = digests.build_digest(officer)
    assert digest.is_empty
    client.force_login(officer)
    page = client.get(reverse("review:digest")).content.decode()
    assert "目前没有需要您处理的事项" in page
    response = client.post(reverse("review:digest_send"), follow=True)
    assert "目前没有需要您处理的事项，未发送邮件" in response.content.decode() and not mail.outbox
    digests.send_weekly()
    assert not mail.outbox and Digest.objects.get().status == Digest.Status.EMPTY


def test_officer_sends_the_digest_to_themselves_from_the_page_once_per_press(year, client, on_commit_immediately):
    institution(name="长沙未提交检测")
    officer = factories.CityOfficerFactory(email="cs@example.cn", first_name="王科长")
    client.force_login(officer)
    page = client.get(reverse("review:digest")).content.decode()
    assert "待办摘要 · 长沙市" in page and "长沙未提交检测" in page
    response = client.post(reverse("review:digest_send"), follow=True)
    assert "待办摘要已发送至 cs@example.cn" in response.content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["cs@example.cn"] and message.subject.startswith("【质检统计直报】长沙市待办摘要：")
    assert "王科长：" in message.body and "长沙未提交检测" in message.body and "退订" in message.body
    again = client.post(reverse("review:digest_send"), follow=True)
    assert "刚刚已发送过待办摘要" in again.content.decode() and len(mail.outbox) == 1


def test_an_officer_without_an_address_is_told_so(year, client):
    institution()
    client.force_login(factories.CityOfficerFactory(email=""))
    response = client.post(reverse("review:digest_send"), follow=True)
    assert "未登记电子邮箱" in response.content.decode() and not Digest.objects.exists()


# --- weekly sending ----------------------------------------------------------------------------------------------

def test_weekly_run_sends_each_officer_one_digest_per_iso_week(year, on_commit_immediately):
    institution("430100")
    institution("430200")
    factories.CityOfficerFactory(email="cs@example.cn")
    factories.CityOfficerFactory(region=factories.region("430200"), email="zz@example.cn")
    factories.CityOfficerFactory(email="gone@example.cn", is_active=False)
    factories.FilerFactory(email="filer@example.cn")
    monday = datetime.date(2026, 11, 23)
    assert len(digests.send_weekly(monday)) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["cs@example.cn", "zz@example.cn"]
    assert digests.send_weekly(monday + datetime.timedelta(days=3)) == [] and len(mail.outbox) == 2
    assert set(Digest.objects.values_list("week", "status")) == {("2026-W48", "sent")}
    digests.send_weekly(monday + datetime.timedelta(days=7))
    assert len(mail.outbox) == 4


def test_a_run_after_a_crash_sends_what_was_claimed_and_never_twice(year, on_commit_immediately):
    institution("430100")
    institution("430200")
    first = factories.CityOfficerFactory(email="cs@example.cn")
    factories.CityOfficerFactory(region=factories.region("430200"), email="zz@example.cn")
    week = digests.iso_week(timezone.localdate())
    # The crashed run claimed the first officer's digest and died before its e-mail went out.
    Digest.objects.create(user=first, kind=Digest.Kind.WEEKLY, week=week, email=first.email, subject="摘要",
                          body="正文")
    digests.send_weekly()
    assert sorted(m.to[0] for m in mail.outbox) == ["cs@example.cn", "zz@example.cn"]
    digests.send_weekly()
    tasks.send_digest.run(Digest.objects.get(user=first).pk)  # a duplicate delivery of the task
    assert len(mail.outbox) == 2 and Digest.objects.filter(status="sent").count() == 2


def test_a_mail_fault_is_retried_and_the_last_attempt_marks_the_digest_failed(year, monkeypatch):
    institution()
    officer = factories.CityOfficerFactory(email="cs@example.cn")
    row = digests.send_now(officer)

    def refuse(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        digests.send(row.pk)
    assert digests.send(row.pk, last_attempt=True).status == Digest.Status.FAILED


def test_officer_opts_out_of_the_weekly_digest_and_back_in(year, client, on_commit_immediately):
    institution()
    officer = factories.CityOfficerFactory(email="cs@example.cn")
    client.force_login(officer)
    response = client.post(reverse("review:digest_subscription"), {"weekly": "0"}, follow=True)
    assert "已退订每周待办摘要邮件" in response.content.decode()
    assert "每周待办摘要邮件：已退订" in response.content.decode()
    monday = datetime.date(2026, 11, 23)
    assert digests.send_weekly(monday) == [] and not mail.outbox
    client.post(reverse("review:digest_subscription"), {"weekly": "1"})
    assert "每周待办摘要邮件：接收中" in client.get(reverse("review:digest")).content.decode()
    digests.send_weekly(monday)
    assert [m.to for m in mail.outbox] == [["cs@example.cn"]]


def test_the_beat_runs_the_weekly_digest_task():
    entry = settings.CELERY_BEAT_SCHEDULE["send-weekly-digests"]
    assert entry["task"] == tasks.send_weekly_digests.name == "review.send_weekly_digests"


# --- 催报情况 and the lag warning ------------------------------------------------------------------------------

@pytest.fixture
def province_world(year):
    """Changsha: 2 institutions, both handed in (100%); Zhuzhou: 2, one handed in (50%). Hunan: 75%, Zhuzhou 25
    points behind. Zhuzhou sent 1 reminder and logged 1 telephone call."""
    for _ in range(2):
        handed_in(institution("430100"), year)
    late = institution("430200", name="株洲未提交检测")
    handed_in(institution("430200"), year)
    Reminder.objects.create(institution=late, reason=Reminder.Reason.CHASE, key=str(year.year),
                            status=Reminder.Status.SENT, email="x@example.cn", sent_at=timezone.now())
    ChasingRecord.objects.create(institution=late, year=year.year, channel=ChasingRecord.Channel.EMAIL, note="邮件")
    ChasingRecord.objects.create(institution=late, year=year.year, channel=ChasingRecord.Channel.PHONE, note="电话",
                                 contacted_on=timezone.localdate() - datetime.timedelta(days=2))
    return year


def activity_rows(user, year):
    activity = digests.chasing_activity(user, year, factories.region("430000"))
    return activity, {row["city_code"]: row for row in activity.rows}


def test_chasing_activity_counts_reminders_contacts_and_completeness_per_city(province_world, province_reviewer):
    activity, rows = activity_rows(province_reviewer, province_world)
    zhuzhou = rows["430200"]
    assert (zhuzhou["reminders_sent"], zhuzhou["contacts"], zhuzhou["last_activity"]) == (1, 1, timezone.localdate())
    assert (zhuzhou["completion"], activity.province_completion, zhuzhou["gap"]) == (50, 75, 25)
    assert (rows["430100"]["reminders_sent"], rows["430100"]["last_activity"]) == (0, None)
    assert zhuzhou["lagging"] and not rows["430100"]["lagging"]
    assert "株洲市的提交率落后全省 15 个百分点以上" in activity.warning


@pytest.mark.parametrize("margin, lagging", [(25, True), (24, True), (26, False)])
def test_a_city_lags_from_exactly_the_margin(province_world, province_reviewer, settings, margin, lagging):
    settings.LAG_MARGIN_POINTS = margin
    activity, rows = activity_rows(province_reviewer, province_world)
    assert rows["430200"]["lagging"] is lagging and bool(activity.warning) is lagging


@pytest.mark.parametrize("days_before, window, lagging", [
    (30, 30, True),   # the window's first day
    (10, 30, True),   # inside
    (0, 30, True),    # the deadline's own day
    (31, 30, False),  # one day before the window
    (-1, 30, False),  # after the deadline
])
def test_the_lag_warning_applies_only_within_the_window_before_the_deadline(
    province_world, province_reviewer, settings, days_before, window, lagging
):
    settings.LAG_WARNING_DAYS = window
    province_world.closes_at = timezone.now() + datetime.timedelta(days=days_before)
    province_world.save()
    activity, rows = activity_rows(province_reviewer, province_world)
    assert rows["430200"]["lagging"] is lagging and activity.in_window is lagging


def test_province_page_flags_the_lagging_city_with_a_warning(province_world, province_reviewer, client):
    client.force_login(province_reviewer)
    page = client.get(reverse("review:chasing_activity")).content.decode()
    assert "各市州催报情况 · 湖南省" in page and "lag-warning" in page and "株洲市的提交率落后全省" in page
    assert page.count('data-testid="lagging"') == 1
    assert reverse("review:chasing_activity") in client.get(reverse("review:progress")).content.decode()
    assert reverse("review:chasing_activity") in client.get(reverse("home")).content.decode()


def test_province_page_issues_a_fixed_number_of_queries_whatever_the_number_of_cities(
    province_world, province_reviewer, client, django_assert_max_num_queries
):
    client.force_login(province_reviewer)
    with django_assert_max_num_queries(14) as few:
        client.get(reverse("review:chasing_activity"))
    for code in ("430300", "430400", "430500", "430600", "430700"):
        lab = institution(code)
        ChasingRecord.objects.create(institution=lab, year=province_world.year, channel="visit", note="上门")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("review:chasing_activity")).content.decode()
    assert page.count("<tr data-city=") == 7


def test_samr_chooses_the_province(province_world, samr_reviewer, client):
    client.force_login(samr_reviewer)
    assert "请选择省份" in client.get(reverse("review:chasing_activity")).content.decode()
    page = client.get(reverse("review:chasing_activity") + "?province=430000").content.decode()
    assert "各市州催报情况 · 湖南省" in page and "株洲市" in page


def test_the_province_digest_lists_its_lagging_cities(province_world, province_reviewer, on_commit_immediately):
    province_reviewer.email = "hn@example.cn"
    province_reviewer.save()
    found = sections(digests.build_digest(province_reviewer))
    assert list(found) == ["lagging_cities"]
    assert [line.name for line in found["lagging_cities"].lines] == ["株洲市"]
    digests.send_weekly()
    assert mail.outbox[0].to == ["hn@example.cn"] and "株洲市" in mail.outbox[0].body
    assert "落后全省" in mail.outbox[0].body


def test_no_lagging_city_no_province_digest(province_world, province_reviewer, settings):
    settings.LAG_MARGIN_POINTS = 30
    assert digests.build_digest(province_reviewer).is_empty


# --- who may ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["review:digest", "review:chasing_activity"])
def test_anonymous_visitors_are_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("make", [factories.FilerFactory, factories.SamrReviewerFactory, factories.AdminFactory])
def test_only_officers_have_a_digest(client, make):
    client.force_login(make())
    assert client.get(reverse("review:digest")).status_code == 403
    assert client.post(reverse("review:digest_send")).status_code == 403
    assert client.post(reverse("review:digest_subscription"), {"weekly": "0"}).status_code == 403


@pytest.mark.parametrize("make", [factories.FilerFactory, factories.CityOfficerFactory])
def test_city_officers_and_filers_do_not_see_the_province_page(client, year, make):
    client.force_login(make())
    assert client.get(reverse("review:chasing_activity")).status_code == 403


def test_an_officer_of_another_city_sees_only_their_own_city(year, client):
    institution("430100", name="长沙未提交检测")
    institution("430200", name="株洲未提交检测")
    client.force_login(factories.CityOfficerFactory(region=factories.region("430200")))
    page = client.get(reverse("review:digest")).content.decode()
    assert "株洲未提交检测" in page and "长沙未提交检测" not in page


def test_the_predicates_name_who_has_a_digest_and_who_sees_chasing_activity():
    from accounts import permissions

    people = {"filer": factories.FilerFactory(), "city": factories.CityOfficerFactory(),
              "province": factories.ProvincialReviewerFactory(), "samr": factories.SamrReviewerFactory(),
              "admin": factories.AdminFactory()}
    assert {name for name, user in people.items() if permissions.can_view_digest(user)} == {"city", "province"}
    assert {name for name, user in people.items() if permissions.can_view_chasing_activity(user)} == {
        "province", "samr", "admin"}
