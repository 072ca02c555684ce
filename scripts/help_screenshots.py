"""Screenshots for 系统帮助 → 操作指南, taken from the running portal with demo data (README, "系统帮助").

    .venv/bin/python scripts/help_screenshots.py
        builds a throw-away demo database (SQLite in a temporary directory, `manage.py seed_demo`), serves it with
        `manage.py runserver` on a free port, and writes static/help/<shot>.png (1366×768, /usr/bin/chromium)
    .venv/bin/python scripts/help_screenshots.py --base-url http://127.0.0.1:8000
        uses a portal that is already running with the demo accounts (`make run`)
    ... --only filer-statistics reviewer-detail     retakes some shots

Each shot logs in as a demo account and opens its page; a shot that fails is reported and the others are still
taken (exit status 1). The shots shown by the guides are listed in portalhelp/guides.py; a test checks that every one
of them is taken here and committed.
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "static" / "help"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1366, "height": 768}
DEMO_PASSWORD = "qts-demo-2026"  # accounts/demo.py
DEMO_INSTITUTIONS = 200


def _goto(path: str) -> Callable:
    return lambda page: page.goto(path)


def _filing_part(part: str) -> Callable:
    """The demo filer's filing of this year, one of its pages (the filing's number differs between databases)."""
    def open_part(page):
        page.goto("/filings/")
        page.goto(page.url.rstrip("/") + f"/{part}/")
    return open_part


def _first_link(path: str, selector: str) -> Callable:
    def open_first(page):
        page.goto(path)
        page.locator(selector).first.click()
        page.wait_for_load_state()
    return open_first


class Shot(NamedTuple):
    name: str  # static/help/<name>.png
    user: str | None  # a demo account, or None for a visitor
    open: Callable


SHOTS = [
    Shot("login", None, _goto("/accounts/login/")),
    Shot("filer-home", "filer", _goto("/")),
    Shot("filer-institution", "filer", _goto("/institutions/mine/")),
    Shot("filer-filing", "filer", _goto("/filings/")),
    Shot("filer-statistics", "filer", _filing_part("statistics")),
    Shot("filer-submit", "filer", _filing_part("submit")),
    Shot("filer-upload", "filer", _goto("/reports/upload/")),
    Shot("filer-contacts", "filer", _goto("/help/contacts/")),
    Shot("city-home", "city", _goto("/")),
    Shot("city-progress", "city", _goto("/review/progress/")),
    Shot("city-late-filers", "city", _goto("/review/late/")),
    Shot("city-report-numbers", "city", _goto("/reports/missing/")),
    Shot("reviewer-queue", "province", _goto("/review/")),
    Shot("reviewer-detail", "province", _first_link("/review/", "a[href^='/review/filings/']")),
    Shot("reviewer-dashboard", "province", _goto("/summaries/dashboard/")),
    Shot("admin-home", "admin", _goto("/")),
    Shot("admin-site", "admin", _goto("/admin/")),
    Shot("admin-region", "admin", _first_link("/admin/institutions/region/?q=430100", "#result_list tbody a")),
    Shot("admin-exports", "admin", _goto("/summaries/exports/")),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen, seconds: int = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"服务未能启动（退出码 {server.returncode}）")
        try:
            with urllib.request.urlopen(f"{url}/healthz/", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"服务 {seconds} 秒内未就绪：{url}")


def demo_server(workdir: Path) -> tuple[str, subprocess.Popen]:
    """A demo portal of its own: SQLite and media in `workdir`, tasks in-process (the run command's default)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "QTS_DEMO_MODE": "true",
           "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}", "REDIS_URL": "",
           "QTS_MEDIA_ROOT": str(workdir / "media"), "DJANGO_DEBUG": "true"}
    python = sys.executable
    for command in (["migrate", "--noinput"],
                    ["seed_demo", "--institutions", str(DEMO_INSTITUTIONS), "--seed", "2023"]):
        print(f"[help] manage.py {' '.join(command)}", flush=True)
        subprocess.run([python, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    port = _free_port()
    server = subprocess.Popen([python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    _wait_until_up(url, server)
    return url, server


def take(base_url: str, shots: list[Shot], out: Path) -> list[str]:
    """Take each shot into `out`; return the failures, one line each."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    failures = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for user in dict.fromkeys(shot.user for shot in shots):
            context = browser.new_context(base_url=base_url, viewport=VIEWPORT, locale="zh-CN",
                                          timezone_id="Asia/Shanghai")
            page = context.new_page()
            page.set_default_timeout(20000)
            if user:
                page.goto("/accounts/login/")
                page.get_by_label("用户名").fill(user)
                page.get_by_label("密码").fill(DEMO_PASSWORD)
                page.get_by_role("button", name="登录").click()
                page.wait_for_url(f"{base_url}/")
            for shot in (shot for shot in shots if shot.user == user):
                try:
                    shot.open(page)
                    page.wait_for_load_state("networkidle")
                    page.wait_for_timeout(800)  # charts and fonts settle (a picture, not a test)
                    page.screenshot(path=out / f"{shot.name}.png")
                    print(f"[help] {shot.name}.png ({user or '访客'}: {page.url.removeprefix(base_url)})", flush=True)
                except Exception as exc:  # one broken page must not cost the other shots
                    failures.append(f"{shot.name}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
            context.close()
        browser.close()
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", help="a running portal with the demo accounts, e.g. http://127.0.0.1:8000")
    parser.add_argument("--only", nargs="+", metavar="SHOT", help="only these shots (names without .png)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output directory (default {OUT.relative_to(ROOT)})")
    args = parser.parse_args()
    shots = [shot for shot in SHOTS if not args.only or shot.name in args.only]
    unknown = set(args.only or ()) - {shot.name for shot in SHOTS}
    if unknown:
        parser.error(f"unknown shots: {', '.join(sorted(unknown))}")
    if args.base_url:
        failures = take(args.base_url.rstrip("/"), shots, args.out)
    else:
        with tempfile.TemporaryDirectory(prefix="qts-help-") as workdir:
            url, server = demo_server(Path(workdir))
            try:
                failures = take(url, shots, args.out)
            finally:
                server.terminate()
                server.wait(timeout=30)
    for failure in failures:
        print(f"[help] 失败 {failure}", file=sys.stderr)
    print(f"[help] {len(shots) - len(failures)} of {len(shots)} screenshots in {args.out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
