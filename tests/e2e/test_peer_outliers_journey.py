"""偏离同行: a filer whose revenue per staff is far above its peers explains it before submitting; the reviewer finds
the filing with the queue's 偏离同行 filter and reads the peer median beside the value (issue 14 §9)."""
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from institutions.models import ProfessionalField, ReviewingAuthority
from tests import factories
from tests.e2e.conftest import assert_accessible

pytestmark = pytest.mark.e2e


def test_a_filing_far_from_its_peers_is_explained_and_flagged_for_the_reviewer(page, login, transactional_db):
    year = factories.ReportingYearFactory()
    field = ProfessionalField.objects.order_by("order", "code").first()
    for per_staff in [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]:  # 50 staff each: median 14.5 万元/人
        institution = factories.filing_ready_institution()
        institution.professional_fields.add(field)
        factories.make_filing(institution, year=year, status="approved", revenue=Decimal(per_staff * 50))
    institution = factories.filing_ready_institution(name="湖南高收入检测有限公司",
                                                     reviewing_authority=ReviewingAuthority.PROVINCE)
    institution.professional_fields.add(field)
    filer = factories.FilerFactory(institution=institution)
    filing = factories.make_filing(institution, year=year, revenue=Decimal("5000"))  # 100 万元/人
    reviewer = factories.ProvincialReviewerFactory(first_name="省局审核员")

    login(filer.username)
    page.goto(f"/filings/{filing.pk}/submit/")
    explanations = page.get_by_test_id("explanations")
    expect(explanations).to_contain_text("W221")
    expect(explanations).to_contain_text("同领域同规模机构中位数为 14.50 万元/人")
    assert_accessible(page)
    page.fill("#id_explain_W221", "本年度承接大型工程检测项目，人均收入高。")
    page.fill("#id_explain_W223", "同上，单份报告收费高。")
    page.get_by_role("button", name="提交审核").click()
    page.get_by_role("dialog").get_by_role("button", name="确认提交").click()
    expect(page.get_by_test_id("filing-status")).to_have_text("已提交")
    page.context.clear_cookies()

    login(reviewer.username)
    page.goto("/review/")
    page.get_by_label("同行比较").select_option(label="偏离同行")
    page.get_by_role("button", name="筛选").click()
    table = page.get_by_test_id("queue-table")
    expect(table.get_by_test_id("peer-flag")).to_have_text("偏离同行：人均收入↑、单份报告收入↑")
    expect(table.get_by_role("row")).to_have_count(2)  # the header and the one filing
    assert_accessible(page)

    table.get_by_role("link", name="审核 湖南高收入检测有限公司").click()
    peers = page.get_by_test_id("peer-comparison")
    row = peers.get_by_role("row").filter(has_text="人均营业收入")
    expect(row).to_contain_text("100.00")
    expect(row).to_contain_text("14.50")
    expect(row).to_contain_text("偏离同行↑")
    assert_accessible(page)
    page.get_by_role("tab", name="预警说明").click()
    expect(page.get_by_test_id("warnings")).to_contain_text("本年度承接大型工程检测项目")
    assert_accessible(page)
