"""Private servers for the fault cases (bench/faults.py, tests/test_faults.py) and the replica test: a PostgreSQL
cluster of its own (initdb into a temporary directory, a free port, trust authentication), a Redis of its own, and
gunicorn and Celery worker processes against them. The machine's PostgreSQL and Redis are shared: never stop them;
a case breaks only what it started here."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _die_with_parent():
    """Linux: a server started here gets SIGTERM when the run that started it dies, even if it is killed."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root (CI), run its programs as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def postgres_bindir(major: int = 15) -> Path:
    debian = Path(f"/usr/lib/postgresql/{major}/bin")
    if debian.is_dir():
        return debian
    return Path(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip())


def wait_for(check, what: str, timeout: float = 60, interval: float = 0.2):
    """Call `check()` until it returns something true (returned) or the timeout passes (RuntimeError)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            got = check()
            if got:
                return got
        except Exception:  # not up yet
            got = None
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


class PrivatePostgres:
    """A throw-away PostgreSQL cluster on a free port; `restart()` and `stop()` break only this one."""

    def __init__(self, root: Path):
        self.bindir = postgres_bindir()
        self.root = root / "pg"
        self.data = self.root / "data"
        self.port = free_port()
        self.root.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")

    def _run(self, *command: str, timeout=180, check=True):
        result = subprocess.run(as_server_user([str(self.bindir / command[0]), *command[1:]]), capture_output=True,
                                text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"{command[0]}: {result.stdout}{result.stderr}")
        return result

    def create(self):
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        (self.data / "postgresql.auto.conf").write_text(
            f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.root}'\n"
            "shared_buffers = 64MB\nfsync = off\nmax_connections = 60\n"
        )
        self.start()

    def start(self):
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-t", "120", "start")

    def stop(self, mode: str = "fast"):
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self, mode: str = "fast"):
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-l", str(self.root / "log"), "-w", "-t", "120",
                  "restart")

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def admin(self, sql: str) -> None:
        import psycopg2

        conn = psycopg2.connect(self.url("postgres"))
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql)
        finally:
            conn.close()

    def query(self, name: str, sql: str, params=()):
        import psycopg2

        conn = psycopg2.connect(self.url(name))
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            conn.close()


class PrivateRedis:
    def __init__(self, root: Path):
        self.port = free_port()
        self.dir = root / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        wait_for(self._answers, "private redis")

    def _answers(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop(self):
        stop_process(self.process)
        self.process = None


def stop_process(process, sig=signal.SIGTERM, timeout: float = 30) -> None:
    """Stop a process started in its own session, and everything it started (gunicorn's and Celery's children)."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)
    except ProcessLookupError:
        pass


def kill_group(process) -> None:
    """SIGKILL a process and its children at once: a crash, no chance to clean up."""
    if process is not None and process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)


def start_gunicorn(env: dict, log: Path, workers: int = 2):
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "--workers", str(workers), "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "120"],
        cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT, start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: process.poll() is None and urllib.request.urlopen(f"{base}/healthz/", timeout=5),
                 "gunicorn " + log.read_text()[-2000:] if process.poll() is not None else "gunicorn", timeout=90)
    except BaseException:
        stop_process(process)
        raise
    return process, base


def start_worker(env: dict, log: Path, *, pool: str = "prefork", concurrency: int = 1):
    """A Celery worker on the environment's broker (REDIS_URL), consuming its default queue."""
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", f"--pool={pool}", f"--concurrency={concurrency}",
         "--loglevel=INFO", "--hostname", f"faults-{os.getpid()}-{free_port()}@%h", "--without-gossip",
         "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT, start_new_session=True,
        preexec_fn=_die_with_parent,
    )


def temporary_root(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=f"{prefix}-{os.getpid()}-"))
    path.chmod(0o755)
    return path


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_up_interrupted_runs(prefix: str) -> None:
    """A run killed before its clean-up leaves its PostgreSQL server, mounts and directory (its other servers got
    SIGTERM when it died): remove those of runs no longer alive (the pid is in the directory's name)."""
    for root in Path(tempfile.gettempdir()).glob(f"{prefix}-*-*"):
        owner = root.name.removeprefix(prefix + "-").split("-")[0]
        if not owner.isdigit() or alive(int(owner)):
            continue
        with open("/proc/mounts") as mounts:
            mounted = [line.split()[1] for line in mounts if line.split()[1].startswith(str(root) + "/")]
        for point in mounted:
            subprocess.run(["umount", point], capture_output=True)
        data = root / "pg" / "data"
        if (data / "postmaster.pid").exists():
            subprocess.run(as_server_user([str(postgres_bindir() / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                           "stop"]), capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
