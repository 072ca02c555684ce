"""A real streaming replica of the test PostgreSQL (pg_basebackup and a second server, started and stopped here):
the public lookup reads from it, sees what the primary stores once replayed, and falls back to the primary when the
replica is down. The portal runs as its own process (runserver) with DATABASE_REPLICA_URL, as deployed.
pg_basebackup copies the whole cluster: keep benchmark databases out of it (the benchmarks drop theirs)."""
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg2
import pytest
from django.db import connection

from reports.models import ReportNumber, ReportNumberBatch
from reports.staging import ensure_partition
from tests.factories import FilerFactory, InstitutionFactory

ROOT = Path(__file__).resolve().parent.parent
SLOT_PREFIX = "qts_test_replica_"
pytestmark = pytest.mark.usefixtures("transactional_db")  # the replica sees committed rows only
# The private servers' helpers, shared with the fault cases (bench/servers.py).
sys.path.insert(0, str(ROOT / "bench"))
servers = importlib.import_module("servers")
_free_port, _as_server_user, _alive = servers.free_port, servers.as_server_user, servers.alive


def _url(port: int) -> str:
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    return f"postgres://{quote(db['USER'])}{password}@{db['HOST'] or '127.0.0.1'}:{port}/{db['NAME']}"


def _bindir() -> Path:
    with connection.cursor() as cursor:
        cursor.execute("show server_version_num")
        major = int(cursor.fetchone()[0]) // 10000
    debian = Path(f"/usr/lib/postgresql/{major}/bin")
    if debian.is_dir():
        return debian
    return Path(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip())


class Replica:
    def __init__(self):
        db = connection.settings_dict
        self.primary_port = int(db["PORT"] or 5432)
        self.host = db["HOST"] or "127.0.0.1"
        self.port = _free_port()
        self.bindir = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix=f"qts-replica-{os.getpid()}-"))
        self.data = self.root / "data"
        self.slot = f"{SLOT_PREFIX}{os.getpid()}_{self.port}"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")

    def _run(self, *command: str, timeout=300):
        return subprocess.run(_as_server_user(list(command)), capture_output=True, text=True, timeout=timeout)

    def create(self):
        result = self._run(
            str(self.bindir / "pg_basebackup"), "-h", self.host, "-p", str(self.primary_port),
            "-U", connection.settings_dict["USER"], "-D", str(self.data), "-X", "stream", "-R", "-c", "fast",
            "-C", "-S", self.slot,  # the slot keeps the primary's WAL until the replica has it
        )
        if result.returncode != 0:
            pytest.fail(
                "pg_basebackup 失败（本机 PostgreSQL 需允许 127.0.0.1 的复制连接：运行 scripts/setup.sh --dev）：\n"
                + result.stderr
            )

    def configure(self):
        """Its own small configuration (Debian keeps the primary's in /etc, outside the data directory)."""
        files = {
            "postgresql.conf": (f"port = {self.port}\nlisten_addresses = '{self.host}'\n"
                                f"unix_socket_directories = '{self.root}'\nhot_standby = on\n"
                                "shared_buffers = 32MB\n"),
            "pg_hba.conf": "local all all trust\nhost all all 127.0.0.1/32 trust\n",
            "pg_ident.conf": "",
        }
        for name, text in files.items():
            path = self.data / name
            path.write_text(text)
            if os.geteuid() == 0:
                shutil.chown(path, "postgres")

    def start(self):
        result = self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
                           "-w", "-t", "120", "start")
        assert result.returncode == 0, result.stdout + result.stderr + (self.root / "log").read_text()

    def stop(self):
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop", timeout=120)

    def query(self, sql: str):
        conn = psycopg2.connect(_url(self.port))
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall()
        finally:
            conn.close()

    def wait_until(self, sql: str, expected, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            try:
                got = self.query(sql)
            except psycopg2.OperationalError:
                got = None
            if got == expected:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"replica: {sql} gave {got}, expected {expected} within {timeout} s")
            time.sleep(0.2)


def _drop_slots(name_like: str) -> None:
    """A slot left behind would keep the primary's WAL for ever: drop ours (and any an interrupted run left)."""
    with connection.cursor() as cursor:
        cursor.execute("select pg_drop_replication_slot(slot_name) from pg_replication_slots "
                       "where slot_name like %s and not active", [name_like])


def _clean_up_interrupted_runs(bindir: Path) -> None:
    """A test run killed before its teardown leaves a server, its copy of the cluster and a slot keeping WAL: remove
    those of runs no longer alive (the pid is in the directory's and the slot's name)."""
    for root in Path(tempfile.gettempdir()).glob("qts-replica-*-*"):
        owner = root.name.split("-")[2]
        if not owner.isdigit() or _alive(int(owner)):
            continue
        if (root / "data" / "postmaster.pid").exists():
            subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate",
                                            "stop"]), capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
    with connection.cursor() as cursor:
        cursor.execute("select slot_name from pg_replication_slots where slot_name like %s and not active",
                       [SLOT_PREFIX + "%"])
        for (slot,) in cursor.fetchall():
            owner = slot.removeprefix(SLOT_PREFIX).split("_")[0]
            if owner.isdigit() and not _alive(int(owner)):
                _drop_slots(slot)


@pytest.fixture
def replica():
    _clean_up_interrupted_runs(_bindir())
    replica = Replica()
    try:
        replica.create()
        replica.configure()
        replica.start()
        replica.wait_until("select pg_is_in_recovery()", [(True,)])
        yield replica
    finally:
        replica.stop()
        shutil.rmtree(replica.root, ignore_errors=True)
        _drop_slots(replica.slot)


@pytest.fixture
def portal(replica):
    """The portal in its own process, with the replica configured."""
    port = _free_port()
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": _url(replica.primary_port),
        "DATABASE_REPLICA_URL": _url(replica.port), "QTS_MEDIA_ROOT": str(replica.root / "media"),
        "QTS_VERIFY_PER_MINUTE": "1000",
    }
    server = subprocess.Popen([sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/healthz/", timeout=5)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("the portal did not start: " + (server.stderr.read() if server.stderr else ""))
            time.sleep(0.3)
    yield base
    server.terminate()
    server.wait(timeout=30)


def _lookup(base: str, number: str) -> str:
    with urllib.request.urlopen(f"{base}/reports/verify/?{urlencode({'number': number})}", timeout=30) as response:
        return response.read().decode("utf-8")


def _store(number: str) -> None:
    institution = InstitutionFactory(name="长沙复制检测有限公司")
    batch = ReportNumberBatch.objects.create(
        institution=institution, year=2025, quarter=1, uploaded_by=FilerFactory(institution=institution),
        status=ReportNumberBatch.Status.DONE,
    )
    ensure_partition(2025)
    ReportNumber.objects.create(institution=institution, batch=batch, year=2025, quarter=1, number=number)


def test_the_lookup_reads_from_the_replica_and_sees_the_primary_once_replayed(replica, portal):
    replica.query("select pg_wal_replay_pause()")
    _store("HN-REPLICA-0001")
    # Replay paused: the primary has the number, the replica not yet — so "not found" proves the replica answered.
    assert "未查到" in _lookup(portal, "HN-REPLICA-0001")
    replica.query("select pg_wal_replay_resume()")
    replica.wait_until("select count(*) from reports_reportnumber where number = 'HN-REPLICA-0001'", [(1,)])
    page = _lookup(portal, "HN-REPLICA-0001")
    assert "长沙复制检测有限公司" in page


def test_the_lookup_answers_from_the_primary_when_the_replica_is_down(replica, portal):
    _store("HN-REPLICA-0002")
    replica.stop()
    page = _lookup(portal, "HN-REPLICA-0002")
    assert "长沙复制检测有限公司" in page


def test_without_a_replica_everything_reads_and_writes_the_primary():
    from config.replica import ReplicaRouter, read_alias, reads_from_replica

    router = ReplicaRouter()

    @reads_from_replica
    def view(request):
        return read_alias(), router.db_for_read(ReportNumber), router.db_for_write(ReportNumber)

    assert view(None) == ("default", "default", "default")
    assert read_alias() == "default" and router.db_for_read(ReportNumber) is None  # outside such a view
    assert not router.allow_migrate("replica", "reports") and router.allow_migrate("default", "reports")
