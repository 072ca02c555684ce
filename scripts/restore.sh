#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into an EMPTY PostgreSQL database and media directory, then verify it.
# Usage: scripts/restore.sh BACKUP_DIR
# Reads DATABASE_URL (the target; create it first, e.g. createdb qts) and QTS_MEDIA_ROOT (the target media directory).
# Refuses a damaged backup (checksums), a database that already holds tables and a media directory that holds files;
# after restoring it recomputes every submission snapshot's SHA-256 fingerprint (manage.py verify_snapshots).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.local}

backup=${1:?用法：scripts/restore.sh 备份目录（scripts/backup.sh 打印的 backup=…）}
case "${DATABASE_URL:-}" in
  postgres://* | postgresql://*) ;;
  *) echo "[restore] 请设置 DATABASE_URL 为目标 PostgreSQL 数据库（postgres://…）" >&2; exit 2 ;;
esac
echo "[restore] 校验备份文件"
(cd "$backup" && sha256sum --check --quiet SHA256SUMS) || { echo "[restore] 备份文件校验失败，未做任何改动" >&2; exit 1; }

tables=$(psql --dbname="$DATABASE_URL" --tuples-only --no-align \
  --command="select count(*) from pg_tables where schemaname = 'public'")
if [ "$tables" != "0" ]; then
  echo "[restore] 目标数据库已有 $tables 张表：请恢复到新建的空数据库，未做任何改动" >&2
  exit 1
fi
media=$("$PY" -c 'import django; django.setup(); from django.conf import settings; print(settings.MEDIA_ROOT)' | tail -n 1)
if [ -d "$media" ] && [ -n "$(ls -A "$media")" ]; then
  echo "[restore] 附件目录 $media 不为空：请指定新的 QTS_MEDIA_ROOT，未做任何改动" >&2
  exit 1
fi

echo "[restore] 数据库"
pg_restore --exit-on-error --no-owner --no-privileges --dbname="$DATABASE_URL" "$backup/database.dump"
echo "[restore] 附件 → $media"
mkdir -p "$media"
tar -C "$media" -xzf "$backup/media.tar.gz"
"$PY" manage.py verify_snapshots
echo "[restore] 完成"
