#!/usr/bin/env bash
# Installs everything the portal needs on this machine: the virtual environment and Python packages, the front-end
# assets from npm, and the system packages (CJK fonts for the PDFs; with --dev, Chromium and poppler for the tests).
# Safe to run again: each step skips what is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
[ "${1:-}" = "--dev" ] && DEV=1
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

# --- system packages (Debian/Ubuntu) ------------------------------------------------------------
need=()
# WeasyPrint needs Pango; Chinese PDFs need a CJK font. (No `grep -q` in these pipes: under pipefail its early exit
# would fail the listing command with SIGPIPE and make every run reinstall.)
ldconfig -p 2>/dev/null | grep 'libpango-1.0' >/dev/null || need+=(libpango-1.0-0 libpangoft2-1.0-0)
fc-list 2>/dev/null | grep -i 'Noto Sans CJK' >/dev/null || need+=(fonts-noto-cjk fontconfig)
if [ "$DEV" = 1 ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
  command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
  command -v soffice >/dev/null 2>&1 || need+=(libreoffice-calc-nogui)
  command -v wrk >/dev/null 2>&1 || need+=(wrk)  # load generator of bench/report_numbers_lookup.py
  command -v caddy >/dev/null 2>&1 || need+=(caddy)  # tests/test_deployment.py validates deploy/Caddyfile
  command -v pg_dump >/dev/null 2>&1 || need+=(postgresql-client)  # scripts/backup.sh, tests/test_backup.py
fi
if [ ${#need[@]} -gt 0 ]; then
  say "installing system packages: ${need[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "未找到 apt-get：请用本系统的包管理器安装 ${need[*]}" >&2
    exit 1
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- Python -------------------------------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
# Exactly the versions (and file hashes) of the lock, then the project itself without resolving anything again.
# The lock is generated from pyproject.toml (README, "Updating the lock"); pip check fails a lock that misses one.
lock=requirements/lock.txt
[ "$DEV" = 1 ] && lock=requirements/lock-dev.txt
stamp=.venv/.installed-$( (cat "$lock"; echo "dev=$DEV") | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  say "installing Python packages from $lock"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes -r "$lock"
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
  if ! .venv/bin/python -m pip check >/dev/null; then
    .venv/bin/python -m pip check >&2 || true
    echo "$lock 与 pyproject.toml 的依赖不一致：请按 README 的“Updating the lock”重新生成锁文件" >&2
    exit 1
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# --- front-end assets ---------------------------------------------------------------------------
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing front-end assets from npm"
  npm ci --no-audit --no-fund --loglevel=error
fi

mkdir -p var
# --- the replica tests (dev) ------------------------------------------------------------------------
# tests/test_replica.py starts a streaming replica of the local PostgreSQL with pg_basebackup, which needs a
# replication entry in pg_hba.conf. It is added only where 127.0.0.1 is already trusted (a developer's or CI's server).
if [ "$DEV" = 1 ] && command -v psql >/dev/null 2>&1; then
  hba=$(psql -h 127.0.0.1 -U postgres -Atc 'show hba_file' 2>/dev/null || true)
  if [ -n "$hba" ] && [ -w "$hba" ] && grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba" \
     && ! grep -Eq '^host[[:space:]]+replication[[:space:]]+[^[:space:]]+[[:space:]]+127\.0\.0\.1/32' "$hba"; then
    say "allowing local replication connections in $hba (tests/test_replica.py)"
    echo 'host replication postgres 127.0.0.1/32 trust  # added by scripts/setup.sh --dev' >> "$hba"
    psql -h 127.0.0.1 -U postgres -Atc 'select pg_reload_conf()' >/dev/null
  fi
fi
say "ready"
