"""A filer keeps the entity's profile: adds a national certificate and a site, and sees the reviewing authority
the system derives change from the province to SAMR."""
import pytest
from playwright.sync_api import expect

from institutions.models import Institution, ReviewingAuthority
from tests import factories
from tests.e2e.conftest import assert_accessible

pytestmark = pytest.mark.e2e


def test_filer_adds_a_certificate_and_a_site_and_sees_the_authority_change(page, login, transactional_db):
    institution = factories.InstitutionFactory(name="湖南麓谷检验检测有限公司")
    factories.CmaCertificateFactory(institution=institution, capability_items=80)
    filer = factories.FilerFactory(institution=institution)
    login(filer.username)
    page.get_by_role("link", name="本单位信息").first.click()

    authority = page.get_by_test_id("reviewing-authority")
    expect(authority.get_by_test_id("authority-value")).to_contain_text("湖南省市场监督管理局")
    expect(authority).to_contain_text("仅持有省级")
    expect(page.get_by_test_id("filing-blockers")).to_contain_text("至少要有一个检验检测场所")
    assert_accessible(page)

    # A national certificate covering more capability items than the provincial one.
    page.get_by_role("link", name="编辑证书").click()
    assert_accessible(page)
    number = page.locator('input[name="certificates-1-number"]')
    number.fill("230012010042")
    number.blur()
    hint = page.locator("[data-role=cma-decoded]").filter(has_text="国家市场监督管理总局（国家级）")
    expect(hint).to_contain_text("环境与环保")
    expect(hint).to_contain_text("2023年")
    page.fill('input[name="certificates-1-issue_date"]', "2023-04-01")
    page.fill('input[name="certificates-1-expiry_date"]', "2029-03-31")
    page.fill('input[name="certificates-1-capability_items"]', "260")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("资质认定证书已保存。")).to_be_visible()

    expect(page.get_by_test_id("authority-value")).to_contain_text("国家市场监督管理总局")
    expect(page.get_by_test_id("authority-reason")).to_contain_text("国家级证书覆盖的能力项更多")
    expect(page.get_by_test_id("certificates")).to_contain_text("230012010042")

    # A bad site address is refused with a message, then a good one is saved.
    page.get_by_role("link", name="编辑场所").click()
    page.fill('input[name="sites-0-address"]', "长沙")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("请填写完整的场所地址")).to_be_visible()
    assert_accessible(page)  # the formset showing its error
    page.fill('input[name="sites-0-address"]', "湖南省长沙市岳麓区麓谷大道658号")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("检验检测场所已保存。")).to_be_visible()
    expect(page.get_by_test_id("sites")).to_contain_text("麓谷大道658号")
    expect(page.get_by_test_id("filing-blockers")).to_have_count(0)
    assert_accessible(page)

    # Holding both levels, the institution may choose; the history shows who changed what.
    page.get_by_label("湖南省市场监督管理局").check()
    page.get_by_role("button", name="保存审核单位选择").click()
    expect(page.get_by_test_id("reviewing-authority")).to_contain_text("机构自选")
    history = page.get_by_test_id("history")
    for text in ("新增 资质认定证书 230012010042", "新增 场所", filer.first_name):
        expect(history).to_contain_text(text)
    institution.refresh_from_db()
    assert institution.reviewing_authority == ReviewingAuthority.PROVINCE and institution.reviewing_authority_chosen
    assert Institution.objects.count() == 1
