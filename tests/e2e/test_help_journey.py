"""A visitor opens 系统帮助 from the login page, reads the check codes and the notice, and asks for a password reset;
a logged-in filer finds help in the footer with the own city's bureau highlighted."""
import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests import factories

pytestmark = pytest.mark.e2e


def test_visitor_opens_help_from_the_login_page(page, transactional_db):
    page.goto("/accounts/login/")
    page.get_by_test_id("help-link").click()
    expect(page.locator("h1")).to_have_text("系统帮助")
    page.get_by_role("link", name="机构填报人操作指南").first.click()
    expect(page.locator("h1")).to_have_text("机构填报人操作指南")
    expect(page.get_by_role("img", name="登录页面截图")).to_be_visible()
    page.get_by_test_id("help-nav").get_by_role("link", name="校验规则").click()
    expect(page.locator("#E102")).to_contain_text("学历分项之和不等于从业人员")
    page.get_by_test_id("help-nav").get_by_role("link", name="统计工作通知").click()
    expect(page.get_by_test_id("notice")).to_contain_text("湘市监认函〔2024〕8号")


def test_visitor_asks_for_a_password_reset_from_the_login_page(page, transactional_db):
    filer = factories.FilerFactory(email="lisi@example.cn")
    page.goto("/accounts/login/")
    page.get_by_test_id("forgot-password").click()
    page.get_by_label("电子邮箱").fill("lisi@example.cn")
    page.get_by_role("button", name="发送重设链接").click()
    expect(page.get_by_test_id("reset-sent")).to_contain_text("请查收邮件")
    link = re.search(r"https?://\S+/accounts/password/reset/\S+/", mail.outbox[0].body).group(0)
    page.goto(link)
    page.locator("#id_new_password1").fill("a-fresh-long-pass-42")  # labelled 新密码* (a prefix of the next one)
    page.get_by_label("新密码确认").fill("a-fresh-long-pass-42")
    page.get_by_role("button", name="保存新密码").click()
    expect(page.get_by_test_id("reset-complete")).to_contain_text("密码已重设")
    filer.refresh_from_db()
    assert filer.check_password("a-fresh-long-pass-42")


def test_filer_finds_the_own_citys_contact_from_the_footer(page, login, transactional_db):
    zhuzhou = factories.region("430200")
    zhuzhou.contact_name, zhuzhou.contact_phone = "李科长", "0731-82000000"
    zhuzhou.save()
    filer = factories.FilerFactory(institution=factories.InstitutionFactory(city=zhuzhou))
    login(filer.username)
    page.get_by_test_id("footer-help").click()
    page.get_by_test_id("help-nav").get_by_role("link", name="联系方式").click()
    expect(page.get_by_test_id("home-city")).to_contain_text("株洲市")
    expect(page.get_by_test_id("home-city")).to_contain_text("李科长")
