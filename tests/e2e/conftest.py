import os

import pytest
from playwright.sync_api import expect

CHROMIUM = "/usr/bin/chromium"
PAGE_TIMEOUT = 15000  # ms, for actions and for expect(); a background job's own wait passes a longer one
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} 不存在：请先运行 scripts/setup.sh --dev")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make around it are still sync.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            expect.set_options(timeout=PAGE_TIMEOUT)  # assertions wait as long as actions do
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT)
    yield page
    context.close()


@pytest.fixture
def login(page):
    def do_login(username, password="correct-horse-battery"):
        page.goto("/accounts/login/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()
        expect(page).to_have_url("/")  # the home page; "**/" would also match the login page itself

    return do_login
