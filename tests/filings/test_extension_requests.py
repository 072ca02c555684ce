"""延期申请 (issue 14 §3): the filer asks before its deadline, the city officer comments, the reviewing authority
grants (possibly to an earlier date, through the one way an extension exists) or refuses; every step is on the
timeline and e-mailed; two decisions at once give one; automatic reminders state the granted date."""
import datetime
import threading

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from filings import extensions, selectors
from filings.extensions import ExtensionRequestRefused
from filings.models import Extension, ExtensionRequest, Filing, ReportingYear
from review import services as review_services
from review.models import Reminder
from tests import factories

pytestmark = pytest.mark.django_db
S = ExtensionRequest.Status


def days(n):
    return datetime.timedelta(days=n)


@pytest.fixture
def people(db):
    changsha, zhuzhou, hunan = (factories.region(code) for code in ("430100", "430200", "430000"))
    lab = factories.filing_ready_institution(name="长沙延期检测有限公司", city=changsha, reviewing_authority="province",
                                             contact_email="lab@example.cn")
    other = factories.filing_ready_institution(name="株洲检测有限公司", city=zhuzhou)
    return {
        "filer": factories.FilerFactory(institution=lab, email="filer@example.cn"),
        "other_filer": factories.FilerFactory(institution=other),
        "city": factories.CityOfficerFactory(region=changsha, email="city@example.cn"),
        "other_city": factories.CityOfficerFactory(region=zhuzhou, email="zz@example.cn"),
        "province": factories.ProvincialReviewerFactory(region=hunan, email="prov@example.cn"),
        "other_province": factories.ProvincialReviewerFactory(region=factories.region("420000")),
        "admin": factories.AdminFactory(),
    }


@pytest.fixture
def filing(people):
    return factories.make_filing(people["filer"].institution, year=factories.ReportingYearFactory())


def ask(filing, people, *, until=None, reason="检测任务集中，数据汇总需要时间"):
    until = until or filing.year.closes_at + days(20)
    return extensions.request_extension(filing, actor=people["filer"], until=until, reason=reason)


def fresh(filing):
    return Filing.objects.select_related("institution__city", "year").get(pk=filing.pk)


# --- asking ------------------------------------------------------------------------------------------------------

def test_filer_asks_and_the_city_officer_and_the_reviewer_are_told(filing, people, on_commit_immediately):
    request = ask(filing, people)
    assert request.status == S.PENDING and request.requested_by == people["filer"]
    [message] = mail.outbox
    assert set(message.to) == {"city@example.cn", "prov@example.cn"}
    assert "长沙延期检测有限公司申请延期填报" in message.subject and "检测任务集中" in message.body


@pytest.mark.parametrize("until, reason, message", [
    (lambda year: year.closes_at + days(5), "", "请填写延期原因"),
    (lambda year: year.closes_at - days(1), "原因", "必须晚于当前截止时间"),
    (lambda year: year.closes_at + days(91), "原因", "不能晚于"),
])
def test_bad_input_is_refused_in_chinese_and_nothing_is_saved(filing, people, until, reason, message):
    with pytest.raises(ExtensionRequestRefused, match=message):
        ask(filing, people, until=until(filing.year), reason=reason)
    assert not ExtensionRequest.objects.exists()


def test_no_request_after_the_deadline_that_applies(filing, people):
    ReportingYear.objects.filter(pk=filing.year_id).update(closes_at=timezone.now() - days(1))
    with pytest.raises(ExtensionRequestRefused, match="截止，不能再申请延期"):
        ask(fresh(filing), people, until=timezone.now() + days(10))
    assert not ExtensionRequest.objects.exists()


@pytest.mark.parametrize("status", [Filing.Status.SUBMITTED, Filing.Status.IN_REVIEW, Filing.Status.APPROVED])
def test_a_filing_handed_in_needs_no_extension(filing, people, status):
    Filing.objects.filter(pk=filing.pk).update(status=status)
    with pytest.raises(ExtensionRequestRefused, match="无需申请延期"):
        ask(fresh(filing), people)
    assert not ExtensionRequest.objects.exists()


@pytest.mark.parametrize("who", ["other_filer", "city", "province", "admin"])
def test_only_the_institutions_filers_ask(filing, people, who):
    with pytest.raises(PermissionDenied):
        extensions.request_extension(filing, actor=people[who], until=filing.year.closes_at + days(5), reason="x")
    assert not ExtensionRequest.objects.exists()


def test_one_pending_request_per_filing_by_the_service_and_the_database(filing, people):
    first = ask(filing, people)
    with pytest.raises(ExtensionRequestRefused, match="已有待审核的延期申请"):
        ask(filing, people)
    with pytest.raises(IntegrityError), transaction.atomic():
        ExtensionRequest.objects.create(filing=filing, requested_until=first.requested_until, reason="again",
                                        requested_by=people["filer"])
    extensions.withdraw_extension_request(first, actor=people["filer"])
    assert ask(filing, people).status == S.PENDING  # after a withdrawal the filer may ask again


def test_a_withdrawn_request_cannot_be_decided_or_commented(filing, people):
    request = ask(filing, people)
    extensions.withdraw_extension_request(request, actor=people["filer"])
    with pytest.raises(ExtensionRequestRefused, match="已撤回"):
        extensions.grant_extension_request(request, actor=people["province"])
    with pytest.raises(ExtensionRequestRefused, match="已撤回"):
        extensions.refuse_extension_request(request, actor=people["province"], comment="不同意")
    with pytest.raises(ExtensionRequestRefused, match="已撤回"):
        extensions.comment_extension_request(request, actor=people["city"], comment="同意")
    assert not Extension.objects.exists()


# --- commenting and deciding ---------------------------------------------------------------------------------------

def test_the_city_officer_of_the_institutions_city_comments(filing, people, on_commit_immediately):
    request = ask(filing, people)
    mail.outbox.clear()
    request = extensions.comment_extension_request(request, actor=people["city"], comment="情况属实，建议批准")
    assert request.officer_comment == "情况属实，建议批准" and request.officer_comment_by == people["city"]
    assert "prov@example.cn" in mail.outbox[0].to
    for who in ("other_city", "province", "filer"):
        with pytest.raises(PermissionDenied):
            extensions.comment_extension_request(request, actor=people[who], comment="x")
    with pytest.raises(ExtensionRequestRefused, match="请填写意见"):
        extensions.comment_extension_request(request, actor=people["city"], comment="  ")


def test_reviewer_grants_to_an_earlier_date_through_the_one_extension_and_the_filer_is_told(
        filing, people, on_commit_immediately):
    request = ask(filing, people, until=filing.year.closes_at + days(20))
    mail.outbox.clear()
    earlier = filing.year.closes_at + days(10)
    request = extensions.grant_extension_request(request, actor=people["province"], until=earlier, comment="同意")
    assert request.status == S.GRANTED and request.granted_until == earlier
    extension = Extension.objects.get()
    assert request.extension == extension and extension.until == earlier and extension.granted_by == people["province"]
    deadline = selectors.filing_deadline(fresh(filing))
    assert deadline.at == earlier and deadline.kind == deadline.EXTENSION
    [message] = mail.outbox
    assert {"filer@example.cn", "lab@example.cn", "city@example.cn"} <= set(message.to)
    assert "已批准" in message.subject and f"{timezone.localtime(earlier):%Y年%m月%d日 %H:%M}" in message.body


def test_grant_defaults_to_the_requested_date_and_never_later(filing, people):
    request = ask(filing, people)
    with pytest.raises(ExtensionRequestRefused, match="不能晚于申请的时间"):
        extensions.grant_extension_request(request, actor=people["province"], until=request.requested_until + days(1))
    assert not Extension.objects.exists()
    granted = extensions.grant_extension_request(request, actor=people["province"])
    assert granted.granted_until == request.requested_until


@pytest.mark.parametrize("who", ["city", "other_province", "filer", "other_filer"])
def test_only_the_reviewing_authority_decides(filing, people, who):
    request = ask(filing, people)
    with pytest.raises(PermissionDenied):
        extensions.grant_extension_request(request, actor=people[who])
    with pytest.raises(PermissionDenied):
        extensions.refuse_extension_request(request, actor=people[who], comment="不同意")
    assert ExtensionRequest.objects.get().status == S.PENDING and not Extension.objects.exists()


def test_refusal_needs_a_comment_and_tells_the_filer(filing, people, on_commit_immediately):
    request = ask(filing, people)
    with pytest.raises(ExtensionRequestRefused, match="必须填写意见"):
        extensions.refuse_extension_request(request, actor=people["province"], comment="")
    mail.outbox.clear()
    refused = extensions.refuse_extension_request(request, actor=people["province"], comment="理由不充分")
    assert refused.status == S.REFUSED and not Extension.objects.exists()
    assert "filer@example.cn" in mail.outbox[0].to and "理由不充分" in mail.outbox[0].body
    with pytest.raises(ExtensionRequestRefused, match="已拒绝"):
        extensions.grant_extension_request(request, actor=people["province"])


def test_two_reviewers_deciding_at_once_give_exactly_one_decision(transactional_db):
    """Two connections: the second waits on the first's lock of the request and is refused once it sees the grant."""
    hunan = factories.region("430000")
    lab = factories.filing_ready_institution(city=factories.region("430100"), reviewing_authority="province")
    filer = factories.FilerFactory(institution=lab)
    filing = factories.make_filing(lab, year=factories.ReportingYearFactory())
    request = extensions.request_extension(filing, actor=filer, until=filing.year.closes_at + days(10), reason="r")
    first_locked, results = threading.Event(), {}
    reviewers = [factories.ProvincialReviewerFactory(region=hunan) for _ in range(2)]

    def decide(name, reviewer):
        try:
            if name == "second":
                first_locked.wait(10)
            with transaction.atomic():
                try:
                    if name == "first":
                        results[name] = extensions.grant_extension_request(request, actor=reviewer)
                    else:
                        results[name] = extensions.refuse_extension_request(request, actor=reviewer, comment="否")
                except ExtensionRequestRefused as refusal:
                    results[name] = refusal
                first_locked.set()
                threading.Event().wait(1.0 if name == "first" else 0)
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(name, reviewer))
               for name, reviewer in zip(("first", "second"), reviewers, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert isinstance(results["second"], ExtensionRequestRefused) and "已批准" in str(results["second"])
    assert ExtensionRequest.objects.get().status == S.GRANTED and Extension.objects.count() == 1


# --- the timeline, the reminders ---------------------------------------------------------------------------------

def test_request_comment_and_decision_show_on_the_timeline(filing, people, client):
    request = ask(filing, people)
    extensions.comment_extension_request(request, actor=people["city"], comment="建议批准")
    extensions.grant_extension_request(request, actor=people["province"], until=filing.year.closes_at + days(7))
    texts = [event.text for event in selectors.timeline(fresh(filing)) if getattr(event, "extension_event", False)]
    granted = f"{timezone.localtime(filing.year.closes_at + days(7)):%Y-%m-%d %H:%M}"
    assert texts == [f"申请延期至 {timezone.localtime(request.requested_until):%Y-%m-%d %H:%M}", "市州局意见",
                     f"批准延期至 {granted}"]
    client.force_login(people["filer"])
    page = client.get(reverse("filings:overview", args=[filing.pk])).content.decode()
    assert f"批准延期至 {granted}" in page and "建议批准" in page and "已批准" in page


def test_automatic_reminders_state_the_granted_date(filing, people, on_commit_immediately):
    closes = timezone.localtime().replace(hour=23, minute=59, second=0, microsecond=0) + days(7)
    ReportingYear.objects.filter(pk=filing.year_id).update(closes_at=closes, review_closes_at=closes + days(60))
    filing = fresh(filing)
    granted = closes + days(14)
    extensions.grant_extension_request(ask(filing, people, until=closes + days(30)), actor=people["province"],
                                       until=granted)
    mail.outbox.clear()
    review_services.plan_automatic_reminders()
    reminder = Reminder.objects.get(institution=filing.institution, reason=Reminder.Reason.DEADLINE)
    assert f"{timezone.localtime(granted):%Y年%m月%d日}" in reminder.subject
    assert f"{timezone.localtime(closes):%Y年%m月%d日}" not in reminder.subject


def test_an_extension_brings_its_own_reminder_points_after_the_window_closes(filing, people, on_commit_immediately):
    closes = timezone.localtime().replace(hour=23, minute=59, second=0, microsecond=0) + days(7)
    ReportingYear.objects.filter(pk=filing.year_id).update(closes_at=closes, review_closes_at=closes + days(60))
    filing = fresh(filing)
    granted = closes + days(14)
    extensions.grant_extension_request(ask(filing, people, until=granted), actor=people["province"], until=granted)
    # The window closed yesterday for everyone else; this institution's deadline is 21 days away.
    ReportingYear.objects.filter(pk=filing.year_id).update(closes_at=timezone.now() - days(1))
    today = timezone.localdate()
    granted_day = timezone.localtime(granted).date()
    [first] = review_services.plan_automatic_reminders(today)
    assert Reminder.objects.get(pk=first).key == f"{filing.year.year}/30/{granted_day.isoformat()}"
    assert review_services.plan_automatic_reminders(today) == []  # each point once
    [second] = review_services.plan_automatic_reminders(granted_day - days(5))
    assert Reminder.objects.get(pk=second).key == f"{filing.year.year}/7/{granted_day.isoformat()}"
    assert review_services.plan_automatic_reminders(granted_day + days(1)) == []  # past its own deadline


# --- pages -------------------------------------------------------------------------------------------------------

def test_filer_asks_on_the_overview_and_sees_the_state(filing, people, client):
    client.force_login(people["filer"])
    url = reverse("filings:overview", args=[filing.pk])
    assert "申请延期" in client.get(url).content.decode()
    until = timezone.localtime(filing.year.closes_at + days(10)).strftime("%Y-%m-%d %H:%M")
    response = client.post(reverse("filings:request_extension", args=[filing.pk]),
                           {"until": until, "reason": "设备故障"}, follow=True)
    page = response.content.decode()
    assert "延期申请已提交" in page and "待审核" in page and "撤回延期申请" in page
    response = client.post(reverse("filings:request_extension", args=[filing.pk]), {"until": "", "reason": ""},
                           follow=True)
    assert "延期申请未提交：请填写申请延期的时间。" in response.content.decode()
    assert ExtensionRequest.objects.count() == 1


def test_officer_and_reviewer_lists_and_the_home_page_count(filing, people, client):
    request = ask(filing, people)
    client.force_login(people["city"])
    assert "有 1 条延期申请待处理" in client.get(reverse("home")).content.decode()
    page = client.get(reverse("filings:extension_requests")).content.decode()
    assert "长沙延期检测有限公司" in page and "保存意见" in page and "批准延期" not in page
    client.post(reverse("filings:extension_request_comment", args=[request.pk]), {"comment": "属实"})
    client.force_login(people["province"])
    page = client.get(reverse("filings:extension_requests")).content.decode()
    assert "属实" in page and "批准延期" in page and "保存意见" not in page
    client.force_login(people["other_city"])
    assert "长沙延期检测有限公司" not in client.get(reverse("filings:extension_requests")).content.decode()


def test_reviewer_refuses_on_the_list_and_a_refusal_without_comment_changes_nothing(filing, people, client):
    request = ask(filing, people)
    client.force_login(people["province"])
    response = client.post(reverse("filings:extension_request_refuse", args=[request.pk]), {"comment": ""},
                           follow=True)
    assert "未审批：拒绝延期申请必须填写意见。" in response.content.decode()
    assert ExtensionRequest.objects.get().status == S.PENDING
    client.post(reverse("filings:extension_request_refuse", args=[request.pk]), {"comment": "材料不足"})
    assert ExtensionRequest.objects.get().status == S.REFUSED


def test_hostile_ids_and_roles_are_refused(filing, people, client):
    request = ask(filing, people)
    client.force_login(people["other_filer"])
    assert client.post(reverse("filings:extension_request_withdraw", args=[request.pk])).status_code == 404
    assert client.post(reverse("filings:request_extension", args=[filing.pk]),
                       {"until": "2099-01-01 00:00", "reason": "x"}).status_code == 404
    client.force_login(people["other_city"])
    assert client.post(reverse("filings:extension_request_comment", args=[request.pk]),
                       {"comment": "x"}).status_code == 404
    client.force_login(people["city"])
    assert client.post(reverse("filings:extension_request_grant", args=[request.pk]), {}).status_code == 403
    client.force_login(people["filer"])
    assert client.get(reverse("filings:extension_requests")).status_code == 403
    assert ExtensionRequest.objects.get().status == S.PENDING and not ExtensionRequest.objects.get().officer_comment
