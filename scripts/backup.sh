#!/usr/bin/env bash
# Back up the portal: the PostgreSQL database (pg_dump custom format) and the media files (uploads, receipts,
# exports), with SHA-256 checksums. Usage: scripts/backup.sh [DEST_DIR]   (default: var/backups)
# Reads DATABASE_URL (must be PostgreSQL) and the media directory from the Django settings (QTS_MEDIA_ROOT).
# The database is dumped first: a file written while the backup runs may be in the archive without its row, never
# the reverse. Restore with scripts/restore.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.local}

case "${DATABASE_URL:-}" in
  postgres://* | postgresql://*) ;;
  *) echo "[backup] 请设置 DATABASE_URL 为 PostgreSQL 数据库（postgres://…）；SQLite 演示库无需备份" >&2; exit 2 ;;
esac
media=$("$PY" -c 'import django; django.setup(); from django.conf import settings; print(settings.MEDIA_ROOT)' | tail -n 1)

dest_root=${1:-var/backups}
dest="$dest_root/qts-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$dest"
echo "[backup] 数据库 → $dest/database.dump"
pg_dump --format=custom --no-owner --no-privileges --file="$dest/database.dump" --dbname="$DATABASE_URL"
echo "[backup] 附件 $media → $dest/media.tar.gz"
mkdir -p "$media"
tar -C "$media" -czf "$dest/media.tar.gz" .
(cd "$dest" && sha256sum database.dump media.tar.gz > SHA256SUMS)
echo "[backup] 完成：$dest"
echo "backup=$dest"
