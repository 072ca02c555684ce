"""A reviewer ticks two filings in the queue and approves them at once; the dialog says how many, the page what
happened (issue 14 §4)."""
import pytest
from playwright.sync_api import expect

from filings import services as filing_services
from filings.models import Filing
from tests import factories
from tests.e2e.conftest import assert_accessible, log_in

pytestmark = pytest.mark.e2e


def test_reviewer_selects_two_filings_and_approves_them_through_the_dialog(page, transactional_db):
    year = factories.ReportingYearFactory(year=2025)
    filings = {}
    for name in ("湖南甲检测有限公司", "湖南乙检测有限公司", "湖南丙检测有限公司"):
        institution = factories.filing_ready_institution(name=name)
        filer = factories.FilerFactory(institution=institution)
        filing = factories.make_filing(institution, year=year)
        filings[name] = filing_services.submit_filing(filing, actor=filer, expected_version=filing.version)
    reviewer = factories.ProvincialReviewerFactory(first_name="省局审核员")

    log_in(page, reviewer.username)
    page.get_by_role("link", name="审核队列").first.click()
    table = page.get_by_test_id("queue-table")
    expect(table).to_contain_text("湖南丙检测有限公司")
    expect(page.get_by_test_id("bulk-actions")).to_contain_text("全部（当前筛选条件下无未说明预警的 3 份）")
    assert_accessible(page)
    button = page.get_by_role("button", name="批量审核通过")
    expect(button).to_be_disabled()  # nothing ticked yet
    page.get_by_label("选择 湖南甲检测有限公司").check()
    page.get_by_label("选择 湖南乙检测有限公司").check()
    button.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("将逐份审核通过 2 份填报")
    assert_accessible(page)
    dialog.get_by_role("button", name="确认审核通过").click()

    expect(page.get_by_role("alert")).to_contain_text("审核通过 2 份。")
    expect(table).not_to_contain_text("湖南甲检测有限公司")
    expect(table).to_contain_text("湖南丙检测有限公司")
    assert_accessible(page)
    statuses = dict(Filing.objects.values_list("institution__name", "status"))
    assert statuses == {"湖南甲检测有限公司": "approved", "湖南乙检测有限公司": "approved",
                        "湖南丙检测有限公司": "submitted"}
