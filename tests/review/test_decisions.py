"""Starting the review of a filing, every decision allowed and refused, concurrent decisions, field comments, the review
close date, extensions from the review screen, and the differences shown to the reviewer."""
import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from filings import services as filing_services
from filings.models import Extension, Filing, FilingTransition, ReportingYear
from filings.workflow import TransitionRefused
from institutions.models import ReviewingAuthority
from review import services
from review.models import FieldComment
from tests import factories

from .conftest import due, filer_of

pytestmark = pytest.mark.django_db
S = Filing.Status


def fresh(filing):
    return Filing.objects.select_related("institution__city", "year").get(pk=filing.pk)


def open_page(client, user, filing):
    """The reviewer opens the screen and presses 开始审核 (refused, and harmless, for anyone else)."""
    client.force_login(user)
    client.post(reverse("review:start_review", args=[filing.pk]))
    return client.get(reverse("review:detail", args=[filing.pk]))


def post_return(client, filing, **data):
    payload = {"version": fresh(filing).version, "comment": "请核对营业收入。",
               "due": (timezone.localtime() + datetime.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"), **data}
    return client.post(reverse("review:return", args=[filing.pk]), payload)


def test_starting_the_review_marks_it_in_review_and_the_filer_can_no_longer_withdraw(submit, province_reviewer, client):
    filing = submit(name="长沙甲")
    response = open_page(client, province_reviewer, filing)
    assert response.status_code == 200
    filing = fresh(filing)
    assert filing.status == S.IN_REVIEW
    assert FilingTransition.objects.filter(filing=filing, action="start_review", actor=province_reviewer).exists()
    with pytest.raises(TransitionRefused):
        filing_services.withdraw_filing(filing, actor=filer_of(filing), expected_version=filing.version)


def test_review_screen_shows_parts_warnings_with_explanations_and_timeline(submit, province_reviewer, client):
    filing = submit(name="长沙甲", stats={"revenue": 0}, explanations={"W211": "全部为政府委托免费检测。"})
    page = open_page(client, province_reviewer, filing).content.decode()
    assert "营业收入（万元）" in page and "一、持续符合检验检测机构资质认定条件和要求的状况" in page
    assert "W211" in page and "全部为政府委托免费检测。" in page
    assert "已提交" in page and "审核中" in page  # the timeline: submitted, then in review


def test_review_screen_shows_changes_from_previous_submission_and_last_years_approved_filing(
    submit, province_reviewer, client, year
):
    last_year = factories.ReportingYearFactory(year=year.year - 1)
    old = submit(name="长沙甲", year=last_year, stats={"staff_total": 50})
    old = filing_services.start_review(old, actor=province_reviewer)
    filing_services.approve_filing(old, actor=province_reviewer, expected_version=old.version)
    filing = submit(filer=filer_of(old), stats={"lab_area": 2600})
    filing = filing_services.start_review(filing, actor=province_reviewer)
    services.return_for_correction(filing, actor=province_reviewer, expected_version=filing.version,
                                   comment="请核对面积。", due=due())
    filing = fresh(filing)
    filing.statistics.lab_area = 2500
    filing.statistics.save()
    filing_services.submit_filing(filing, actor=filer_of(filing), expected_version=filing.version)

    response = open_page(client, province_reviewer, filing)
    previous, last = response.context["comparisons"]
    assert [(c.key, c.old_text, c.new_text) for c in previous.changes] == [("statistics.lab_area", "2600", "2500")]
    assert ("statistics.lab_area", "2400", "2500") in [(c.key, c.old_text, c.new_text) for c in last.changes]
    assert "statistics.staff_total" not in [c.key for c in last.changes]
    assert "第 1 次提交" in response.content.decode() and f"{year.year - 1}年度" in response.content.decode()


def test_reviewer_approves_and_the_decision_is_recorded(submit, province_reviewer, client, on_commit_immediately):
    filing = submit(name="长沙甲")
    open_page(client, province_reviewer, filing)
    response = client.post(reverse("review:approve", args=[filing.pk]),
                           {"version": fresh(filing).version, "comment": "数据完整。"})
    assert response.status_code == 302
    filing = fresh(filing)
    assert filing.status == S.APPROVED
    assert FilingTransition.objects.get(filing=filing, action="approve").comment == "数据完整。"


def test_reviewer_returns_with_field_comments_and_a_due_date_that_reopens_editing(
    submit, province_reviewer, client, year, on_commit_immediately
):
    filing = submit(name="长沙甲")
    open_page(client, province_reviewer, filing)
    response = post_return(client, filing, field_1="statistics.revenue", field_comment_1="营业收入与报告数不符。",
                           field_2="annual_report.conduct", field_comment_2="请补充从业规范情况。")
    assert response.status_code == 302, response.content.decode()[:2000]
    filing = fresh(filing)
    assert filing.status == S.RETURNED and filing.correction_due > timezone.now()
    comments = list(FieldComment.objects.filter(filing=filing).values_list("field", "label", "text"))
    assert comments == [
        ("statistics.revenue", "统计调查数据 · 营业收入（万元）", "营业收入与报告数不符。"),
        ("annual_report.conduct", "年度报告 · 二、遵守检验检测机构从业规范的情况", "请补充从业规范情况。"),
    ]
    # After the window has closed the filer may still correct until the due date.
    ReportingYear.objects.filter(pk=year.pk).update(closes_at=timezone.now() - datetime.timedelta(hours=1))
    filing = fresh(filing)
    saved = filing_services.save_part(filing, filing.statistics, actor=filer_of(filing),
                                      expected_version=filing.version, data={"revenue": 900})
    assert saved.version == filing.version + 1


def test_return_needs_a_comment_a_future_due_date_and_a_comment_for_each_chosen_field(
    submit, province_reviewer, client
):
    filing = submit(name="长沙甲")
    open_page(client, province_reviewer, filing)
    assert "退回必须填写意见" in post_return(client, filing, comment="").content.decode()
    past = (timezone.localtime() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert "必须晚于当前时间" in post_return(client, filing, due=past).content.decode()
    assert "请填写对该字段的意见" in post_return(client, filing, field_1="statistics.revenue").content.decode()
    assert "请选择该意见对应的字段" in post_return(client, filing, field_comment_1="没有字段").content.decode()
    response = post_return(client, filing, field_1="statistics.no_such_field", field_comment_1="x")
    assert response.status_code == 400
    assert fresh(filing).status == S.IN_REVIEW and not FieldComment.objects.exists()


def test_comments_with_html_are_shown_escaped(submit, province_reviewer, client, on_commit_immediately):
    filing = submit(name="长沙甲")
    open_page(client, province_reviewer, filing)
    post_return(client, filing, comment="<script>alert(1)</script>", field_1="statistics.revenue",
                field_comment_1="<b>加粗</b>")
    page = open_page(client, province_reviewer, filing).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    client.force_login(filer_of(filing))
    for url in (reverse("filings:overview", args=[filing.pk]), reverse("filings:statistics", args=[filing.pk])):
        page = client.get(url).content.decode()
        assert "<b>加粗</b>" not in page and "&lt;b&gt;加粗&lt;/b&gt;" in page
        assert "<script>alert(1)</script>" not in page


def test_field_comments_are_shown_to_the_filer_next_to_the_fields(
    submit, province_reviewer, client, on_commit_immediately
):
    filing = submit(name="长沙甲")
    open_page(client, province_reviewer, filing)
    post_return(client, filing, field_1="statistics.revenue", field_comment_1="营业收入明显偏低。",
                field_2="annual_report.activities", field_comment_2="请写明检测领域。")
    client.force_login(filer_of(filing))
    statistics = client.get(reverse("filings:statistics", args=[filing.pk]))
    form = statistics.context["form"]
    assert "审核意见：营业收入明显偏低。" in str(form.fields["revenue"].help_text)
    assert "审核意见" not in str(form.fields["staff_total"].help_text or "")
    html = statistics.content.decode()
    assert 'id="id_revenue_helptext"' in html
    helptext = html.split('id="id_revenue_helptext"', 1)[1].split("</div>", 1)[0]
    assert "审核意见：营业收入明显偏低。" in helptext
    annual = client.get(reverse("filings:annual_report", args=[filing.pk]))
    assert "审核意见：请写明检测领域。" in str(annual.context["form"].fields["activities"].help_text)
    overview = client.get(reverse("filings:overview", args=[filing.pk])).content.decode()
    assert "请核对营业收入。" in overview and "营业收入明显偏低。" in overview


def test_samr_quality_review_returns_an_approved_filing_of_any_province(
    submit, province_reviewer, samr_reviewer, client, on_commit_immediately
):
    filing = submit(name="长沙甲")
    filing = filing_services.start_review(filing, actor=province_reviewer)
    filing_services.approve_filing(filing, actor=province_reviewer, expected_version=filing.version)
    page = open_page(client, samr_reviewer, filing).content.decode()
    assert "质量审查退回" in page
    response = client.post(reverse("review:quality_return", args=[filing.pk]), {
        "version": fresh(filing).version, "comment": "抽查发现人员数据异常。",
        "due": (timezone.localtime() + datetime.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"),
        "field_1": "statistics.staff_total", "field_comment_1": "请核实从业人员。",
    })
    assert response.status_code == 302
    filing = fresh(filing)
    assert filing.status == S.RETURNED
    assert FieldComment.objects.get(filing=filing).transition.action == "quality_return"


@pytest.mark.parametrize("who", ["samr", "other_province", "city_officer", "filer", "admin"])
def test_decisions_by_anyone_but_the_reviewing_authority_are_refused_with_403(submit, province_reviewer, client, who):
    filing = submit(name="长沙甲")
    filing = filing_services.start_review(filing, actor=province_reviewer)
    actor = {
        "samr": lambda: factories.SamrReviewerFactory(),
        "other_province": lambda: factories.ProvincialReviewerFactory(region=factories.region("420000")),
        "city_officer": lambda: factories.CityOfficerFactory(),
        "filer": lambda: filer_of(filing),
        "admin": lambda: factories.AdminFactory(),
    }[who]()
    client.force_login(actor)
    version = fresh(filing).version
    due_text = (timezone.localtime() + datetime.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    assert client.post(reverse("review:approve", args=[filing.pk]), {"version": version}).status_code == 403
    assert client.post(reverse("review:return", args=[filing.pk]),
                       {"version": version, "comment": "x", "due": due_text}).status_code == 403
    assert fresh(filing).status == S.IN_REVIEW and fresh(filing).version == version


def test_provincial_reviewer_cannot_quality_return_and_samr_cannot_return_province_filings(submit, province_reviewer):
    filing = submit(name="长沙甲")
    filing = filing_services.start_review(filing, actor=province_reviewer)
    filing = filing_services.approve_filing(filing, actor=province_reviewer, expected_version=filing.version)
    with pytest.raises(PermissionDenied) as refused:
        services.quality_return(
            filing, actor=province_reviewer, expected_version=filing.version, comment="x", due=due()
        )
    assert refused.type.__name__ == "PermissionDenied"
    other = submit(name="长沙乙")
    other = filing_services.start_review(other, actor=province_reviewer)
    with pytest.raises(PermissionDenied) as refused:
        services.return_for_correction(other, actor=factories.SamrReviewerFactory(), expected_version=other.version,
                                       comment="x", due=due())
    assert refused.type.__name__ == "PermissionDenied"


def test_samr_reviews_samr_authority_filings_and_province_only_sees_them(
    submit, province_reviewer, samr_reviewer, client, on_commit_immediately
):
    filing = submit(name="总局审机构", authority=ReviewingAuthority.SAMR)
    page = open_page(client, province_reviewer, filing)
    assert page.status_code == 200 and "您只能查看" in page.content.decode()
    assert fresh(filing).status == S.SUBMITTED  # the province's look does not start the review
    open_page(client, samr_reviewer, filing)
    assert fresh(filing).status == S.IN_REVIEW
    response = client.post(reverse("review:approve", args=[filing.pk]), {"version": fresh(filing).version})
    assert response.status_code == 302 and fresh(filing).status == S.APPROVED


def test_a_reviewer_outside_the_region_cannot_open_the_filing(submit, client):
    filing = submit(name="长沙甲")
    hubei = factories.ProvincialReviewerFactory(region=factories.region("420000"))
    assert open_page(client, hubei, filing).status_code == 403
    assert fresh(filing).status == S.SUBMITTED


def test_two_reviewers_deciding_at_once_cannot_both_win(submit, province_reviewer, client, on_commit_immediately):
    filing = submit(name="长沙甲")
    colleague = factories.ProvincialReviewerFactory()
    open_page(client, province_reviewer, filing)
    loaded_version = fresh(filing).version  # both reviewers have the page open with this version
    client.post(reverse("review:approve", args=[filing.pk]), {"version": loaded_version})
    assert fresh(filing).status == S.APPROVED

    client.force_login(colleague)
    response = post_return(client, filing, version=loaded_version)
    assert response.status_code == 409
    assert "该填报已被他人或其他窗口更新，请刷新页面后再操作。" in response.content.decode()
    filing = fresh(filing)
    assert filing.status == S.APPROVED
    assert not FieldComment.objects.exists()
    assert FilingTransition.objects.filter(filing=filing, action="return_for_correction").count() == 0


def test_a_decision_on_a_page_loaded_before_the_filer_withdrew_and_resubmitted_is_refused(submit, province_reviewer):
    filing = submit(name="长沙甲")
    filing = filing_services.start_review(filing, actor=province_reviewer)
    stale = filing.version
    services.return_for_correction(filing, actor=province_reviewer, expected_version=stale, comment="改", due=due())
    with pytest.raises(TransitionRefused, match="刷新页面"):
        services.approve(fresh(filing), actor=province_reviewer, expected_version=stale)


def test_decisions_after_the_review_close_date_are_refused(submit, province_reviewer, client, year):
    filing = submit(name="长沙甲")
    filing = filing_services.start_review(filing, actor=province_reviewer)
    ReportingYear.objects.filter(pk=year.pk).update(
        closes_at=timezone.now() - datetime.timedelta(days=2),
        review_closes_at=timezone.now() - datetime.timedelta(days=1),
    )
    client.force_login(province_reviewer)
    response = client.post(reverse("review:approve", args=[filing.pk]), {"version": fresh(filing).version})
    assert response.status_code == 409 and "审核已于" in response.content.decode()
    assert fresh(filing).status == S.IN_REVIEW


def test_extension_is_granted_from_the_review_screen(submit, province_reviewer, client, year):
    filing = submit(name="长沙甲")
    page = open_page(client, province_reviewer, filing).content.decode()
    assert "批准延期" in page
    until = timezone.localtime(year.closes_at + datetime.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    detail = reverse("review:detail", args=[filing.pk])
    response = client.post(reverse("review:extension", args=[filing.institution_id, year.year]),
                           {"until": until, "reason": "疫情封控无法到岗。", "next": detail})
    assert response.status_code == 302 and response["Location"] == detail
    assert Extension.objects.get(institution=filing.institution).reason == "疫情封控无法到岗。"
    response = client.post(reverse("review:extension", args=[filing.institution_id, year.year]),
                           {"until": until, "reason": "", "next": detail}, follow=True)
    assert "请填写延期原因" in response.content.decode() and Extension.objects.count() == 1


def test_city_officer_cannot_grant_extensions(submit, client, year):
    filing = submit(name="长沙甲")
    client.force_login(factories.CityOfficerFactory())
    until = timezone.localtime(year.closes_at + datetime.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("review:extension", args=[filing.institution_id, year.year]),
                           {"until": until, "reason": "x"})
    assert response.status_code == 403 and not Extension.objects.exists()


def test_a_decision_the_current_state_does_not_allow_is_refused_with_a_message(submit, province_reviewer, client):
    filing = submit(name="长沙甲")
    filing = filing_services.start_review(filing, actor=province_reviewer)
    filing = filing_services.approve_filing(filing, actor=province_reviewer, expected_version=filing.version)
    client.force_login(province_reviewer)
    response = client.post(reverse("review:approve", args=[filing.pk]), {"version": filing.version})
    assert response.status_code == 409 and "填报当前为“审核通过”，不能审核通过" in response.content.decode()
    response = post_return(client, filing)
    assert response.status_code == 409 and "不能退回更正" in response.content.decode()
    assert fresh(filing).status == S.APPROVED and fresh(filing).version == filing.version


def test_admin_may_look_but_not_decide(submit, client):
    filing = submit(name="长沙甲")
    page = open_page(client, factories.AdminFactory(), filing)
    assert page.status_code == 200 and "系统管理员不作审核决定" in page.content.decode()
    assert fresh(filing).status == S.SUBMITTED
