"""A filer and a city officer log in through the browser and land on their own home pages."""
import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import assert_accessible

pytestmark = pytest.mark.e2e


def test_filer_logs_in_and_sees_its_institution(page, login, transactional_db):
    filer = factories.FilerFactory(institution__name="长沙市湘江检测有限公司")
    factories.InstitutionFactory(name="株洲其他检测有限公司", city=factories.region("430200"))
    login(filer.username)
    expect(page.get_by_test_id("own-institution")).to_contain_text("长沙市湘江检测有限公司")
    expect(page.get_by_test_id("nav")).to_contain_text("本单位信息")
    page.get_by_role("link", name="本单位信息").first.click()
    expect(page.locator("h1")).to_have_text("长沙市湘江检测有限公司")
    assert_accessible(page)


def test_city_officer_logs_in_and_sees_its_city(page, login, transactional_db):
    officer = factories.CityOfficerFactory(region=factories.region("430200"))
    factories.InstitutionFactory(name="株洲甲检测有限公司", city=factories.region("430200"))
    factories.InstitutionFactory(name="长沙乙检测有限公司", city=factories.region("430100"))
    login(officer.username)
    expect(page.locator("h1")).to_contain_text("株洲市市场监督管理局")
    expect(page.get_by_test_id("institution-total")).to_have_text("1")
    page.get_by_role("link", name="机构名录").first.click()
    table = page.get_by_test_id("institution-table")
    expect(table).to_contain_text("株洲甲检测有限公司")
    expect(table).not_to_contain_text("长沙乙检测有限公司")  # once the list is there, the other city is not
    assert_accessible(page)


def test_wrong_password_shows_a_chinese_message(page, transactional_db):
    filer = factories.FilerFactory()
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(filer.username)
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("body")).to_contain_text("用户名或密码错误")
    assert_accessible(page)
