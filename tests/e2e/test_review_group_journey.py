"""评审组 (issue 14 §8): SAMR sets up a review group, adds a member and assigns an institution by searching the
register; the filer's page says the authority is locked; the member approves the filing and the decision names the
group."""
import pytest
from playwright.sync_api import expect

from filings import services as filing_services
from filings.models import Filing
from tests import factories
from tests.e2e.conftest import assert_accessible, log_in, open_page

pytestmark = pytest.mark.e2e
GROUP = "国家食品质检评审组"


def signed_in(browser, live_server, username):
    context, page = open_page(browser, live_server)
    log_in(page, username)
    return context, page


def test_samr_sets_up_a_group_and_its_member_approves_under_its_name(browser, live_server, transactional_db):
    year = factories.ReportingYearFactory(year=2025)
    institution = factories.filing_ready_institution(name="湖南湘江食品检测有限公司")
    filer = factories.FilerFactory(institution=institution)
    samr = factories.SamrReviewerFactory(first_name="总局审核员")
    member = factories.GroupReviewerFactory(username="group1", first_name="评审组审核员")

    # SAMR sets up the group from its home page, adds the member and assigns the institution found by credit code.
    context, page = signed_in(browser, live_server, samr.username)
    page.get_by_test_id("review-groups-link").click()
    assert_accessible(page)
    form = page.get_by_test_id("review-group-create")
    form.get_by_label("评审组名称").fill("湖南省市场监督管理局")
    form.get_by_role("button", name="设立").click()
    expect(page.get_by_role("alert")).to_contain_text("不能使用市场监管部门的名称")
    page.get_by_test_id("review-group-create").get_by_label("评审组名称").fill(GROUP)
    page.get_by_test_id("review-group-create").get_by_role("button", name="设立").click()
    expect(page.get_by_test_id("review-group-name")).to_contain_text(f"评审组：{GROUP}")
    page.get_by_test_id("review-group-add-member").get_by_label("成员用户名").fill("group1")
    page.get_by_role("button", name="添加成员").click()
    expect(page.get_by_test_id("review-group-members")).to_contain_text("评审组审核员")
    page.get_by_label("机构名称或统一社会信用代码").fill(institution.credit_code)
    page.get_by_role("button", name="查找").click()
    page.get_by_test_id("assign-results").get_by_role("button", name="指定").click()
    expect(page.get_by_role("alert")).to_contain_text("已指定湖南湘江食品检测有限公司")
    expect(page.get_by_test_id("review-group-institutions")).to_contain_text("湖南湘江食品检测有限公司")
    assert_accessible(page)
    context.close()

    # The filer sees the lock on the institution's page, then submits.
    context, page = signed_in(browser, live_server, filer.username)
    page.goto(f"/institutions/{institution.pk}/")
    expect(page.get_by_test_id("authority-value")).to_contain_text(f"评审组：{GROUP}")
    expect(page.get_by_test_id("authority-group")).to_contain_text("不能自选或更改")
    assert_accessible(page)
    context.close()
    filing = factories.make_filing(institution, year=year)
    filing_services.submit_filing(filing, actor=filer, expected_version=filing.version)

    # The member finds it in the queue, starts the review and approves; the timeline names the group.
    context, page = signed_in(browser, live_server, member.username)
    expect(page.get_by_test_id("my-review-groups")).to_contain_text(GROUP)
    page.get_by_role("link", name="审核队列").first.click()
    row = page.get_by_test_id("queue-table").get_by_role("row", name="湖南湘江食品检测有限公司")
    row.get_by_role("link", name="审核").click()
    assert_accessible(page)
    page.get_by_role("button", name="开始审核").click()
    expect(page.get_by_test_id("filing-status")).to_have_text("审核中")
    page.get_by_role("button", name="审核通过").click()
    page.get_by_role("dialog").get_by_role("button", name="确认审核通过").click()
    expect(page.get_by_role("alert")).to_contain_text("湖南湘江食品检测有限公司")
    page.goto(f"/review/filings/{filing.pk}/")
    expect(page.get_by_test_id("filing-status")).to_have_text("审核通过")
    page.get_by_role("tab", name="记录").click()
    expect(page.get_by_test_id("timeline-authority").last).to_have_text(f"评审组：{GROUP}")
    assert_accessible(page)
    context.close()
    assert Filing.objects.get(pk=filing.pk).transitions.filter(action="approve", actor=member).exists()
