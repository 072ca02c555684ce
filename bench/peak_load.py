"""Benchmark: the April peak — filers, reviewers, city officers and public lookups at once, stepped up until it breaks.

Usage:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/qts REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python -u bench/peak_load.py [--start-users 10] [--step-users 10] [--step-seconds 45]
        [--max-users 200] [--workers 5] [--quick] [--keep]

What it does
1. Creates its own database next to DATABASE_URL's (`<name>_peak`, dropped and re-created; dropped again at the end
   unless --keep), migrates it and builds the data: a 2025 reporting year whose window closes in 7 days (the last
   week of April), enough institutions (over Hunan's 14 cities, each with a site, a valid certificate, an e-mail
   address and a filer account) for every filer to file a new one each round, Hunan's provincial reviewers (one
   account per simulated reviewer: every queue holds every filing), one city officer per city and 100,000 report
   numbers. Every account has the same password, hashed once with the production hasher (PBKDF2), so logging in
   costs what it costs in production.
2. Starts gunicorn (`--workers`, default 2 × cores + 1, sync) with the production settings (bench/peak_load_site.py:
   SSL redirect off, e-mail dropped) and a Celery worker on REDIS_URL's server (the reminders), waits for /healthz/.
   The server trusts one proxy's X-Forwarded-For (QTS_TRUSTED_PROXY_COUNT=1, as the compose stack does) and every
   simulated user sends an address of its own, so the public lookup's rate limit (30 a minute per address) applies
   per user, unchanged; no user ever sends a wrong password, so login throttling is never met.
3. Drives it with Locust (in-process, headless) as browsers would: the login form with its CSRF token, pages fetched
   and their forms posted with the fields they hold (hidden version included). The mix, by weight: filers 14 (log
   in, open the filing, save 统计调查数据 and 年度报告 twice each — 保存草稿 then 保存并下一步 —, submit, download the
   receipt, log out; then the next institution), reviewers 2 (the queue of submitted filings, the oldest one no
   colleague has taken, 开始审核, then 审核通过 or, one in ten, 退回更正), city officers 1 (填报进度, 未提交机构, one
   in three times a reminder to five of them) and public lookups 3 (报告编号查询, nine in ten numbers stored). Think
   time 1–3 s (filers), 2–5 s (reviewers), 3–8 s (officers), 2.5–5 s (lookups). Every save writes a unique value and
   must come back as “已保存草稿” with the version one higher; a submit must say “已提交”.
4. Steps the number of users up (`--start-users`, `--step-users`, `--step-seconds` measured after a short warm-up)
   until p95 of a save exceeds 1 s or a request fails, or `--max-users` is reached, printing each step with the CPU
   the portal's own processes used (gunicorn, Celery and the PostgreSQL backends of the bench's database).
5. Checks the database: every acknowledged save's value is stored (the last one of each part) and each filing's
   version is 1 + its acknowledged writes (fewer: a save lost; more: one applied twice); each submitted filing has
   exactly one submission transition and one snapshot.
Last line: `users=… rps=… p95_save_ms=… errors=… lost=…` for the sustained level (the last step with p95 of a save
≤ 1000 ms and no error; `lost` counts lost and duplicated writes over the whole run).
Target: errors=0 and lost=0 at the sustained level.
"""
from gevent import monkey

monkey.patch_all()  # Locust's greenlets; before anything opens a socket

import argparse  # noqa: E402
import itertools  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from collections import defaultdict  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from datetime import timedelta  # noqa: E402
from html.parser import HTMLParser  # noqa: E402
from http.cookiejar import DefaultCookiePolicy  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlencode, urlparse  # noqa: E402

import gevent  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from report_numbers_lookup import free_port  # noqa: E402

from report_numbers_ingest import bench_url, recreate_database  # noqa: E402

PASSWORD = "peak-load-password-2025"
YEAR = 2025
NUMBERS = 100_000
PROVINCE = "430000"  # 湖南省
WEIGHTS = {"filer": 14, "reviewer": 2, "officer": 1, "lookup": 3}
SAVE = "filing: save"


# --- data ---------------------------------------------------------------------------------------------------------

def build_data(institutions: int, reviewer_accounts: int) -> dict:
    """Institutions with filers over the province's cities, its reviewers, an officer per city, the open year and
    report numbers; returns the account names the simulated users log in with."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Role, User
    from filings.models import ReportingYear
    from institutions.models import (
        CmaCertificate,
        CmaField,
        CmaIssuer,
        Institution,
        Region,
        Site,
        SupervisingDepartment,
    )
    from tests.factories import make_credit_code

    now = timezone.now()
    ReportingYear.objects.create(year=YEAR, opens_at=now - timedelta(days=110), closes_at=now + timedelta(days=7),
                                 review_closes_at=now + timedelta(days=60))
    # One province's register, so that every reviewer's queue holds every filing (the largest queue a province has).
    province = Region.objects.get(code=PROVINCE)
    cities = list(Region.objects.filter(parent=province, level=Region.Level.CITY).order_by("code"))
    rows = [Institution(name=f"峰值基准检测有限公司{i}", credit_code=make_credit_code(900_000 + i),
                        city=cities[i % len(cities)], contact_person="联系人", contact_phone="0731-88880000",
                        contact_email=f"lab{i}@peak.example.com")
            for i in range(institutions)]
    Institution.objects.bulk_create(rows, batch_size=2000)
    issuer, field = CmaIssuer.objects.get(code="18"), CmaField.objects.get(code="01")
    department = SupervisingDepartment.objects.get(code="06")
    Site.objects.bulk_create([Site(institution=row, address=f"峰值路{i}号") for i, row in enumerate(rows)],
                             batch_size=2000)
    CmaCertificate.objects.bulk_create([
        CmaCertificate(institution=row, number=f"2118{i // 10000:02d}06{i % 10000:04d}", level="provincial",
                       issuer=issuer, cma_field=field, supervising_department=department,
                       issue_date=now.date() - timedelta(days=900), expiry_date=now.date() + timedelta(days=900),
                       capability_items=120)
        for i, row in enumerate(rows)], batch_size=2000)
    hashed = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    filers = [User(username=f"peak-filer-{i}", role=Role.FILER, institution=row, password=hashed,
                   first_name="填报人", is_main_account=True) for i, row in enumerate(rows)]
    reviewers = [User(username=f"peak-reviewer-{k}", role=Role.PROVINCIAL_REVIEWER, region=province,
                      password=hashed, first_name="审核员") for k in range(reviewer_accounts)]
    officers = [User(username=f"peak-officer-{k}", role=Role.CITY_OFFICER, region=city, password=hashed,
                     first_name="市州局") for k, city in enumerate(cities)]
    User.objects.bulk_create(filers + reviewers + officers, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO reports_reportnumber (year, quarter, institution_id, batch_id, number)
               SELECT 2024, 1 + g %% 4, (%s::bigint[])[1 + g %% %s], 0, 'PEAK2024W' || lpad(g::text, 8, '0')
               FROM generate_series(0, %s - 1) AS g""",
            [[row.pk for row in rows], len(rows), NUMBERS],
        )
        cursor.execute("ANALYZE")
    return {"filers": [u.username for u in filers], "reviewers": [u.username for u in reviewers],
            "officers": [u.username for u in officers]}


# --- servers ------------------------------------------------------------------------------------------------------

def server_env(url: str, media: Path) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url, DJANGO_SETTINGS_MODULE="peak_load_site", DJANGO_SECRET_KEY="bench-" + "x" * 50,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost", QTS_LOG_LEVEL="WARNING", QTS_LOG_FORMAT="plain",
        QTS_TRUSTED_PROXY_COUNT="1", QTS_MEDIA_ROOT=str(media),
        EMAIL_URL="smtp://127.0.0.1:25", DJANGO_DEFAULT_FROM_EMAIL="bench@localhost",
        PYTHONPATH=f"{ROOT / 'bench'}:{ROOT}",
    )
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    return env


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)  # its own process group: stopped with its children


def stop(process: subprocess.Popen | None):
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def wait_healthy(base: str, process: subprocess.Popen, log: Path):
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/healthz/", timeout=5)
            return
        except Exception:
            if process.poll() is not None:
                raise SystemExit("gunicorn exited:\n" + log.read_text()[-3000:]) from None
            time.sleep(0.5)
    raise SystemExit("gunicorn did not answer within 90 s:\n" + log.read_text()[-3000:])


class CpuMeter:
    """CPU time used by the portal's side — gunicorn and Celery with their children, and the PostgreSQL backends of
    the bench's database — whatever else the machine runs: the figure to size hardware by."""

    def __init__(self, servers: list[subprocess.Popen], url: str):
        import psutil
        import psycopg2

        self.psutil, self.roots = psutil, [psutil.Process(server.pid) for server in servers]
        self.db = psycopg2.connect(url)
        self.db.autocommit = True
        self.first, self.last = {}, {}

    def _pids(self) -> set[int]:
        pids = set()
        for root in self.roots:
            pids.add(root.pid)
            try:
                pids.update(child.pid for child in root.children(recursive=True))
            except self.psutil.Error:
                pass
        with self.db.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid()")
            pids.update(pid for (pid,) in cursor.fetchall())
        return pids

    def _times(self) -> dict[int, float]:
        times = {}
        for pid in self._pids():
            try:
                used = self.psutil.Process(pid).cpu_times()
            except self.psutil.Error:  # gone meanwhile
                continue
            times[pid] = used.user + used.system
        return times

    def start(self):
        self.first = self._times()
        self.last = dict(self.first)

    def sample(self):
        """Called during a step too, so that a process gone before its end still counts up to then."""
        for pid, used in self._times().items():
            self.first.setdefault(pid, 0.0)  # started during the step: all its time is the step's
            self.last[pid] = used

    def seconds(self) -> float:
        self.sample()
        return sum(used - self.first[pid] for pid, used in self.last.items())

    def close(self):
        self.db.close()


def warm_up(base: str, workers: int):
    """Every worker renders the first pages once (templates, URL resolver) before anything is measured."""
    pool = [gevent.spawn(urllib.request.urlopen, f"{base}{path}", timeout=60)
            for _ in range(2 * workers) for path in ("/accounts/login/", "/reports/verify/?number=PEAK2024W00000001")]
    gevent.joinall(pool)


# --- pages as a browser sees them -----------------------------------------------------------------------------------

class Forms(HTMLParser):
    """The page's forms: action, the fields a browser would post (checked boxes only, selected options, textarea text;
    disabled ones left out), the submit buttons and the values of unchecked checkboxes."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.forms, self._form, self._textarea, self._select = [], None, None, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "fields": [], "buttons": {}, "boxes": defaultdict(list)}
            self.forms.append(self._form)
            return
        form, name = self._form, a.get("name")
        if form is None or "disabled" in a:
            return
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image"):
                form["buttons"][name] = a.get("value") or ""
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    form["fields"].append((name, a.get("value") or "on"))
                else:
                    form["boxes"][name].append(a.get("value") or "on")
            elif kind != "file":
                form["fields"].append((name, a.get("value") or ""))
        elif tag == "button" and name and (a.get("type") or "submit") == "submit":
            form["buttons"][name] = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = [name, ""]
        elif tag == "select" and name:
            self._select = [name, None, None]  # name, first option, selected option
        elif tag == "option" and self._select is not None:
            value = a.get("value") or ""
            if self._select[1] is None:
                self._select[1] = value
            if "selected" in a:
                self._select[2] = value

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea is not None:
            if self._form is not None:
                self._form["fields"].append(tuple(self._textarea))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            name, first, selected = self._select
            if self._form is not None:
                self._form["fields"].append((name, selected if selected is not None else first or ""))
            self._select = None


def find_form(text: str, action_end: str, *, having: str | None = None, page: str = "") -> dict | None:
    """The first form posting to a path ending in `action_end` (a form without action posts to its `page`)."""
    for form in Forms(text).forms:
        names = {name for name, _ in form["fields"]}
        action = urlparse(form["action"] or page).path
        if action.endswith(action_end) and (having is None or having in names):
            return form
    return None


def form_data(form: dict, overrides: dict, button: str | None = None) -> dict:
    data = {}
    for name, value in form["fields"]:
        data.setdefault(name, value)
    data.update({name: str(value) for name, value in overrides.items()})
    if button:
        data[button] = form["buttons"].get(button, "")
    return data


def version_of(text: str) -> int | None:
    match = re.search(r'name="version" value="(\d+)"', text) or re.search(r'value="(\d+)"[^>]*name="version"', text)
    return int(match.group(1)) if match else None


class LoopbackCookies(DefaultCookiePolicy):
    """Send the production settings' Secure cookies over loopback HTTP, as browsers do for a local address."""

    def return_ok_secure(self, cookie, request):
        return True


# --- what the run remembers, to check the database afterwards ------------------------------------------------------

class Ledger:
    """Per filing: writes acknowledged, writes whose outcome is unknown (failed or cut off), the last acknowledged
    value of each part (and the one in flight), and whether it was submitted."""

    def __init__(self):
        self.acked = defaultdict(int)
        self.pending = defaultdict(int)
        self.values = defaultdict(dict)
        self.in_flight = defaultdict(dict)
        self.submitted = set()
        self.decided = 0
        self.open = 0

    @contextmanager
    def writing(self, pk, part=None, value=None):
        """Around one write: unsure until `ack`; `open` counts the requests still under way."""
        self.pending[pk] += 1
        self.open += 1
        if part:
            self.in_flight[pk][part] = value
        try:
            yield
        finally:
            self.open -= 1

    def ack(self, pk, part=None, value=None):
        self.pending[pk] -= 1
        self.acked[pk] += 1
        if part:
            self.values[pk][part] = value
            self.in_flight[pk].pop(part, None)


def make_users(base: str, accounts: dict, ledger: Ledger, state: dict):
    from locust import FastHttpUser, between, task

    from tests.factories import COMPLETE_ANNUAL_REPORT, COMPLETE_STATISTICS

    serial = itertools.count(1)
    addresses = itertools.count(1)
    filer_accounts = iter(accounts["filers"])
    reviewer_slots = itertools.count()
    officer_slots = itertools.count()
    # The province's reviewers share the queue out, as a team does: two never open the same filing.
    claimed = set()

    class Portal(FastHttpUser):
        abstract = True
        host = base
        network_timeout = connection_timeout = 120.0

        def on_start(self):
            n = next(addresses)
            self.headers = {"X-Forwarded-For": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"}
            self.client.cookiejar.set_policy(LoopbackCookies())

        def think(self, low, high):
            gevent.sleep(random.uniform(low, high))

        def get(self, path, name, **kwargs):
            return self.client.get(path, name=name, headers=self.headers, catch_response=True, **kwargs)

        def post(self, path, data, name, **kwargs):
            headers = {**self.headers, "Content-Type": "application/x-www-form-urlencoded"}
            return self.client.post(path, data=urlencode(data, doseq=True), name=name, headers=headers,
                                    catch_response=True, **kwargs)

        def login(self, username) -> bool:
            with self.get("/accounts/login/", "login: page") as page:
                form = find_form(page.text or "", "/accounts/login/", having="csrfmiddlewaretoken",
                                 page="/accounts/login/")
                if form is None:
                    page.failure("no login form")
                    return False
            with self.post("/accounts/login/", form_data(form, {"username": username, "password": PASSWORD}),
                           "login") as response:
                if 'name="password"' in (response.text or ""):
                    response.failure("login refused")
                    return False
            self.last_page = response.text or ""
            return True

        def logout(self):
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.last_page)
            if token:
                with self.post("/accounts/logout/", {"csrfmiddlewaretoken": token.group(1)}, "logout"):
                    pass
            self.client.cookiejar.clear()

    class Filer(Portal):
        weight = WEIGHTS["filer"]
        wait_time = between(1, 3)

        @task
        def file_one(self):
            username = next(filer_accounts, None)
            if username is None or state["draining"]:
                state["pool_exhausted"] |= username is None
                gevent.sleep(5)
                return
            if not self.login(username):
                return
            self.think(1, 3)
            with self.get("/filings/", "filing: open") as response:
                match = re.search(r'/filings/(\d+)/statistics/', response.text or "")
                if not match:
                    response.failure("no filing")
                    return
            pk = int(match.group(1))
            self.think(1, 3)
            with self.get(f"/filings/{pk}/statistics/", "filing: page") as response:
                page = response.text or ""
            for part, path, button in (("statistics", "statistics/", "save"),
                                       ("statistics", "statistics/", "save_next"),
                                       ("annual_report", "annual-report/", "save"),
                                       ("annual_report", "annual-report/", "save_next")):
                if page is None or state["draining"]:
                    return
                self.think(1, 3)
                page = self.save(pk, part, path, button, page)
            if page is None or state["draining"]:
                return
            self.think(1, 3)
            form = find_form(page, f"/filings/{pk}/submit/", having="version", page=f"/filings/{pk}/submit/")
            # Two writes: the explanations (none here) are saved, then the filing submitted.
            with ledger.writing(pk), ledger.writing(pk), self.post(
                    f"/filings/{pk}/submit/", form_data(form or {"fields": [], "buttons": {}}, {}, "submit"),
                    "filing: submit") as response:
                if "已提交。" not in (response.text or ""):
                    response.failure("submission not acknowledged")
                    return
                ledger.ack(pk)
                ledger.ack(pk)
                ledger.submitted.add(pk)
            self.last_page = response.text or ""
            self.think(1, 3)
            with self.get(f"/filings/{pk}/pdf/receipt/", "filing: receipt") as response:
                if not (response.content or b"").startswith(b"%PDF"):
                    response.failure("no receipt PDF")
            self.think(1, 3)
            self.logout()

        def save(self, pk, part, path, button, page) -> str | None:
            """One save of a part with a value of its own; returns the page it leads to, None on failure."""
            form = find_form(page, f"/filings/{pk}/{path}", having="version", page=f"/filings/{pk}/{path}")
            if form is None:
                return None
            version = dict(form["fields"]).get("version")
            n = next(serial)
            if part == "statistics":
                value = f"{800 + n // 100}.{n % 100:02d}"
                overrides = {**COMPLETE_STATISTICS, "revenue": value}
            else:
                value = f"全年开展检验检测活动。保存记录 {n}"
                overrides = {**COMPLETE_ANNUAL_REPORT, "activities": value}
            with ledger.writing(pk, part, value), self.post(
                    f"/filings/{pk}/{path}", form_data(form, overrides, button), SAVE) as response:
                text = response.text or ""
                if "已保存草稿" not in text:
                    response.failure("save not acknowledged")
                    return None
                if version_of(text) != int(version) + 1:
                    response.failure(f"version {version} → {version_of(text)}")
                    return None
                ledger.ack(pk, part, value)
            return text

    class Reviewer(Portal):
        weight = WEIGHTS["reviewer"]
        wait_time = between(2, 5)

        def on_start(self):
            super().on_start()
            self.account = accounts["reviewers"][next(reviewer_slots) % len(accounts["reviewers"])]
            self.logged_in = self.login(self.account)

        @task
        def decide_one(self):
            if not self.logged_in or state["draining"]:
                self.logged_in = self.logged_in or self.login(self.account)
                return
            with self.get("/review/?status=submitted", "review: queue") as response:
                ids = [int(pk) for pk in re.findall(r'/review/filings/(\d+)/', response.text or "")]
            pk = next((pk for pk in ids if pk not in claimed and pk in ledger.submitted), None)
            if pk is None:
                return
            claimed.add(pk)
            self.think(2, 5)
            with self.get(f"/review/filings/{pk}/", "review: open") as response:
                form = find_form(response.text or "", f"/review/filings/{pk}/start/")
                if form is None:
                    response.failure("no 开始审核 on a submitted filing")
                    return
            self.think(1, 3)
            with ledger.writing(pk), self.post(f"/review/filings/{pk}/start/", form_data(form, {}),
                                               "review: start") as response:
                if "已开始审核" not in (response.text or ""):
                    response.failure("start not acknowledged")
                    return
                ledger.ack(pk)
                page = response.text or ""
            self.think(2, 5)
            if random.random() < 0.1:
                action, overrides, said = "return", {"comment": "请核对营业收入后重新提交。"}, "已退回"
            else:
                action, overrides, said = "approve", {}, "已审核通过"
            form = find_form(page, f"/review/filings/{pk}/{action}/", having="version")
            if form is None:
                return
            with ledger.writing(pk), self.post(f"/review/filings/{pk}/{action}/", form_data(form, overrides),
                                               "review: decide") as r:
                if said not in (r.text or ""):
                    r.failure(f"{action} not acknowledged")
                    return
                ledger.ack(pk)
                ledger.decided += 1
            self.last_page = r.text or ""

    class Officer(Portal):
        weight = WEIGHTS["officer"]
        wait_time = between(3, 8)

        def on_start(self):
            super().on_start()
            self.account = accounts["officers"][next(officer_slots) % len(accounts["officers"])]
            self.logged_in = self.login(self.account)

        @task
        def chase(self):
            if not self.logged_in:
                self.logged_in = self.login(self.account)
                return
            with self.get("/review/progress/", "officer: progress") as response:
                if "填报进度" not in (response.text or ""):
                    response.failure("no progress table")
            self.think(3, 8)
            with self.get("/review/late/", "officer: late list") as response:
                page = response.text or ""
            form = find_form(page, "/review/late/remind/")
            if form is None or random.random() > 1 / 3 or state["draining"]:
                return
            self.think(2, 5)
            data = form_data(form, {})
            data.pop("all", None)
            data["institution"] = form["boxes"].get("institution", [])[:5]
            if not data["institution"]:
                return
            with self.post("/review/late/remind/", data, "officer: remind") as response:
                if not re.search(r"已发送 \d+ 封催报邮件|家今日已提醒", response.text or ""):
                    response.failure("reminder not acknowledged")

    class Lookup(Portal):
        weight = WEIGHTS["lookup"]
        wait_time = between(2.5, 5)  # under the rate limit of 30 a minute per address

        @task
        def verify(self):
            n = random.randrange(NUMBERS * 10 // 9)
            with self.get(f"/reports/verify/?number=PEAK2024W{n:08d}", "lookup") as response:
                found = 'data-testid="verify-found"' in (response.text or "")
                if found != (n < NUMBERS):
                    response.failure("stored number not found" if n < NUMBERS else "unknown number found")

    return [Filer, Reviewer, Officer, Lookup]


# --- the steps --------------------------------------------------------------------------------------------------------

def percentile(entry, fraction) -> float:
    return float(entry.get_response_time_percentile(fraction)) if entry.num_requests else 0.0


def measure_step(env, meter: CpuMeter, users: int, seconds: int, warmup: int) -> dict:
    runner = env.runner
    runner.start(users, spawn_rate=max(2.0, users / max(1, warmup)))
    gevent.sleep(warmup)
    env.stats.reset_all()
    errors_before = sum(runner.exceptions[key]["count"] for key in runner.exceptions)
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    meter.start()
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        gevent.sleep(min(15, seconds - (time.monotonic() - started)))
        meter.sample()
        total = env.stats.total
        print(f"    … {time.monotonic() - started:4.0f} s: {total.num_requests} requests, "
              f"{total.num_failures} failed", flush=True)
    elapsed = time.monotonic() - started
    server_cpu = meter.seconds()
    actions = {}
    for (name, _method), entry in env.stats.entries.items():
        row = actions.setdefault(name, {"count": 0, "failures": 0, "entries": []})
        row["count"] += entry.num_requests
        row["failures"] += entry.num_failures
        row["entries"].append(entry)
    for row in actions.values():
        entry = max(row.pop("entries"), key=lambda e: e.num_requests)
        row["p50"], row["p95"] = percentile(entry, 0.5), percentile(entry, 0.95)
    crashes = sum(runner.exceptions[key]["count"] for key in runner.exceptions) - errors_before
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = (cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime) / elapsed
    total = env.stats.total
    return {
        "client_cpu": client_cpu, "load": os.getloadavg()[0], "server_cpu": server_cpu / elapsed,
        "seconds": elapsed, "submissions": actions.get("filing: submit", {}).get("count", 0),
        "requests": total.num_requests, "cpu_seconds": server_cpu,
        "users": users, "rps": total.num_requests / elapsed, "actions": actions,
        "errors": total.num_failures + crashes, "p95_save": actions.get(SAVE, {}).get("p95", 0.0),
        "saves": actions.get(SAVE, {}).get("count", 0) / elapsed,
        "submits": actions.get("filing: submit", {}).get("count", 0) / elapsed,
    }


def print_step(result: dict, failures: list[str]):
    print(f"  users={result['users']} rps={result['rps']:.1f} saves/s={result['saves']:.2f} "
          f"submissions/h={result['submits'] * 3600:.0f} errors={result['errors']} p95_save_ms={result['p95_save']:.0f}"
          f"  (load generator {result['client_cpu']:.0%} of a core; machine load average {result['load']:.1f})")
    per_filing = f"{result['server_cpu'] / result['submits']:.1f} s" if result["submits"] else "—"
    print(f"    portal CPU (gunicorn + Celery + its PostgreSQL backends): {result['server_cpu']:.2f} cores busy, "
          f"{result['server_cpu'] / max(result['rps'], 1e-9) * 1000:.0f} ms per request, "
          f"{per_filing} per submitted filing in this mix")
    for name, row in sorted(result["actions"].items()):
        if not row["count"]:
            continue
        failed = f"  {row['failures']} failed" if row["failures"] else ""
        print(f"    {name:<20} {row['count']:6d}  p50 {row['p50']:6.0f} ms  p95 {row['p95']:6.0f} ms{failed}")
    for line in failures[:5]:
        print(f"    ! {line}")
    sys.stdout.flush()


def run_steps(base: str, accounts: dict, ledger: Ledger, meter: CpuMeter, args) -> list[dict]:
    from locust.env import Environment

    state = {"draining": False, "pool_exhausted": False}
    env = Environment(user_classes=make_users(base, accounts, ledger, state))
    env.create_local_runner()
    results = []
    try:
        users = args.start_users
        while users <= args.max_users:
            print(f"step: {users} users, {args.step_seconds} s after {args.warmup} s of warm-up", flush=True)
            result = measure_step(env, meter, users, args.step_seconds, args.warmup)
            failures = [f"{e.name}: {e.error} ×{e.occurrences}" for e in env.stats.errors.values()]
            failures += [f"exception: {e['msg']} ×{e['count']}" for e in env.runner.exceptions.values()]
            print_step(result, failures)
            results.append(result)
            if state["pool_exhausted"]:
                print("  (the institutions ran out: raise --institutions)")
            if result["errors"] or result["p95_save"] > 1000:
                break
            users += args.step_users
    finally:
        # Let journeys finish their request in flight, then stop every user.
        state["draining"] = True
        deadline = time.monotonic() + 60
        while ledger.open and time.monotonic() < deadline:
            gevent.sleep(0.5)
        env.runner.quit()
    return results


# --- the database afterwards ----------------------------------------------------------------------------------------

def check_database(ledger: Ledger) -> tuple[int, int, list[str]]:
    """(lost, duplicated, details): acknowledged writes not stored, and writes stored more often than made."""
    from django.db.models import Count, Q

    from filings.models import Filing

    lost = duplicated = 0
    details = []
    filings = Filing.objects.filter(pk__in=list(ledger.acked)).select_related("statistics", "annual_report").annotate(
        submissions=Count("transitions", filter=Q(transitions__action="submit"), distinct=True),
        snapshot_count=Count("snapshots", distinct=True),
    )
    for filing in filings:
        pk, acked, unsure = filing.pk, ledger.acked[filing.pk], ledger.pending[filing.pk]
        stored = 1 + acked  # a new filing is version 1; every save and transition adds one
        if filing.version < stored:
            lost += stored - filing.version
            details.append(f"filing {pk}: version {filing.version}, {acked} writes acknowledged")
        elif filing.version > stored + unsure:
            duplicated += filing.version - stored - unsure
            details.append(f"filing {pk}: version {filing.version}, only {acked} (+{unsure} unsure) writes made")
        for part, value in ledger.values[pk].items():
            held = {value, ledger.in_flight[pk].get(part)}
            if part == "statistics":
                ok = f"{filing.statistics.revenue:.2f}" in held
            else:
                ok = filing.annual_report.activities in held
            if not ok:
                lost += 1
                details.append(f"filing {pk}: the last acknowledged {part} value is not stored")
        expected = 1 if pk in ledger.submitted else 0
        if filing.submissions < expected:
            lost += 1
            details.append(f"filing {pk}: submitted, but no submission transition")
        elif filing.submissions > 1:
            duplicated += filing.submissions - 1
            details.append(f"filing {pk}: {filing.submissions} submission transitions")
        if filing.snapshot_count != filing.submissions:
            duplicated += 1
            details.append(f"filing {pk}: {filing.snapshot_count} snapshots, {filing.submissions} submissions")
    return lost, duplicated, details


def reminder_counts() -> str:
    from django.db.models import Count

    from review.models import Reminder

    counts = dict(Reminder.objects.values_list("status").annotate(n=Count("pk")))
    return ", ".join(f"{status}: {n}" for status, n in sorted(counts.items())) or "none"


# --- main ---------------------------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start-users", type=int, default=10)
    parser.add_argument("--step-users", type=int, default=10)
    parser.add_argument("--step-seconds", type=int, default=45)
    parser.add_argument("--max-users", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10, help="seconds after each step's users are started")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn sync workers")
    parser.add_argument("--celery-concurrency", type=int, default=2)
    parser.add_argument("--institutions", type=int, default=0,
                        help="filer institutions (default: enough for every filer to file one each 20 s)")
    parser.add_argument("--quick", action="store_true", help="a short smoke run: 4, 8, 12 users, 20 s each")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if args.quick:
        args.start_users, args.step_users, args.max_users, args.step_seconds, args.warmup = 4, 4, 12, 20, 5
    steps = max(1, (args.max_users - args.start_users) // max(1, args.step_users) + 1)
    if not args.institutions:
        filers = args.max_users * WEIGHTS["filer"] / sum(WEIGHTS.values())
        args.institutions = int(filers * steps * (args.step_seconds + args.warmup) / 20) + 200

    # SIGTERM as Ctrl-C: unwind through the finally blocks that stop the servers and drop the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))
    source_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qts")
    url = bench_url(source_url, "peak")
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    recreate_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    servers = []
    results, lost, duplicated, details = [], 0, 0, []
    try:
        started = time.monotonic()
        print(f"database {urlparse(url).path.lstrip('/')}: migrating…", flush=True)
        call_command("migrate", verbosity=0)
        print(f"building {args.institutions:,} institutions with filers, reviewers, officers, "
              f"{NUMBERS:,} report numbers…", flush=True)
        accounts = build_data(args.institutions, math.ceil(args.max_users * WEIGHTS["reviewer"]
                                                           / sum(WEIGHTS.values())) + 1)
        connections.close_all()
        print(f"  data ready in {time.monotonic() - started:.0f} s: {len(accounts['reviewers'])} reviewers, "
              f"{len(accounts['officers'])} officers", flush=True)
        with tempfile.TemporaryDirectory(prefix="qts-peak-") as tmp:
            tmp = Path(tmp)
            (tmp / "media").mkdir()
            env = server_env(url, tmp / "media")
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            bin_dir = Path(sys.executable).parent
            servers.append(start([str(bin_dir / "gunicorn"), "config.wsgi", "--workers", str(args.workers),
                                  "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "120"],
                                 env, tmp / "gunicorn.log"))
            servers.append(start([sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING",
                                  f"--concurrency={args.celery_concurrency}", "--hostname", f"peak-{port}@%h",
                                  "--without-gossip", "--without-mingle"], env, tmp / "celery.log"))
            wait_healthy(base, servers[0], tmp / "gunicorn.log")
            warm_up(base, args.workers)
            print(f"gunicorn ({args.workers} workers) and a Celery worker up at {base}", flush=True)
            ledger, meter = Ledger(), CpuMeter(servers, url)
            try:
                results = run_steps(base, accounts, ledger, meter, args)
            finally:
                meter.close()
            lost, duplicated, details = check_database(ledger)
            print(f"database check: {len(ledger.acked)} filings written, {len(ledger.submitted)} submitted, "
                  f"{ledger.decided} decided; lost {lost}, duplicated {duplicated}; reminders: {reminder_counts()}")
            for line in details[:10]:
                print(f"  ! {line}")
            if any(server.poll() is not None for server in servers):
                print("  ! a server exited during the run:\n" + (tmp / "gunicorn.log").read_text()[-2000:])
            server_errors = [line for line in (tmp / "gunicorn.log").read_text().splitlines() if "Error" in line]
            for line in server_errors[:5]:
                print(f"  ! gunicorn: {line}")
    finally:
        for server in reversed(servers):
            stop(server)
        connections.close_all()
        if not args.keep:
            from report_numbers_scale import drop

            drop(url)

    if results:
        cpu = sum(r["cpu_seconds"] for r in results)
        submissions, requests = sum(r["submissions"] for r in results), sum(r["requests"] for r in results)
        print(f"portal CPU over the measured steps: {cpu:.0f} s for {requests} requests "
              f"({cpu / max(requests, 1) * 1000:.0f} ms each) and {submissions} submissions "
              f"({cpu / max(submissions, 1):.1f} s per submitted filing, the whole mix included)")
    good = [r for r in results if not r["errors"] and r["p95_save"] <= 1000]
    sustained = good[-1] if good else {"users": 0, "rps": 0.0, "p95_save": 0.0, "errors": 0, "saves": 0.0,
                                       "submits": 0.0}
    if results and results[-1] is not sustained:
        last = results[-1]
        print(f"broke at {last['users']} users: p95 of a save {last['p95_save']:.0f} ms, {last['errors']} errors")
    if good:
        print("sustained level (the last step with p95 of a save ≤ 1000 ms and no error):")
        print_step(sustained, [])
    else:
        print("sustained level: none (the first step already broke)")
    print(f"users={sustained['users']} rps={sustained['rps']:.1f} p95_save_ms={sustained['p95_save']:.0f} "
          f"errors={sustained['errors']} lost={lost + duplicated}")


if __name__ == "__main__":
    main()
