"""scripts/backup.sh and scripts/restore.sh: a backup restores into a fresh database with the same rows, the media
files and every submission snapshot's fingerprint intact; a damaged backup or a non-empty target changes nothing."""
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from filings.models import FilingSnapshot
from tests.factories import make_filing

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.usefixtures("transactional_db")  # pg_dump sees only committed rows


def _url(name: str) -> str:
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    return f"postgres://{quote(db['USER'])}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def _script(name: str, *args, database: str, media: Path):
    env = {**os.environ, "DATABASE_URL": _url(database), "QTS_MEDIA_ROOT": str(media),
           "DJANGO_SETTINGS_MODULE": "config.settings.local", "PYTHON": sys.executable}
    return subprocess.run(["bash", f"scripts/{name}", *map(str, args)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def _admin(sql: str):
    conn = psycopg2.connect(_url("postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
    finally:
        conn.close()


def _row_counts(name: str) -> dict:
    conn = psycopg2.connect(_url(name))
    try:
        with conn.cursor() as cursor:
            cursor.execute("select tablename from pg_tables where schemaname = 'public' order by tablename")
            tables = [row[0] for row in cursor.fetchall()]
            counts = {}
            for table in tables:
                cursor.execute(f'select count(*) from "{table}"')
                counts[table] = cursor.fetchone()[0]
            return counts
    finally:
        conn.close()


@pytest.fixture
def fresh_database():
    name = f"{connection.settings_dict['NAME']}_restore"
    _admin(f'drop database if exists "{name}"')
    _admin(f'create database "{name}"')
    yield name
    _admin(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def backup(tmp_path, settings):
    """Two submitted filings with snapshots and an uploaded file, backed up; returns the backup directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    for revenue in ("860.50", "1200.00"):
        filing = make_filing(status="submitted", revenue=revenue)
        FilingSnapshot.objects.create(filing=filing, number=1, data={"统计": {"revenue": revenue}, "年度": 2025})
    media = settings.MEDIA_ROOT
    (media / "report_numbers").mkdir(parents=True, exist_ok=True)
    (media / "report_numbers" / "backup-test.txt").write_text("报告编号\nHN-2025-000001\n", encoding="utf-8")
    result = _script("backup.sh", tmp_path / "backups", database=connection.settings_dict["NAME"], media=media)
    assert result.returncode == 0, result.stdout + result.stderr
    return Path(result.stdout.strip().splitlines()[-1].removeprefix("backup="))


def test_a_backup_restores_rows_media_and_fingerprints(backup, fresh_database, tmp_path):
    restored_media = tmp_path / "restored-media"
    result = _script("restore.sh", backup, database=fresh_database, media=restored_media)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "snapshots=2 mismatched=0" in result.stdout

    assert _row_counts(fresh_database) == _row_counts(connection.settings_dict["NAME"])
    conn = psycopg2.connect(_url(fresh_database))
    try:
        with conn.cursor() as cursor:
            cursor.execute("select data, fingerprint from filings_filingsnapshot")
            restored = cursor.fetchall()
    finally:
        conn.close()
    assert sorted(fingerprint for _, fingerprint in restored) == sorted(
        FilingSnapshot.objects.values_list("fingerprint", flat=True))
    assert all(FilingSnapshot.fingerprint_of(data) == fingerprint for data, fingerprint in restored)
    restored_file = restored_media / "report_numbers" / "backup-test.txt"
    assert restored_file.read_text(encoding="utf-8") == "报告编号\nHN-2025-000001\n"


def test_a_damaged_backup_is_refused_and_nothing_is_restored(backup, fresh_database, tmp_path):
    dump = backup / "database.dump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    result = _script("restore.sh", backup, database=fresh_database, media=tmp_path / "restored-media")
    assert result.returncode != 0 and "备份文件校验失败" in result.stderr
    assert _row_counts(fresh_database) == {}
    assert not (tmp_path / "restored-media").exists()


def test_restore_refuses_a_database_that_holds_tables(backup, tmp_path):
    before = _row_counts(connection.settings_dict["NAME"])
    result = _script("restore.sh", backup, database=connection.settings_dict["NAME"], media=tmp_path / "m")
    assert result.returncode != 0 and "目标数据库已有" in result.stderr
    assert _row_counts(connection.settings_dict["NAME"]) == before


def test_backup_refuses_sqlite(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", "PYTHON": sys.executable}
    result = subprocess.run(["bash", "scripts/backup.sh", str(tmp_path)], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and "请设置 DATABASE_URL" in result.stderr


def test_verify_snapshots_finds_a_snapshot_altered_in_the_database():
    filing = make_filing(status="submitted")
    snapshot = FilingSnapshot.objects.create(filing=filing, number=1, data={"revenue": "1.00"})
    FilingSnapshot.objects.filter(pk=snapshot.pk).update(data={"revenue": "9.00"})  # as a damaged restore would
    with pytest.raises(CommandError, match="1 份提交快照的指纹与内容不符"):
        call_command("verify_snapshots")
