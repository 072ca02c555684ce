"""A filer asks to rename the institution; the public 报告编号查询 keeps the registered name until the province's
reviewer confirms the request; the filer is then told on the home page."""
import pytest
from playwright.sync_api import expect

from institutions.models import Institution
from reports.models import ReportNumber, ReportNumberBatch
from tests import factories
from tests.e2e.conftest import assert_accessible

pytestmark = pytest.mark.e2e


def test_filer_requests_a_rename_reviewer_confirms_and_the_public_lookup_follows(page, login, transactional_db):
    institution = factories.InstitutionFactory(name="湖南麓谷检验检测有限公司", legal_representative="王伟")
    filer = factories.FilerFactory(institution=institution)
    reviewer = factories.ProvincialReviewerFactory(first_name="省局审核员")
    batch = ReportNumberBatch.objects.create(institution=institution, year=2023, quarter=4, status="done", accepted=1)
    ReportNumber.objects.create(institution=institution, year=2023, quarter=4, batch=batch, number="LG-2023-0001")

    login(filer.username)
    page.get_by_role("link", name="本单位信息").first.click()
    assert_accessible(page)
    page.get_by_test_id("identity-change-link").click()
    assert_accessible(page)
    form = page.get_by_test_id("identity-change-form")
    form.get_by_label("机构名称").fill("湖南麓谷检测集团有限公司")
    form.get_by_label("变更原因").fill("营业执照已于本月变更名称。")
    form.get_by_role("button", name="提交申请").click()
    expect(page.get_by_text("信息变更申请已提交")).to_be_visible()
    expect(page.get_by_test_id("identity-changes")).to_contain_text("待确认")
    assert_accessible(page)

    # Until confirmed, the public lookup (no login) shows the registered name.
    page.context.clear_cookies()
    page.goto("/reports/verify/?number=LG-2023-0001")
    expect(page.get_by_test_id("verify-found")).to_contain_text("湖南麓谷检验检测有限公司")
    assert_accessible(page)

    login(reviewer.username)
    page.get_by_test_id("notifications").get_by_role("link", name="有 1 份机构信息变更申请待确认。").click()
    table = page.get_by_test_id("identity-change-table")
    expect(table).to_contain_text("湖南麓谷检测集团有限公司")
    assert_accessible(page)
    table.get_by_role("button", name="确认变更").click()
    expect(page.get_by_text("已确认“湖南麓谷检验检测有限公司”的信息变更申请。")).to_be_visible()
    assert Institution.objects.get(pk=institution.pk).name == "湖南麓谷检测集团有限公司"

    page.context.clear_cookies()
    page.goto("/reports/verify/?number=LG-2023-0001")
    expect(page.get_by_test_id("verify-found")).to_contain_text("湖南麓谷检测集团有限公司")

    login(filer.username)
    expect(page.get_by_test_id("notifications")).to_contain_text("经审核部门确认")
