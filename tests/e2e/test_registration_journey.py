"""机构注册 in the browser: a filer registers from the login page with the credit code and one of the institution's
CMA certificates, confirms the address from the link in the mail, the Changsha city officer approves the request
from the home page's count, and the new filer logs in as the institution's main account."""
import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import assert_accessible, log_in, open_page

pytestmark = pytest.mark.e2e

PASSWORD = "a-fresh-long-pass-42"


def test_register_confirm_approve_and_log_in(page, browser, live_server, transactional_db):
    changsha = factories.region("430100")
    lab = factories.InstitutionFactory(name="长沙甲检测有限公司", city=changsha)
    factories.CmaCertificateFactory(institution=lab, number="211801060101")
    officer = factories.CityOfficerFactory(region=changsha)

    page.goto("/accounts/login/")
    page.get_by_role("link", name="机构注册").click()
    assert_accessible(page)
    page.get_by_label("统一社会信用代码").fill(lab.credit_code)
    page.get_by_label("资质认定证书编号").fill("211801060101")
    page.get_by_label("姓名").fill("钱七")
    page.get_by_label("联系电话").fill("0731-88880000")
    page.get_by_label("电子邮箱").fill("qianqi@example.cn")
    page.get_by_label("登录用户名").fill("qianqi")
    page.get_by_label(re.compile(r"^\s*密码")).fill(PASSWORD)
    page.get_by_label("确认密码").fill(PASSWORD)
    page.get_by_role("button", name="提交注册申请").click()
    expect(page.get_by_test_id("registration-sent")).to_contain_text("确认链接")
    assert_accessible(page)

    link = re.search(r"https?://\S+/accounts/register/confirm/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    assert_accessible(page)
    page.get_by_role("button", name="确认邮箱并提交审核").click()
    expect(page.get_by_test_id("confirmed")).to_contain_text("长沙市")
    assert_accessible(page)

    context, officer_page = open_page(browser, live_server)
    try:
        log_in(officer_page, officer.username)
        expect(officer_page.get_by_test_id("registrations-pending")).to_have_text("1")
        officer_page.get_by_role("link", name="去审核").click()
        expect(officer_page.get_by_test_id("registration-row")).to_contain_text("长沙甲检测有限公司")
        assert_accessible(officer_page)
        officer_page.get_by_test_id("registration-row").get_by_role("link", name="审核").click()
        assert_accessible(officer_page)
        officer_page.get_by_label("通过").check()
        officer_page.get_by_role("button", name="提交审核意见").click()
        expect(officer_page.get_by_role("alert")).to_contain_text("已处理该注册申请")
        expect(officer_page.get_by_test_id("no-registrations")).to_be_visible()
        assert_accessible(officer_page)
    finally:
        context.close()

    assert "已通过" in mail.outbox[-1].subject
    log_in(page, "qianqi", PASSWORD)
    page.get_by_test_id("nav").get_by_role("link", name="本机构账号").click()
    expect(page.get_by_test_id("account-row")).to_contain_text("主账号")
    assert_accessible(page)
