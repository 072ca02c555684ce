"""Decisions in bulk (issue 14 §4): 批量审核通过 from the queue, each filing through the state machine on its own and
counted honestly; 全部 under the queue's own filter; bulk reminders from the late-filer list."""
import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from filings import services as filing_services
from filings.models import Filing, FilingTransition
from institutions.models import ReviewingAuthority
from review import services
from review.models import Reminder
from tests import factories

from .conftest import filer_of

pytestmark = pytest.mark.django_db
S = Filing.Status


def fresh(filing):
    return Filing.objects.get(pk=filing.pk)


def seen(*filings):
    """The checkbox values the queue rendered: id:version as the reviewer saw them."""
    return [f"{filing.pk}:{filing.version}" for filing in filings]


def press(client, reviewer, data):
    client.force_login(reviewer)
    response = client.post(reverse("review:bulk_approve"), data, follow=True)
    return response, [str(message) for message in response.context["messages"]]


def leave_unexplained(filing):
    """A submission whose warning carries no explanation (older data: the filer's page now requires one)."""
    snapshot = filing.snapshots.order_by("-number").first()
    data = {**snapshot.data, "warnings": [{"code": "W211", "message": "营业收入为零", "explanation": ""}]}
    filing.snapshots.filter(pk=snapshot.pk).update(data=data)  # snapshots refuse save(): written as stored before


def test_queue_offers_a_labelled_checkbox_per_row_and_the_bulk_button(submit, province_reviewer, client):
    filing = submit(name="长沙甲")
    client.force_login(province_reviewer)
    page = client.get(reverse("review:queue")).content.decode()
    assert f'name="filing" value="{filing.pk}:{filing.version}" aria-label="选择 长沙甲"' in page
    assert 'aria-label="全选本页"' in page and "批量审核通过" in page and 'id="confirm-dialog"' in page
    assert "全部（当前筛选条件下无未说明预警的 1 份）" in page


def test_a_concurrent_decision_is_counted_as_handled_by_others_and_the_rest_approved(submit, province_reviewer, client):
    first, second, third = submit(name="长沙甲"), submit(name="长沙乙"), submit(name="长沙丙")
    ticked = seen(first, second, third)
    # Another reviewer of the province decides the second filing after the page was rendered.
    colleague = factories.ProvincialReviewerFactory(first_name="另一审核员")
    started = filing_services.start_review(second, actor=colleague)
    filing_services.approve_filing(started, actor=colleague, expected_version=started.version)

    _, shown = press(client, province_reviewer, {"filing": ticked})
    assert shown == ["审核通过 2 份；1 份已被他人处理，未改动。"]
    assert [fresh(f).status for f in (first, second, third)] == [S.APPROVED, S.APPROVED, S.APPROVED]
    assert FilingTransition.objects.get(filing=second, action="approve").actor == colleague


def test_each_approval_is_recorded_in_the_timeline_with_the_actor(submit, province_reviewer, client):
    submitted = submit(name="长沙甲")
    in_review = filing_services.start_review(submit(name="长沙乙"), actor=province_reviewer)
    _, shown = press(client, province_reviewer, {"filing": seen(submitted, in_review)})
    assert shown == ["审核通过 2 份。"]
    for filing in (submitted, in_review):
        rows = list(FilingTransition.objects.filter(filing=filing).order_by("at", "pk").values_list(
            "action", "to_status", "actor", "comment"))
        assert rows[-2:] == [("start_review", S.IN_REVIEW, province_reviewer.pk, ""),
                             ("approve", S.APPROVED, province_reviewer.pk, "批量审核通过")]
        assert fresh(filing).decided_at is not None


def test_posted_ids_outside_the_reviewers_scope_are_ignored_and_counted(submit, province_reviewer, client):
    own = submit(name="长沙甲")
    samr_reviewed = submit(name="总局审核的机构", authority=ReviewingAuthority.SAMR)
    other_province = submit(city=factories.CityFactory(code="420100", name="武汉市").code, name="武汉甲")
    _, shown = press(client, province_reviewer, {"filing": [*seen(own, samr_reviewed, other_province), "999999:1"]})
    assert shown == ["审核通过 1 份；3 份不在您的审核范围内或不在待审核状态，未改动。"]
    assert fresh(samr_reviewed).status == S.SUBMITTED and fresh(other_province).status == S.SUBMITTED
    assert not FilingTransition.objects.filter(filing__in=[samr_reviewed, other_province],
                                               actor=province_reviewer).exists()


def test_a_stale_version_is_skipped(submit, province_reviewer, client):
    filing = filing_services.start_review(submit(name="长沙甲"), actor=province_reviewer)
    _, shown = press(client, province_reviewer, {"filing": [f"{filing.pk}:{filing.version - 1}"]})
    assert shown == ["1 份已被他人处理，未改动。"]
    assert fresh(filing).status == S.IN_REVIEW and fresh(filing).version == filing.version


def test_a_filing_with_an_unexplained_warning_is_skipped(submit, province_reviewer, client):
    plain, warned = submit(name="长沙甲"), submit(name="长沙乙")
    leave_unexplained(warned)
    _, shown = press(client, province_reviewer, {"filing": seen(plain, warned)})
    assert shown == ["审核通过 1 份；1 份有未说明的预警，已跳过。"]
    assert fresh(warned).status == S.SUBMITTED


def test_one_refusal_does_not_undo_the_others(submit, province_reviewer, client):
    open_filing = submit(name="长沙甲")
    closed = submit(name="长沙乙")
    # Only this filing's review has closed: a second year, already closed, for it alone.
    late_year = factories.ReportingYearFactory(year=2024, review_closes_at=timezone.now() - datetime.timedelta(days=1),
                                               closes_at=timezone.now() - datetime.timedelta(days=2))
    Filing.objects.filter(pk=closed.pk).update(year=late_year)
    _, shown = press(client, province_reviewer, {"filing": seen(open_filing, closed)})
    assert shown[0].startswith("审核通过 1 份；1 份未通过：本填报（2024年度）的审核已于")
    assert fresh(open_filing).status == S.APPROVED
    assert fresh(closed).status == S.SUBMITTED  # its 开始审核 rolled back with its approval
    assert not FilingTransition.objects.filter(filing=closed, actor=province_reviewer).exists()


def test_more_than_the_cap_is_refused_with_a_message_and_nothing_changes(submit, province_reviewer, client,
                                                                         monkeypatch):
    monkeypatch.setattr(services, "BULK_LIMIT", 2)
    filings = [submit(name=f"长沙{n}") for n in "甲乙丙"]
    _, shown = press(client, province_reviewer, {"filing": seen(*filings)})
    assert shown == ["一次最多批量审核通过 2 份，所选 3 份，请缩小范围后分批操作。未作任何改动。"]
    _, shown = press(client, province_reviewer, {"all": "1", "count": "3", "next": reverse("review:queue")})
    assert shown[0].startswith("一次最多批量审核通过 2 份")
    assert {fresh(f).status for f in filings} == {S.SUBMITTED}
    page = client.get(reverse("review:queue")).content.decode()
    assert "超过单次上限 2 份" in page


def test_all_under_the_filter_is_the_queues_own_rows_less_unexplained_warnings(submit, province_reviewer, client):
    changsha = [submit(name="长沙甲"), submit(name="长沙乙")]
    warned = submit(name="长沙有预警")
    leave_unexplained(warned)
    zhuzhou = submit(city="430200", name="株洲甲")
    city = factories.region("430100")
    queue_url = f"{reverse('review:queue')}?city={city.pk}"
    client.force_login(province_reviewer)
    response = client.get(queue_url)
    listed = {row.pk for row in response.context["page"]}
    assert listed == {f.pk for f in [*changsha, warned]}
    assert response.context["all_count"] == 2
    assert "全部（当前筛选条件下无未说明预警的 2 份）" in response.content.decode()

    _, shown = press(client, province_reviewer, {"all": "1", "count": "2", "next": queue_url})
    assert shown == ["审核通过 2 份。"]
    assert [fresh(f).status for f in changsha] == [S.APPROVED, S.APPROVED]
    assert fresh(warned).status == S.SUBMITTED and fresh(zhuzhou).status == S.SUBMITTED


def test_all_refuses_more_than_were_confirmed_and_counts_those_that_left(submit, province_reviewer, client):
    first = submit(name="长沙甲")
    second = submit(name="长沙乙")
    _, shown = press(client, province_reviewer, {"all": "1", "count": "1", "next": reverse("review:queue")})
    assert shown == ["符合条件的填报已由 1 份增至 2 份，未作任何改动，请刷新页面核对后重试。"]
    assert {fresh(first).status, fresh(second).status} == {S.SUBMITTED}
    filing_services.withdraw_filing(second, actor=filer_of(second), expected_version=second.version)
    _, shown = press(client, province_reviewer, {"all": "1", "count": "2", "next": reverse("review:queue")})
    assert shown == ["审核通过 1 份；1 份已被他人处理，未改动。"]


def test_bad_input_changes_nothing_and_says_so(submit, province_reviewer, client):
    filing = submit(name="长沙甲")
    for data in ({"filing": [f"{filing.pk}:x"]}, {"all": "1", "count": "many"}):
        _, shown = press(client, province_reviewer, data)
        assert shown == ["提交内容有误，未作任何改动，请刷新页面后重试。"]
    _, shown = press(client, province_reviewer, {})
    assert shown == ["请先勾选要审核通过的填报。"]
    assert fresh(filing).status == S.SUBMITTED


def test_admins_and_city_officers_cannot_approve_in_bulk(submit, client):
    filing = submit(name="长沙甲")
    admin = factories.AdminFactory()
    for user in (admin, factories.CityOfficerFactory()):
        client.force_login(user)
        response = client.post(reverse("review:bulk_approve"), {"filing": seen(filing)})
        assert response.status_code == 403
    client.force_login(admin)
    assert "批量审核通过" not in client.get(reverse("review:queue")).content.decode()
    assert fresh(filing).status == S.SUBMITTED


# --- reminders in bulk ---------------------------------------------------------------------------------------------

def test_reminders_to_all_late_filers_under_the_filter_state_each_count(year, client, on_commit_immediately):
    factories.InstitutionFactory(name="长沙有邮箱", contact_email="lab@example.cn")
    reminded = factories.InstitutionFactory(name="长沙已提醒", contact_email="done@example.cn")
    factories.InstitutionFactory(name="长沙无邮箱", contact_email="")
    zhuzhou = factories.InstitutionFactory(name="株洲机构", city=factories.region("430200"),
                                           contact_email="zz@example.cn")
    province = factories.ProvincialReviewerFactory()
    services.request_reminders([reminded], actor=province, year=year.year, deadline=datetime.date(2026, 4, 30))
    mail.outbox.clear()
    client.force_login(province)
    page = client.get(reverse("review:late_filers") + "?city=430100").content.decode()
    assert "全部（当前筛选条件下的 3 家）" in page
    response = client.post(reverse("review:remind"), {"year": year.year, "all": "1", "city": "430100"}, follow=True)
    shown = [str(message) for message in response.context["messages"]]
    assert shown[0] == "已发送 1 封催报邮件；1 家今日已提醒，未重复发送；1 家未登记电子邮箱。"
    assert [message.to for message in mail.outbox] == [["lab@example.cn"]]
    assert not Reminder.objects.filter(institution=zhuzhou).exists()


def test_reminders_to_all_in_a_city_outside_the_officers_area_send_nothing(year, client):
    factories.InstitutionFactory(city=factories.region("430200"), contact_email="zz@example.cn")
    client.force_login(factories.CityOfficerFactory())
    response = client.post(reverse("review:remind"), {"year": year.year, "all": "1", "city": "430200"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["所选市州不在您的管辖范围内，未发送。"]
    assert not Reminder.objects.exists()


def test_reminders_to_more_than_the_cap_are_refused_and_nothing_is_sent(year, client, monkeypatch):
    monkeypatch.setattr(services, "BULK_LIMIT", 1)
    first = factories.InstitutionFactory(contact_email="a@example.cn")
    second = factories.InstitutionFactory(contact_email="b@example.cn")
    client.force_login(factories.CityOfficerFactory())
    for data in ({"all": "1"}, {"institution": [first.pk, second.pk]}):
        response = client.post(reverse("review:remind"), {"year": year.year, **data}, follow=True)
        assert [str(m) for m in response.context["messages"]] == [
            "一次最多向 1 家机构发送催报邮件，请按市州分批发送。未发送。"]
    assert not Reminder.objects.exists() and not mail.outbox
