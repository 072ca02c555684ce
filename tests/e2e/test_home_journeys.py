"""A filer and a city officer log in through the browser and land on their own home pages."""
import pytest

from tests import factories

pytestmark = pytest.mark.e2e


def test_filer_logs_in_and_sees_its_institution(page, login, transactional_db):
    filer = factories.FilerFactory(institution__name="长沙市湘江检测有限公司")
    factories.InstitutionFactory(name="株洲其他检测有限公司", city=factories.region("430200"))
    login(filer.username)
    card = page.get_by_test_id("own-institution")
    assert "长沙市湘江检测有限公司" in card.inner_text()
    assert "本单位信息" in page.get_by_test_id("nav").inner_text()
    page.get_by_role("link", name="本单位信息").first.click()
    assert page.locator("h1").inner_text() == "长沙市湘江检测有限公司"


def test_city_officer_logs_in_and_sees_its_city(page, login, transactional_db):
    officer = factories.CityOfficerFactory(region=factories.region("430200"))
    factories.InstitutionFactory(name="株洲甲检测有限公司", city=factories.region("430200"))
    factories.InstitutionFactory(name="长沙乙检测有限公司", city=factories.region("430100"))
    login(officer.username)
    assert "株洲市市场监督管理局" in page.locator("h1").inner_text()
    assert page.get_by_test_id("institution-total").inner_text() == "1"
    page.get_by_role("link", name="机构名录").first.click()
    table = page.get_by_test_id("institution-table").inner_text()
    assert "株洲甲检测有限公司" in table and "长沙乙检测有限公司" not in table


def test_wrong_password_shows_a_chinese_message(page, transactional_db):
    filer = factories.FilerFactory()
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(filer.username)
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    assert "用户名或密码错误" in page.content()
