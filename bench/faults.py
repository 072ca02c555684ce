"""Faults survived (issue 15 §4): each case starts the real services, injects one fault, and checks what users see
and what is stored.

Usage:  .venv/bin/python bench/faults.py [--lines 1000000] [--case NAME ...]

Nothing here touches the machine's PostgreSQL or Redis: the run starts a private PostgreSQL cluster (initdb into a
temporary directory, a free port, the machine's PostgreSQL 15 programs) with a migrated template database; each case
gets a fresh copy of it, its own Redis (`--save '' --appendonly no`), its own media directory, and its own gunicorn
and Celery worker processes (settings `config.settings.local` with DEBUG off, as run by scripts/run.sh). Everything
is stopped and removed at the end, also when a case fails. The cases:

- redis_stopped: Redis stops; login, saving a filing page and the public lookup keep working, an export started
  meanwhile waits, and runs once Redis is back (the job sweeper sends it again).
- postgres_restarted: PostgreSQL restarts while a report-number upload (1,000,000 lines) is being stored; the batch
  is retried by Celery and stored once: every number once, counted once.
- worker_killed: the worker is killed (SIGKILL, with its children) during an export, a register import and an
  upload; each job is marked 已中断 by the sweeper, retried by its owner and finishes; no half file is marked done.
- pool_process_killed: only the worker's pool processes are killed (as the out-of-memory killer does) during an
  export and an upload; Celery puts the messages back and both jobs finish with no retry by anyone.
- disk_full: the media disk (a small tmpfs) is full while an export is written; the job fails with a Chinese message
  and no file, half-written or not, is kept or offered.
- two_web_servers: two gunicorn servers receive the approval and the return of the same filing at the same moment;
  exactly one decision is recorded, the other reviewer is told why.

The last line is `faults=N survived=N lost=N` (lost: numbers, saves, decisions or files lost or counted twice).
`--step NAME` is internal: it runs one step inside Django against a case's services (the case's environment).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import servers  # noqa: E402

PASSWORD = "correct-horse-battery"  # tests.factories' password


@dataclass
class Outcome:
    name: str
    survived: bool = False
    lost: int = 0
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  [{self.name}] {text}", flush=True)


class Stack:
    """The run's private PostgreSQL cluster, with the portal migrated once into a template database."""

    def __enter__(self):
        servers.clean_up_interrupted_runs("qts-faults")
        self.root = servers.temporary_root("qts-faults")
        try:
            self.postgres = servers.PrivatePostgres(self.root)
            self.postgres.create()
            self.postgres.admin("CREATE DATABASE qts_template")
            env = {**self.base_env(), "DATABASE_URL": self.postgres.url("qts_template"), "REDIS_URL": ""}
            subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True,
                           capture_output=True, text=True, timeout=600)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        if getattr(self, "postgres", None) is not None:
            self.postgres.stop("immediate")
        if not os.environ.get("QTS_FAULTS_KEEP"):
            shutil.rmtree(self.root, ignore_errors=True)

    @staticmethod
    def base_env() -> dict:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "REDIS_", "QTS_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.local", DJANGO_DEBUG="false", QTS_DEMO_MODE="false",
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost", QTS_LOG_LEVEL="WARNING", CELERY_TASK_DEFAULT_QUEUE="qts",
            PYTHONPATH=str(ROOT),
        )
        return env

    def database(self, name: str) -> str:
        self.postgres.admin(f'CREATE DATABASE "{name}" TEMPLATE qts_template')
        return name


class Case:
    """One case's services: a fresh database, its own Redis, media directory, web servers and workers."""

    def __init__(self, stack: Stack, name: str):
        self.stack, self.name = stack, name
        self.root = stack.root / name
        self.root.mkdir()
        self.media = self.root / "media"
        self.media.mkdir()
        self.db = stack.database(f"faults_{name}")
        self.redis = servers.PrivateRedis(self.root)
        self.redis.start()
        self.processes = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for process in self.processes:
            servers.stop_process(process)
        self.redis.stop()

    @property
    def env(self) -> dict:
        return {**self.stack.base_env(), "DATABASE_URL": self.stack.postgres.url(self.db), "REDIS_URL": self.redis.url,
                "QTS_MEDIA_ROOT": str(self.media)}

    def web(self) -> str:
        process, base = servers.start_gunicorn(self.env, self.root / "web.log")
        self.processes.append(process)
        return base

    def worker(self, **kwargs):
        process = servers.start_worker(self.env, self.root / "worker.log", **kwargs)
        self.processes.append(process)
        return process

    def step(self, name: str, **kwargs):
        """Run `--step name` inside Django with this case's services; returns what the step returns."""
        result = subprocess.run([sys.executable, __file__, "--step", name, json.dumps(kwargs)], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            raise RuntimeError(f"step {name} failed:\n{result.stderr[-3000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])

    def sql(self, query: str, params=()):
        return self.stack.postgres.query(self.db, query, params)

    def wait_sql(self, query: str, accept, what: str, timeout: float = 120, params=()):
        return servers.wait_for(lambda: accept(self.sql(query, params)) and self.sql(query, params), what, timeout)


# --- the web, as a user's browser uses it --------------------------------------------------------------------------

def _csrf(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


def login(base: str, username: str):
    import requests

    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=60)
    response = session.post(f"{base}/accounts/login/", data={
        "username": username, "password": PASSWORD, "csrfmiddlewaretoken": _csrf(page.text),
    }, headers={"Referer": f"{base}/accounts/login/"}, timeout=60)
    if response.status_code != 200 or "/accounts/login/" in response.url:
        raise RuntimeError(f"login of {username} failed: HTTP {response.status_code} at {response.url}")
    return session


def post_form(session, url: str, data: dict, *, page_url: str | None = None, page=None):
    """POST a form as the browser does: the page's CSRF token (and hidden version) first."""
    page = page if page is not None else session.get(page_url or url, timeout=60).text
    fields = {"csrfmiddlewaretoken": _csrf(page), **data}
    return session.post(url, data=fields, headers={"Referer": page_url or url}, timeout=120)


def hidden_version(page: str) -> str:
    match = re.search(r'name="version" value="(\d+)"', page)
    if not match:
        raise RuntimeError("no version field on the page")
    return match.group(1)


# --- the cases -----------------------------------------------------------------------------------------------------

def redis_stopped(stack: Stack) -> Outcome:
    outcome = Outcome("redis_stopped")
    with Case(stack, "redis") as case:
        base = case.web()
        case.worker()
        seed = case.step("seed", number="HN-REDIS-0001")
        case.redis.stop()
        outcome.note("Redis stopped")

        filer = login(base, seed["filer"])
        outcome.note("filer logged in")
        url = f"{base}/filings/{seed['filing']}/annual-report/"
        page = filer.get(url, timeout=60).text
        text = "Redis 停止期间保存的年度报告内容。"
        saved = post_form(filer, url, {
            "version": hidden_version(page), "compliance": text, "conduct": "遵守从业规范。",
            "activities": "开展检验检测活动。", "achievements": "",
        }, page=page)
        stored = case.sql("SELECT compliance FROM filings_annualreport WHERE filing_id = %s", [seed["filing"]])
        saved_ok = saved.status_code == 200 and "已保存草稿" in saved.text and stored == [(text,)]
        outcome.note(f"annual report saved: HTTP {saved.status_code}, stored={stored == [(text,)]}")
        outcome.lost += 0 if stored == [(text,)] else 1

        import requests

        lookup = requests.get(f"{base}/reports/verify/", params={"number": "HN-REDIS-0001"}, timeout=60)
        lookup_ok = lookup.status_code == 200 and "verify-found" in lookup.text
        outcome.note(f"public lookup: HTTP {lookup.status_code}, found={'verify-found' in lookup.text}")

        officer = login(base, seed["officer"])
        started = post_form(officer, f"{base}/summaries/exports/", {"kind": "register", "region": seed["region"]})
        jobs = case.sql("SELECT id, status FROM summaries_exportjob")
        outcome.note(f"export started while Redis is down: HTTP {started.status_code}, jobs={jobs}")
        export_ok = started.status_code == 200 and len(jobs) == 1

        reminded = post_form(officer, f"{base}/review/late/remind/",
                             {"year": seed["year"], "institution": seed["institution"]}, page_url=f"{base}/")
        pending = case.sql("SELECT status FROM review_reminder")
        outcome.note(f"reminder sent while Redis is down: HTTP {reminded.status_code}, rows={pending}")
        remind_ok = reminded.status_code == 200 and pending == [("pending",)]

        case.redis.start()
        outcome.note("Redis back (empty: its queue was lost)")
        swept = case.step("sweep", later_minutes=3)  # the beat's next minute after RESEND_AFTER
        outcome.note(f"sweeper: {swept}")
        done = case.wait_sql("SELECT status, file FROM summaries_exportjob", lambda rows: rows and rows[0][0] in (
            "done", "failed"), "export after Redis is back", timeout=180)
        outcome.note(f"export after Redis is back: {done[0][0]}")
        outcome.lost += 0 if done[0][0] == "done" else 1
        resent = case.step("resend_mail", later_minutes=6)  # the beat's next run after reminders.RESEND_AFTER
        mailed = case.wait_sql("SELECT status FROM review_reminder", lambda rows: rows and rows[0][0] != "pending",
                               "reminder after Redis is back", timeout=180)
        outcome.note(f"pending e-mails sent again: {resent}; reminder {mailed[0][0]}")
        outcome.lost += 0 if mailed == [("sent",)] else 1
        outcome.survived = saved_ok and lookup_ok and export_ok and remind_ok and done[0][0] == "done" and mailed == [
            ("sent",)]
    return outcome


def _numbers_file(path: Path, lines: int, prefix: str) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for n in range(lines):
            out.write(f"{prefix}-{n:07d}\n")
    return path


def _count_stored(case: Case, batch: int) -> tuple[int, int, int]:
    """(accepted as counted on the batch, numbers stored for it, distinct numbers stored for it)."""
    accepted = case.sql("SELECT accepted FROM reports_reportnumberbatch WHERE id = %s", [batch])[0][0]
    stored, distinct = case.sql("SELECT count(*), count(DISTINCT number) FROM reports_reportnumber WHERE batch_id = %s",
                                [batch])[0]
    return accepted, stored, distinct


def postgres_restarted(stack: Stack, lines: int = 1_000_000) -> Outcome:
    outcome = Outcome("postgres_restarted")
    with Case(stack, "restart") as case:
        case.worker()
        seed = case.step("seed")
        path = _numbers_file(case.root / "numbers.txt", lines, "HN-RESTART")
        batch = case.step("start_upload", filer=seed["filer"], path=str(path))
        # Restart once the numbers are being checked and written (the batch's progress is in its row).
        running = case.wait_sql("SELECT status, progress, stage FROM reports_reportnumberbatch WHERE id = %s",
                                lambda rows: rows[0][0] != "pending" and (rows[0][1] >= 5 or rows[0][0] != "running"),
                                "upload under way", timeout=300, params=[batch])[0]
        outcome.note(f"{lines:,} lines: batch {running[0]} at {running[1]} % ({running[2]}); restarting PostgreSQL")
        restarted_while_running = running[0] == "running"
        case.stack.postgres.restart("fast")
        final = case.wait_sql("SELECT status, attempts, error FROM reports_reportnumberbatch WHERE id = %s",
                              lambda rows: rows[0][0] in ("done", "failed"), "upload after the restart",
                              timeout=600, params=[batch])[0]
        accepted, stored, distinct = _count_stored(case, batch)
        batches = case.sql("SELECT count(*) FROM reports_reportnumberbatch")[0][0]
        outcome.note(f"batch {final[0]} after {final[1]} attempts {final[2][:120]!r}; accepted={accepted:,} "
                     f"stored={stored:,} distinct={distinct:,} batches={batches}")
        whole = final[0] == "done" and accepted == stored == distinct == lines
        failed_clean = final[0] == "failed" and accepted == stored == 0
        if not (whole or failed_clean):
            outcome.lost = abs(lines - stored) + (stored - distinct) + abs(accepted - stored)
        outcome.survived = restarted_while_running and batches == 1 and (whole or failed_clean)
    return outcome


def worker_killed(stack: Stack, lines: int = 20_000, rows: int = 300) -> Outcome:
    outcome = Outcome("worker_killed")
    with Case(stack, "killed") as case:
        first = case.worker()
        seed = case.step("seed", institutions=200)
        imported = case.step("start_import", rows=rows)
        checked = case.wait_sql("SELECT status, error, errors::text FROM institutions_importjob WHERE id = %s",
                                lambda r: r[0][0] not in ("pending", "validating"), "register import checked",
                                params=[imported])[0]
        if checked[0] != "ready":
            raise RuntimeError(f"the register import was not checked ready: {checked}"[:2000])
        servers.stop_process(first)
        # Queue the three jobs, hold the tables they read or write, then start a worker that takes them up.
        path = _numbers_file(case.root / "numbers.txt", lines, "HN-KILLED")
        jobs = case.step("start_jobs", filer=seed["filer"], officer=seed["officer"], path=str(path), imported=imported)
        holder = _hold_tables(case, ["institutions_institution", "reports_reportnumber"])
        try:
            worker = case.worker(concurrency=3)
            case.wait_sql("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation IN "
                          "('institutions_institution'::regclass, 'reports_reportnumber'::regclass)",
                          lambda r: r[0][0] >= 3, "three jobs under way", timeout=180)
            states = _job_states(case, jobs)
            outcome.note(f"jobs under way: {states}; killing the worker (SIGKILL, with its children)")
            servers.kill_group(worker)
        finally:
            holder.rollback()
            holder.close()
        time.sleep(2)
        states = _job_states(case, jobs)
        half_done = [name for name, (status, _) in states.items() if status == "done"]
        exports = sorted(p.name for p in (case.media / "exports").glob("*"))
        numbers = case.sql("SELECT count(*) FROM reports_reportnumber")[0][0]
        institutions_after_kill = case.sql("SELECT count(*) FROM institutions_institution")[0][0]
        outcome.note(f"after the kill: {states}; export files {exports}; numbers stored {numbers}")
        case.worker(concurrency=3)
        swept = case.step("sweep", later_minutes=16)  # the beat's sweep once the jobs are stale (STALE_AFTER)
        outcome.note(f"sweeper 16 min later: {swept}")
        states = _job_states(case, jobs)
        interrupted = {name: error for name, (status, error) in states.items() if status == "failed"}
        outcome.note(f"marked: { {name: error[:20] for name, error in interrupted.items()} }")
        case.step("retry", export=jobs["export"], batch=jobs["upload"])
        final = servers.wait_for(lambda: (lambda s: all(v[0] in ("done", "failed") for v in s.values()) and s)(
            _job_states(case, jobs)), "jobs after the retry", timeout=300)
        outcome.note(f"after the sweeper and the owners' retries: { {k: v[0] for k, v in final.items()} }")
        checked = case.step("check_results", export=jobs["export"], batch=jobs["upload"], lines=lines)
        imported_now = case.sql("SELECT count(*) FROM institutions_institution")[0][0] - institutions_after_kill
        outcome.note(f"export rows {checked['export_rows']} of {checked['institutions']}, numbers "
                     f"{checked['stored']:,} of {lines:,}, institutions imported {imported_now} of {rows}")
        outcome.lost = (abs(lines - checked["stored"]) + abs(checked["institutions"] - checked["export_rows"])
                        + abs(rows - imported_now))
        outcome.survived = (not half_done and not exports and numbers == 0 and set(interrupted) == {"export", "upload"}
                            and all(v[0] == "done" for v in final.values()) and outcome.lost == 0)
    return outcome


def pool_process_killed(stack: Stack, lines: int = 20_000) -> Outcome:
    """Only the worker's pool processes die (the out-of-memory killer): Celery puts their messages back at once."""
    outcome = Outcome("pool_process_killed")
    with Case(stack, "pool") as case:
        seed = case.step("seed", institutions=200)
        path = _numbers_file(case.root / "numbers.txt", lines, "HN-POOL")
        # Queued first, then the tables they read or write held, then a worker takes them up.
        jobs = {"export": case.step("start_export", officer=seed["officer"]),
                "upload": case.step("start_upload", filer=seed["filer"], path=str(path))}
        holder = _hold_tables(case, ["institutions_institution", "reports_reportnumber"])
        try:
            worker = case.worker(concurrency=2)
            case.wait_sql("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation IN "
                          "('institutions_institution'::regclass, 'reports_reportnumber'::regclass)",
                          lambda r: r[0][0] >= 2, "two jobs under way", timeout=180)
            children = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True, text=True).stdout.split()
            outcome.note(f"jobs under way: {_job_states(case, jobs)}; SIGKILL to the pool processes {children}")
            for pid in children:
                os.kill(int(pid), 9)
        finally:
            holder.rollback()
            holder.close()
        final = servers.wait_for(lambda: (lambda s: all(v[0] in ("done", "failed") for v in s.values()) and s)(
            _job_states(case, jobs)), "jobs after the pool processes died", timeout=300)
        attempts = {name: case.sql(f"SELECT attempts FROM {table} WHERE id = %s", [jobs[name]])[0][0]
                    for name, table in (("export", "summaries_exportjob"), ("upload", "reports_reportnumberbatch"))}
        checked = case.step("check_results", export=jobs["export"], batch=jobs["upload"], lines=lines)
        outcome.note(f"without anyone's retry: { {k: v[0] for k, v in final.items()} }, attempts {attempts}; export "
                     f"rows {checked['export_rows']} of {checked['institutions']}, numbers {checked['stored']:,}")
        outcome.lost = abs(lines - checked["stored"]) + abs(checked["institutions"] - checked["export_rows"])
        outcome.survived = (all(v[0] == "done" for v in final.values()) and min(attempts.values()) >= 2
                            and checked["institutions"] > 200 and outcome.lost == 0)
    return outcome


def _hold_tables(case: Case, tables: list[str]):
    import psycopg2

    conn = psycopg2.connect(case.stack.postgres.url(case.db))
    with conn.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
    return conn


def _job_states(case: Case, jobs: dict) -> dict:
    tables = {"export": "summaries_exportjob", "import": "institutions_importjob",
              "upload": "reports_reportnumberbatch"}
    return {name: tuple(case.sql(f"SELECT status, error FROM {tables[name]} WHERE id = %s", [pk])[0])
            for name, pk in jobs.items()}


def disk_full(stack: Stack) -> Outcome:
    outcome = Outcome("disk_full")
    with Case(stack, "disk") as case:
        mount = case.root / "small-disk"
        mount.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(mount)], check=True)
        try:
            case.media = mount
            (mount / "exports").mkdir()
            filler = mount / "filler"
            with filler.open("wb", buffering=0) as out:
                try:
                    while True:
                        out.write(b"\0" * 4096)
                        out.flush()
                except OSError:
                    pass  # ENOSPC: the disk is full
            outcome.note(f"media on a 1 MB tmpfs, filled ({filler.stat().st_size:,} bytes)")
            case.worker()
            seed = case.step("seed", institutions=200)
            job = case.step("start_export", officer=seed["officer"])
            status, error, name = case.wait_sql("SELECT status, error, file FROM summaries_exportjob WHERE id = %s",
                                                lambda r: r[0][0] in ("done", "failed"), "export on a full disk",
                                                params=[job])[0]
            left = sorted(p.name for p in (mount / "exports").iterdir())
            outcome.note(f"export {status}: {error!r}; file={name!r}; left in exports/: {left}")
            chinese = "磁盘空间已满" in error and "Errno" not in error
            failed_clean = status == "failed" and chinese and not name and not left
            filler.unlink()
            outcome.note("space freed; the owner retries")
            case.step("retry", export=job)
            status, _, name = case.wait_sql("SELECT status, error, file FROM summaries_exportjob WHERE id = %s",
                                            lambda r: r[0][0] in ("done", "failed"), "export retried",
                                            params=[job])[0]
            checked = case.step("check_results", export=job)
            outcome.note(f"retried export {status}: {checked['export_rows']} rows of {checked['institutions']}")
            outcome.lost = 0 if status == "done" and checked["export_rows"] == checked["institutions"] else 1
            outcome.survived = failed_clean and outcome.lost == 0
        finally:
            for process in case.processes:
                servers.stop_process(process)
            subprocess.run(["umount", str(mount)], check=False)
    return outcome


def _at_once(requests_by_name: dict) -> dict:
    """Each reviewer opens the filing on their server, then both POST their decision at the same moment."""
    barrier, answers = threading.Barrier(len(requests_by_name)), {}

    def send(name, session, page_url, action, data):
        page = session.get(page_url, timeout=60).text
        fields = {"csrfmiddlewaretoken": _csrf(page), "version": hidden_version(page), **data}
        barrier.wait()
        answers[name] = session.post(page_url + action, data=fields, allow_redirects=False,
                                     headers={"Referer": page_url}, timeout=120)

    threads = [threading.Thread(target=send, args=(name, *request)) for name, request in requests_by_name.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def two_web_servers(stack: Stack, filings: int = 3) -> Outcome:
    outcome = Outcome("two_web_servers")
    with Case(stack, "decide") as case:
        first, second = case.web(), case.web()
        seed = case.step("seed_review", filings=filings)
        approver, returner = login(first, seed["reviewers"][0]), login(second, seed["reviewers"][1])
        decided = 0
        for filing in seed["filings"]:
            path = f"/review/filings/{filing}/"
            answers = _at_once({
                "approve": (approver, first + path, "approve/", {"comment": "同意"}),
                "return": (returner, second + path, "return/", {"comment": "请补充说明。", "due": seed["due"]}),
            })
            decisions = case.sql("SELECT to_status FROM filings_filingtransition WHERE filing_id = %s AND to_status "
                                 "IN ('approved', 'returned')", [filing])
            status = case.sql("SELECT status FROM filings_filing WHERE id = %s", [filing])[0][0]
            codes = {name: answer.status_code for name, answer in answers.items()}
            refused = [answer for answer in answers.values() if answer.status_code == 409]
            told = all("已被他人或其他窗口更新" in answer.text for answer in refused)  # workflow's refusal
            outcome.note(f"filing {filing}: answers {codes}, decisions {[d[0] for d in decisions]}, status {status}")
            if len(decisions) == 1 and decisions[0][0] == status and sorted(codes.values()) == [302, 409] and told:
                decided += 1
            else:
                outcome.lost += abs(len(decisions) - 1) or 1
        outcome.survived = decided == filings
    return outcome


CASES = {case.__name__: case for case in (redis_stopped, postgres_restarted, worker_killed, pool_process_killed,
                                          disk_full, two_web_servers)}


# --- steps run inside Django (`--step`) ----------------------------------------------------------------------------

def step_seed(number: str = "", institutions: int = 0) -> dict:
    from institutions.models import Institution
    from reports.models import ReportNumber, ReportNumberBatch
    from reports.staging import ensure_partition
    from tests import factories

    for _ in range(institutions):  # more of the city's register for an export to write
        factories.InstitutionFactory()
    filing = factories.make_filing()
    filer = factories.FilerFactory(institution=filing.institution)
    officer = factories.CityOfficerFactory(region=filing.institution.city)
    if number:
        batch = ReportNumberBatch.objects.create(institution=filing.institution, year=2025, quarter=1,
                                                 uploaded_by=filer, status=ReportNumberBatch.Status.DONE)
        ensure_partition(2025)
        ReportNumber.objects.create(institution=filing.institution, batch=batch, year=2025, quarter=1, number=number)
    Institution.objects.filter(pk=filing.institution_id).update(contact_email="lab@example.cn")  # to be reminded
    return {"filing": filing.pk, "filer": filer.username, "officer": officer.username,
            "region": filing.institution.city_id, "institution": filing.institution_id, "year": filing.year.year}


def step_seed_review(filings: int) -> dict:
    from datetime import timedelta

    from django.utils import timezone

    from filings import services as filing_services
    from review import services as review_services
    from tests import factories

    reviewers = [factories.ProvincialReviewerFactory(), factories.ProvincialReviewerFactory()]
    ids = []
    for _ in range(filings):
        filing = factories.make_filing()
        filer = factories.FilerFactory(institution=filing.institution)
        filing = filing_services.submit_filing(filing, actor=filer, expected_version=filing.version)
        review_services.start_review(filing, actor=reviewers[0])
        ids.append(filing.pk)
    due = timezone.localtime(timezone.now() + timedelta(days=10))
    return {"filings": ids, "reviewers": [r.username for r in reviewers], "due": f"{due:%Y-%m-%dT%H:%M}"}


def _user(username):
    from accounts.models import User

    return User.objects.get(username=username)


def step_start_upload(filer: str, path: str) -> int:
    from reports import uploads
    from reports.quarters import Quarter

    user = _user(filer)
    batch = uploads.start_upload(institution=user.institution, quarter=Quarter(2025, 1),
                                 source=Path(path).read_bytes(), name=Path(path).name, actor=user)
    return batch.pk


def step_start_export(officer: str) -> int:
    from summaries import services

    user = _user(officer)
    return services.start_export(actor=user, kind="register", region=user.region).pk


def step_start_import(rows: int) -> int:
    from institutions import register_import
    from tests import factories
    from tests.institutions.test_import import csv_upload, row

    lines = [row(9000 + n, f"导入检测有限公司{n}", cma=f"2218{n % 20:02d}06{n // 20 + 1:04d}") for n in range(rows)]
    return register_import.start_import(actor=factories.AdminFactory(), upload=csv_upload(lines)).pk


def step_start_jobs(filer: str, officer: str, path: str, imported: int) -> dict:
    from institutions import register_import
    from institutions.models import ImportJob

    job = ImportJob.objects.get(pk=imported)
    register_import.confirm_import(job, actor=job.created_by)
    return {"export": step_start_export(officer), "import": imported, "upload": step_start_upload(filer, path)}


def step_retry(export: int | None = None, batch: int | None = None) -> dict:
    from reports import uploads
    from reports.models import ReportNumberBatch
    from summaries import services
    from summaries.models import ExportJob

    if export:
        job = ExportJob.objects.get(pk=export)
        services.retry_export(job, actor=job.created_by)
    if batch:
        upload = ReportNumberBatch.objects.get(pk=batch)
        uploads.retry_upload(upload, actor=upload.uploaded_by)
    return {}


def step_check_results(export: int | None = None, batch: int | None = None, lines: int = 0) -> dict:
    """What the owners download: the export's workbook (its register rows) and the upload's stored numbers."""
    from openpyxl import load_workbook

    from institutions.models import Institution
    from reports.models import ReportNumber
    from summaries.models import ExportJob

    result = {"institutions": 0, "export_rows": 0, "stored": 0}
    if export:
        job = ExportJob.objects.get(pk=export)
        if job.status == ExportJob.Status.DONE:
            with job.file.open("rb") as handle:
                rows = list(load_workbook(handle, read_only=True).worksheets[0].iter_rows(values_only=True))
            # The note above the header says how many institutions the file holds; each is a row with its code.
            result["institutions"] = int(re.search(r"共 (\d+) 家", rows[0][0]).group(1))
            codes = set(Institution.objects.values_list("credit_code", flat=True))
            result["export_rows"] = sum(1 for row in rows[1:] if len(row) > 1 and row[1] in codes)
    if batch:
        result["stored"] = ReportNumber.objects.filter(batch_id=batch).count()
    return result


def step_sweep(later_minutes: float = 0) -> dict:
    """The beat task's sweep, as it runs `later_minutes` from now (a case does not wait for the clock)."""
    from datetime import timedelta

    from django.utils import timezone

    from config.celery import app
    from jobs.sweeper import sweep

    app.loader.import_default_modules()  # each kind registers itself in its tasks.py, as in the worker
    return sweep(now=timezone.now() + timedelta(minutes=later_minutes))


def step_resend_mail(later_minutes: float = 0) -> dict:
    """The beat task review.resend_pending_mail, as it runs `later_minutes` from now."""
    from datetime import timedelta

    from django.utils import timezone

    from review.reminders import resend_pending

    return {"sent": resend_pending(now=timezone.now() + timedelta(minutes=later_minutes))}


def run_step(name: str, arguments: str) -> None:
    import django

    django.setup()
    from accounts.models import User
    from institutions.models import Institution
    from tests import factories

    # Each step is a new process: continue the factories' sequences after what earlier steps stored.
    factories.UserFactory.reset_sequence(User.objects.count() + 1)
    factories.InstitutionFactory.reset_sequence(Institution.objects.count() + 1)
    result = globals()[f"step_{name}"](**json.loads(arguments or "{}"))
    print(json.dumps(result, default=str))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", action="append", choices=sorted(CASES), help="run only these cases")
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines of the upload interrupted by a restart")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("arguments", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        run_step(args.step, args.arguments)
        return
    chosen = args.case or list(CASES)
    outcomes = []
    started = time.monotonic()
    print("starting a private PostgreSQL cluster and migrating its template database …", flush=True)
    with Stack() as stack:
        for name in chosen:
            print(f"case {name} …", flush=True)
            case_started = time.monotonic()
            try:
                outcome = CASES[name](stack, **({"lines": args.lines} if name == "postgres_restarted" else {}))
            except Exception as exc:  # a case that breaks is a fault not survived; the others still run
                outcome = Outcome(name, notes=[f"{exc.__class__.__name__}: {exc}"])
                print(f"  [{name}] broke: {exc}", flush=True)
            outcomes.append(outcome)
            print(f"case {name}: {'survived' if outcome.survived else 'NOT SURVIVED'}, lost={outcome.lost} "
                  f"({time.monotonic() - case_started:.0f} s)", flush=True)
    survived = sum(outcome.survived for outcome in outcomes)
    print(f"{len(outcomes)} cases in {time.monotonic() - started:.0f} s")
    print(f"faults={len(outcomes)} survived={survived} lost={sum(outcome.lost for outcome in outcomes)}")


if __name__ == "__main__":
    main()
