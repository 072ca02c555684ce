"""The run command's PostgreSQL mode creates a missing database, or says in one Chinese line what to run."""
import importlib.util
import os
import subprocess
import sys
import uuid
from pathlib import Path

import environ
import psycopg2
import pytest
from psycopg2 import sql

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("ensure_database", ROOT / "scripts" / "ensure_database.py")
ensure = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ensure)

SERVER = environ.Env.db_url_config(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qts"))
HOST, PORT, USER = SERVER["HOST"] or "127.0.0.1", SERVER["PORT"] or 5432, SERVER["USER"] or "postgres"


def admin(statement):
    conn = psycopg2.connect(dbname="postgres", user=USER, password=SERVER.get("PASSWORD") or None, host=HOST, port=PORT)
    conn.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
    try:
        conn.cursor().execute(statement)
    finally:
        conn.close()


@pytest.fixture
def missing_name():
    name = f"qts_ensure_{uuid.uuid4().hex[:10]}"
    yield name
    admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def url(name, user=USER):
    return f"postgres://{user}@{HOST}:{PORT}/{name}"


def test_a_missing_database_is_created_once(missing_name):
    assert ensure.ensure_database(url(missing_name)) == missing_name
    psycopg2.connect(url(missing_name)).close()
    assert ensure.ensure_database(url(missing_name)) is None  # exists now: nothing to do


def test_sqlite_needs_nothing():
    assert ensure.ensure_database("sqlite:////tmp/qts-ensure.sqlite3") is None


def test_a_user_who_may_not_create_databases_is_told_what_to_run(missing_name):
    role = f"qts_nocreate_{uuid.uuid4().hex[:6]}"
    admin(sql.SQL("CREATE ROLE {} LOGIN NOCREATEDB").format(sql.Identifier(role)))
    try:
        with pytest.raises(ensure.DatabaseMissing) as refused:
            ensure.ensure_database(url(missing_name, user=role))
        assert str(refused.value) == (
            f"数据库 {missing_name} 不存在，用户 {role} 无权创建："
            f"请先运行 createdb -h {HOST} -p {PORT} -U {role} {missing_name}"
        )
    finally:
        admin(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_an_unreachable_server_gets_one_chinese_line_and_no_traceback():
    result = subprocess.run(
        [sys.executable, "scripts/ensure_database.py"], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "DATABASE_URL": "postgres://qts:topsecret@127.0.0.1:1/qts"},
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("[run] 错误：PostgreSQL 无法连接")
    assert "topsecret" not in result.stderr and "Traceback" not in result.stderr
