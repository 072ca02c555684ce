"""`make demo` loads the demo data into the configured database (here the embedded SQLite default)."""
import os
import sqlite3
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make(*args, database):
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "REDIS_URL")}
    env["DATABASE_URL"] = f"sqlite:///{database}"
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_make_demo_installs_then_loads_the_demo_data():
    dry = make("-n", "demo", database="/dev/null").stdout
    assert "scripts/setup.sh" in dry and "demo-data" in dry


def test_make_demo_loads_institutions_and_demo_accounts_once(tmp_path):
    database = tmp_path / "demo.sqlite3"
    result = make("demo-data", "DEMO_INSTITUTIONS=3", database=database)
    assert result.returncode == 0, result.stdout + result.stderr
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM institutions_institution").fetchone() == (3,)
        assert {"admin", "filer"} <= {row[0] for row in db.execute("SELECT username FROM accounts_user")}
    again = make("demo-data", "DEMO_INSTITUTIONS=3", database=database)
    assert again.returncode != 0 and "演示数据只能载入空库" in again.stderr
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM institutions_institution").fetchone() == (3,)
