"""Fails, naming the service, when the test suite's PostgreSQL or Redis cannot be reached. No fallback."""
import os
import sys

import environ
import psycopg2
import redis
from psycopg2 import sql

database_url = os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qts")
redis_url = os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
failures = []

db = environ.Env.db_url_config(database_url)
if not db["ENGINE"].endswith("postgresql"):
    failures.append(f"DATABASE_URL 必须指向 PostgreSQL，当前为 {database_url}")
else:
    try:
        # The test database is created by pytest-django; the server only has to answer on its maintenance database.
        conn = psycopg2.connect(
            dbname="postgres", user=db.get("USER") or None, password=db.get("PASSWORD") or None,
            host=db.get("HOST") or None, port=db.get("PORT") or None, connect_timeout=5,
        )
        # A test database left by an interrupted run (perhaps still held by its orphaned worker) would make the
        # suite fail to create its own: drop it first, ending its connections.
        conn.autocommit = True
        with conn.cursor() as cursor:
            test_database = sql.Identifier(f"test_{db['NAME']}")
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(test_database))
        conn.close()
    except psycopg2.Error as exc:
        failures.append(f"PostgreSQL 无法连接（{database_url}）：{str(exc).strip()}")

try:
    redis.Redis.from_url(redis_url, socket_connect_timeout=5).ping()
except redis.RedisError as exc:
    failures.append(f"Redis 无法连接（{redis_url}）：{exc}")

if failures:
    for failure in failures:
        print(f"[test] 错误：{failure}", file=sys.stderr)
    sys.exit(1)
print(f"[test] PostgreSQL {database_url} and Redis {redis_url} reachable")
