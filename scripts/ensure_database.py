"""Creates the PostgreSQL database that DATABASE_URL names when it does not exist yet (the run command's PostgreSQL
mode); otherwise one Chinese line says what to run. SQLite and an existing database: nothing to do.

Usage: python scripts/ensure_database.py   (exit status 1 with the message on standard error when it cannot)
"""
import os
import sys
from urllib.parse import urlsplit, urlunsplit

import environ
import psycopg2
from psycopg2 import errorcodes, sql


class DatabaseMissing(Exception):
    """The database does not exist and could not be created; the message says what to run."""


def ensure_database(url: str) -> str | None:
    """Create the database of `url` if it is PostgreSQL and missing. Returns its name when it was created."""
    db = environ.Env.db_url_config(url)
    if not db["ENGINE"].endswith("postgresql"):
        return None
    name = db["NAME"]
    connect = {
        "user": db.get("USER") or None, "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None, "port": db.get("PORT") or None, "connect_timeout": 5,
    }
    try:
        psycopg2.connect(dbname=name, **connect).close()
        return None
    except psycopg2.OperationalError as exc:
        refused = exc
    # Ask the maintenance database whether the database exists (the server's own message may be in any language).
    reason = " ".join(str(refused).split())  # one line
    unreachable = f"PostgreSQL 无法连接（{_without_password(url)}）：{reason}"
    try:
        conn = psycopg2.connect(dbname="postgres", **connect)
    except psycopg2.Error as exc:
        raise DatabaseMissing(unreachable) from exc
    host, port, user = db.get("HOST") or "localhost", db.get("PORT") or 5432, db.get("USER") or "postgres"
    command = f"createdb -h {host} -p {port} -U {user} {name}"
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone():
                raise DatabaseMissing(unreachable)  # it exists: the refusal was about something else
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg2.Error as exc:
        if exc.pgcode == errorcodes.DUPLICATE_DATABASE:  # created meanwhile by someone else: fine
            return None
        raise DatabaseMissing(f"数据库 {name} 不存在，用户 {db.get('USER')} 无权创建：请先运行 {command}") from exc
    finally:
        conn.close()
    return name


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)))


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return 0
    try:
        created = ensure_database(url)
    except DatabaseMissing as missing:
        print(f"[run] 错误：{missing}", file=sys.stderr)
        return 1
    if created:
        print(f"[run] 已创建 PostgreSQL 数据库 {created}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
