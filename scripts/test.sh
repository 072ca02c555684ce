#!/usr/bin/env bash
# The test command: install what the tests need, check PostgreSQL and Redis (127.0.0.1 by default, or DATABASE_URL and
# REDIS_URL), then run the whole suite. Unreachable services fail the run; nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
.venv/bin/python scripts/check_services.py
exec .venv/bin/python -m pytest "$@"
