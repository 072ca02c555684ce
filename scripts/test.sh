#!/usr/bin/env bash
# The test command: install what the tests need, check PostgreSQL and Redis (127.0.0.1 by default, or DATABASE_URL and
# REDIS_URL), then run the whole suite, then the embedded suite (tests/embedded: the run command's default with nothing
# set — SQLite in a temporary file, Celery tasks in-process). Both must pass. Unreachable services fail the run;
# nothing is skipped.
#
# Arguments go to pytest. The embedded suite runs when there are none, or when one of them names a path in
# tests/embedded; the PostgreSQL suite runs unless every path given is in tests/embedded.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
.venv/bin/python scripts/check_services.py

# Lint before any test: a ruff finding fails the test command (rules in pyproject.toml, [tool.ruff]).
if ! .venv/bin/python -m ruff check .; then
  echo "[test] ruff 检查未通过（见上）；可自动修正的用 .venv/bin/python -m ruff check --fix . 修正后再运行测试" >&2
  exit 1
fi
# The apps' import direction (contracts in pyproject.toml, [tool.importlinter]; README "Layout").
if ! .venv/bin/lint-imports --no-cache --no-logo; then
  echo "[test] 导入方向检查未通过（见上）：应用只能导入其下层的应用，见 README 的 Layout 一节" >&2
  exit 1
fi

run_main=yes
run_embedded=no
[ $# -eq 0 ] && run_embedded=yes
embedded_paths=0
other_paths=0
for arg in "$@"; do
  case "$arg" in
    tests/embedded* | ./tests/embedded* | */tests/embedded*) embedded_paths=$((embedded_paths + 1)) ;;
    tests* | ./tests* | */tests/*) other_paths=$((other_paths + 1)) ;;
  esac
done
[ "$embedded_paths" -gt 0 ] && run_embedded=yes
[ "$embedded_paths" -gt 0 ] && [ "$other_paths" -eq 0 ] && run_main=no

if [ "$run_main" = yes ]; then
  .venv/bin/python -m pytest "$@"
fi
if [ "$run_embedded" = yes ]; then
  echo "[test] embedded default: SQLite, Celery tasks in-process (config.settings.test_embedded)"
  if [ $# -eq 0 ]; then
    .venv/bin/python -m pytest --ds=config.settings.test_embedded tests/embedded
  else
    .venv/bin/python -m pytest --ds=config.settings.test_embedded "$@"
  fi
fi
