#!/usr/bin/env bash
# The run command: install, migrate, load demo data into an empty database, serve on 127.0.0.1:8000.
# No DATABASE_URL: SQLite in var/ and Celery tasks in-process. With DATABASE_URL and REDIS_URL: PostgreSQL and Redis,
# and a Celery worker and beat are started beside the web server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.local}
PY=.venv/bin/python

$PY scripts/ensure_database.py  # PostgreSQL mode: create the database if it does not exist yet
$PY manage.py migrate --noinput
$PY manage.py seed_demo --if-empty

pids=()
cleanup() { [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
if [ -n "${REDIS_URL:-}" ]; then
  echo "[run] REDIS_URL set: starting a Celery worker and beat"
  .venv/bin/celery -A config worker --loglevel=INFO --concurrency=2 &
  pids+=($!)
  .venv/bin/celery -A config beat --loglevel=INFO --schedule var/celerybeat-schedule &
  pids+=($!)
else
  echo "[run] no REDIS_URL: Celery tasks run in-process"
fi
echo "[run] 质检统计直报: http://127.0.0.1:8000/  (演示账号见 README)"
$PY manage.py runserver 127.0.0.1:8000
