import contextlib
import io
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.cache import cache

from tests import factories

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _clean_cache():
    """The cache is the real Redis: start each test with nothing left by another (rate limits, lockouts)."""
    cache.clear()


@pytest.fixture
def on_commit_immediately(monkeypatch):
    """Run transaction.on_commit hooks (e.g. sending a task) at once: a test's transaction never commits."""
    from django.db import connection

    monkeypatch.setattr(connection, "on_commit", lambda func, robust=False: func())


@pytest.fixture
def transactional_db(transactional_db):
    """Transactional tests flush every table afterwards, the migrated reference data included: put it back first."""
    from institutions import models as m
    from institutions.divisions import load_divisions
    from institutions.reference import load_reference_data

    if not m.Region.objects.exists():
        load_divisions(m.Region)
        load_reference_data(m.ProfessionalField, m.CmaField, m.SupervisingDepartment, m.CmaIssuer, m.Region)
    return transactional_db


@pytest.fixture
def two_provinces(db):
    """Institutions in two Hunan cities and one city of another province, with one user per role."""
    changsha = factories.region("430100")
    zhuzhou = factories.region("430200")
    wuhan = factories.CityFactory(code="420100", name="武汉市")
    inst = {
        "changsha": factories.InstitutionFactory(name="长沙甲检测有限公司", city=changsha),
        "changsha2": factories.InstitutionFactory(name="长沙乙检测有限公司", city=changsha),
        "zhuzhou": factories.InstitutionFactory(name="株洲丙检测有限公司", city=zhuzhou),
        "wuhan": factories.InstitutionFactory(name="武汉丁检测有限公司", city=wuhan),
    }
    users = {
        "filer": factories.FilerFactory(institution=inst["changsha"]),
        "city_officer": factories.CityOfficerFactory(region=changsha),
        "provincial_reviewer": factories.ProvincialReviewerFactory(region=factories.region("430000")),
        "samr_reviewer": factories.SamrReviewerFactory(),
        "admin": factories.AdminFactory(),
        "hubei_reviewer": factories.ProvincialReviewerFactory(region=factories.region("420000")),
    }
    return {"institutions": inst, "users": users}


DEMO_INSTITUTIONS, DEMO_SEED = 300, 11


class _SharedDemo:
    """seed_demo's data for every test that asks for `demo_data`, seeded once per run inside a transaction that is
    rolled back right after the last of those tests (pytest_collection_modifyitems runs them one after another)."""

    stack = None

    def open(self, django_db_blocker):
        from django.core.management import call_command
        from django.db import transaction

        self.stack = contextlib.ExitStack()
        self.stack.enter_context(django_db_blocker.unblock())
        self.stack.enter_context(transaction.atomic())
        call_command("seed_demo", institutions=DEMO_INSTITUTIONS, seed=DEMO_SEED, stdout=io.StringIO())

    def close(self):
        from django.db import transaction

        if self.stack is not None:
            transaction.set_rollback(True)
            self.stack.close()
            self.stack = None


_shared_demo = _SharedDemo()


@pytest.fixture(scope="session")
def demo_data(django_db_setup, django_db_blocker):
    """seed_demo(institutions=DEMO_INSTITUTIONS, seed=DEMO_SEED), shared: read it; whatever a test writes is rolled back
    with the test as usual. Seeding takes 15 s, so the demo-data tests of every app share this one copy."""
    _shared_demo.open(django_db_blocker)
    yield SimpleNamespace(institutions=DEMO_INSTITUTIONS, seed=DEMO_SEED)
    _shared_demo.close()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Run the tests that use `demo_data` one after another, where the first of them stood (after pytest-django's own
    ordering), so that no other test runs while the shared demo data is in the database."""
    shared = [item for item in items if "demo_data" in getattr(item, "fixturenames", ())]
    if shared:
        first = items.index(shared[0])
        rest = [item for item in items if item not in shared]
        items[:] = rest[:first] + shared + rest[first:]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    try:
        return (yield)
    finally:
        if nextitem is None or "demo_data" not in getattr(nextitem, "fixturenames", ()):
            _shared_demo.close()  # the last test that shares it has run: roll the demo data back now


def _die_with_parent():
    """Linux: the worker gets SIGTERM when the test run ends, even if the run is killed before its teardown."""
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@pytest.fixture(scope="session")
def _celery_worker_session(django_db_setup, django_db_blocker):
    """One real Celery worker process for the session, on the real Redis, using the test database and its own queue."""
    from django.db import connection

    from config.celery import app

    queue = f"qts-test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        CELERY_TASK_DEFAULT_QUEUE=queue,
        QTS_TEST_EAGER="false",
    )
    (ROOT / "var").mkdir(exist_ok=True)
    log = open(ROOT / "var" / "test-celery-worker.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", queue, "--loglevel=INFO",
         "--hostname", f"{queue}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"Celery worker exited early; see {log.name}")
            replies = app.control.inspect(timeout=1).ping() or {}
            if any(name.startswith(queue) for name in replies):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("Celery worker did not answer within 60 s")
        yield queue
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def celery_worker_process(_celery_worker_session):
    """Send this test's tasks to the real worker (not in-process). Use with transactional_db so it sees the data."""
    from config.celery import app

    previous = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager = False
    app.conf.task_default_queue = _celery_worker_session
    yield app
    app.conf.task_always_eager, app.conf.task_default_queue = previous


EMBEDDED_SETTINGS = "config.settings.test_embedded"
EMBEDDED_TESTS = ROOT / "tests" / "embedded"


def pytest_ignore_collect(collection_path, config):
    """tests/embedded runs only under the embedded default's settings (SQLite, tasks in-process), and nothing else
    does: `scripts/test.sh` runs the PostgreSQL suite, then
    `pytest --ds=config.settings.test_embedded tests/embedded`."""
    from django.conf import settings

    embedded_run = settings.SETTINGS_MODULE == EMBEDDED_SETTINGS
    path = Path(collection_path).resolve()
    inside = path == EMBEDDED_TESTS or EMBEDDED_TESTS in path.parents
    if embedded_run:
        shared = path == ROOT / "tests" or (path.parent == ROOT / "tests" and not path.name.startswith("test_"))
        return None if inside or shared else True
    return True if inside else None
