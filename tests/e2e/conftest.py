import os
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1366, "height": 768}  # the office screen the pages are laid out for
PHONE = {"width": 390, "height": 844}  # the public pages are also checked on a phone
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
    context, page = open_page(browser, live_server)
    yield page
    context.close()


def open_page(browser, live_server, *, locale="zh-CN", viewport=VIEWPORT):
    """A new browser context (no cookies) and its page, as the `page` fixture opens them. Every page of the context
    reports its Content-Security-Policy violations, and the test fails on any."""
    context = browser.new_context(base_url=live_server.url, locale=locale, timezone_id="Asia/Shanghai",
                                  viewport=viewport)
    watch_csp_violations(context)
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT)
    return context, page


# --- Content-Security-Policy: the policy of config/settings/base.py holds in every journey (ADR 0031) ----------------
# The listener is an init script and reports through a binding: both come from the browser's debugging protocol,
# which the page's policy does not govern, so watching needs no bypass_csp (that would hide the violations).
CSP_LISTENER = """window.addEventListener("securitypolicyviolation", (event) => window.qtsCspViolation({
  page: location.href, directive: event.violatedDirective, blocked: event.blockedURI,
  source: `${event.sourceFile}:${event.lineNumber}`, sample: event.sample}), true);"""
csp_violations = []  # what the pages of the running test reported; emptied before each test


def watch_csp_violations(context):
    context.expose_binding("qtsCspViolation", lambda source, violation: csp_violations.append(violation))
    context.add_init_script(script=CSP_LISTENER)


def describe_csp_violations(violations):
    lines = [f"{len(violations)} Content-Security-Policy violation(s):"]
    lines += [f"- {v['page']}: {v['directive']} refused {v['blocked'] or 'inline'} at {v['source']} {v['sample']}"
              for v in violations]
    return "\n".join(lines)


@pytest.fixture(autouse=True)
def no_csp_violations():
    """Every journey fails on a policy violation in any page it opened (also after its last assert_accessible)."""
    csp_violations.clear()
    yield
    assert not csp_violations, describe_csp_violations(csp_violations)


# --- accessibility: axe-core (package.json) runs in the page, from the local file -----------------------------------
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
AXE_FAILING_IMPACTS = ("critical", "serious")


def axe_violations(page):
    """The critical and serious violations axe-core finds on the page as it is now (every rule axe runs by default:
    WCAG 2.x A and AA, and its best practices)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} 不存在：请先运行 scripts/setup.sh（npm ci）")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated through the debugging protocol: a <script> tag (add_script_tag) would be an inline script, which
        # the Content-Security-Policy refuses.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [violation for violation in results["violations"] if violation["impact"] in AXE_FAILING_IMPACTS]


def describe_violations(url, violations):
    """One paragraph per rule: its id, impact and help, then each offending element's selector and axe's advice."""
    lines = [f"{url}: {len(violations)} critical/serious accessibility violation(s)"]
    for violation in violations:
        lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:10]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:160]} — {summary[:300]}")
        if len(violation["nodes"]) > 10:
            lines.append(f"    … and {len(violation['nodes']) - 10} more")
    return "\n".join(lines)


def assert_accessible(page):
    """No critical or serious axe-core violation on the page as it is now. Call it after each navigation (and after
    a script changed the page) once the state the journey waits for is there."""
    page.wait_for_load_state()
    # Colours are measured as painted: a dialog still fading in (Bootstrap's transition) blends with its backdrop.
    # Endless animations (a busy job's striped progress bar) are not waited for. Two frames first: a transition
    # started by a class a script has just set is not listed until the next frame.
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    # A function, not an expression: Playwright evaluates it once and calls it on each poll, where re-evaluating an
    # expression string would be an eval the Content-Security-Policy refuses.
    page.wait_for_function("() => document.getAnimations().every(a => a.playState !== 'running'"
                           " || a.effect.getComputedTiming().iterations === Infinity)")
    violations = axe_violations(page)
    assert not violations, describe_violations(page.url, violations)
    assert not csp_violations, describe_csp_violations(csp_violations)


@pytest.fixture
def login(page):
    def do_login(username, password="correct-horse-battery"):
        log_in(page, username, password)

    return do_login


def log_in(page, username, password="correct-horse-battery"):
    """Logs in through the login page and waits for the home page; both pages are checked with axe-core."""
    page.goto("/accounts/login/")
    assert_accessible(page)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url("/")  # the home page; "**/" would also match the login page itself
    assert_accessible(page)
