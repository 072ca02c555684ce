"""Benchmark: a quarterly upload of 1,000,000 report numbers through the web upload's code path, against raw COPY.

Usage:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/qts .venv/bin/python bench/report_numbers_ingest.py [--lines N]

What it does
1. Creates its own database next to DATABASE_URL's (`<name>_bench_reports_ingest`, dropped and re-created) and
   migrates it; writes a file of N lines (default 1,000,000: distinct numbers in shuffled order, half of them with CJK
   characters, UTF-8) to a temporary directory.
2. Upload: `reports.uploads.start_upload` (what the upload view calls: the file is copied to the upload directory,
   sniffed, a batch created) whose Celery task `reports.ingest_report_numbers` runs in-process when the transaction
   commits (eager, as the test settings configure it) — encoding pass, line checks, COPY into a staging table, the
   set-based insert into the year-partitioned `reports_reportnumber`, rejects file, counts. Timed from the call to the
   batch being done.
3. Baseline: psycopg2 `COPY` of the same file into a temporary staging table and `INSERT … SELECT … ON CONFLICT DO
   NOTHING` into a fresh table with the identical definition (partitioned by year, same unique key), one transaction.
4. The same again with the same file (re-upload: everything is a duplicate) against a second baseline re-insert.
Prints both times, their ratios and the upload's peak memory (the process's maximum resident set size, measured
before the baseline runs). Last line: `ratio=… reupload_ratio=… peak_mb=…`.
Target: ratio ≤ 1.5, reupload_ratio ≤ 1.5, peak_mb < 300.
"""
import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

YEAR, QUARTER = 2024, 1


def bench_url(url: str, suffix: str) -> str:
    parts = urlparse(url)
    name = parts.path.lstrip("/") or "qts"
    return urlunparse(parts._replace(path=f"/{name}_{suffix}"))


def recreate_database(url: str):
    import psycopg2

    parts = urlparse(url)
    admin = psycopg2.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username, password=parts.password, dbname="postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        name = parts.path.lstrip("/")
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def setup_django(url: str, media: Path):
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["QTS_MEDIA_ROOT"] = str(media)
    os.environ.setdefault("QTS_TEST_EAGER", "true")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def write_numbers(path: Path, lines: int) -> int:
    """Distinct numbers in a shuffled order (a permutation by multiplication modulo a prime), written in chunks."""
    prime = 1_000_003 if lines <= 1_000_003 else 2_000_003
    step = 7919
    written = 0
    with path.open("w", encoding="utf-8") as out:
        chunk = []
        for i in range(prime):
            n = (i * step) % prime
            if n >= lines:
                continue
            chunk.append(f"湘检〔{YEAR}〕第{n:07d}号" if n % 2 else f"HNJC{YEAR}W{n:08d}")
            written += 1
            if len(chunk) == 10000:
                out.write("\n".join(chunk) + "\n")
                chunk = []
        if chunk:
            out.write("\n".join(chunk) + "\n")
    return written


def upload(institution, filer, path: Path):
    from django.core.files import File

    from reports import uploads
    from reports.models import ReportNumberBatch
    from reports.quarters import Quarter

    started = time.perf_counter()
    with path.open("rb") as handle:
        batch = uploads.start_upload(
            institution=institution, quarter=Quarter(YEAR, QUARTER), source=File(handle, name=path.name),
            name=path.name, actor=filer,
        )
    batch = ReportNumberBatch.objects.get(pk=batch.pk)
    elapsed = time.perf_counter() - started
    if batch.status != ReportNumberBatch.Status.DONE:
        raise SystemExit(f"upload did not finish: {batch.status} {batch.error}")
    return elapsed, batch


BASELINE_DDL = [
    """CREATE TABLE bench_baseline_numbers (
        id bigserial NOT NULL,
        year smallint NOT NULL CHECK (year >= 0),
        quarter smallint NOT NULL CHECK (quarter BETWEEN 1 AND 4),
        institution_id bigint NOT NULL,
        batch_id bigint NOT NULL,
        number varchar(64) COLLATE "C" NOT NULL,
        CONSTRAINT bench_baseline_numbers_uniq UNIQUE (number, institution_id, year)
    ) PARTITION BY RANGE (year)""",
    (
        f"CREATE TABLE bench_baseline_numbers_y{YEAR} PARTITION OF bench_baseline_numbers "
        f"FOR VALUES FROM ({YEAR}) TO ({YEAR + 1})"
    ),
    "CREATE TABLE bench_baseline_numbers_default PARTITION OF bench_baseline_numbers DEFAULT",
]


def baseline(url: str, path: Path, institution_id: int) -> tuple[float, int]:
    """Raw psycopg2: COPY into a staging table, one INSERT … ON CONFLICT DO NOTHING; returns (seconds, inserted)."""
    import psycopg2

    parts = urlparse(url)
    connection = psycopg2.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username, password=parts.password,
        dbname=parts.path.lstrip("/"),
    )
    try:
        started = time.perf_counter()
        with connection, connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE staging (number text) ON COMMIT DROP")
            with path.open("rb") as handle:
                cursor.copy_expert("COPY staging (number) FROM STDIN", handle, size=65536)
            cursor.execute(
                "INSERT INTO bench_baseline_numbers (year, quarter, institution_id, batch_id, number) "
                "SELECT %s, %s, %s, 0, number FROM staging ON CONFLICT DO NOTHING",
                [YEAR, QUARTER, institution_id],
            )
            inserted = cursor.rowcount
        return time.perf_counter() - started, inserted
    finally:
        connection.close()


def checkpoint():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()
    source_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qts")
    if not source_url.startswith("postgres"):
        raise SystemExit("DATABASE_URL must point at PostgreSQL")
    url = bench_url(source_url, "bench_reports_ingest")
    recreate_database(url)
    with tempfile.TemporaryDirectory(prefix="qts-bench-ingest-") as tmp:
        tmp = Path(tmp)
        setup_django(url, tmp / "media")
        from django.db import connection

        from accounts.models import Role, User
        from institutions.models import Institution, Region

        started = time.perf_counter()
        path = tmp / "numbers.txt"
        lines = write_numbers(path, args.lines)
        written = time.perf_counter() - started
        print(f"file: {lines:,} lines, {path.stat().st_size / 1e6:.1f} MB ({written:.1f} s to write)")
        city = Region.objects.get(code="430100")
        institution = Institution.objects.create(name="基准检测有限公司", credit_code="91430100000000001X", city=city)
        filer = User.objects.create(username="bench-filer", role=Role.FILER, institution=institution)
        with connection.cursor() as cursor:
            for statement in BASELINE_DDL:
                cursor.execute(statement)
        checkpoint()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        upload_s, batch = upload(institution, filer, path)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"upload:            {upload_s:7.2f} s  accepted={batch.accepted:,} duplicates={batch.duplicates:,} "
              f"rejected={batch.rejected:,}  ({lines / upload_s:,.0f} lines/s)")
        checkpoint()
        baseline_s, inserted = baseline(url, path, institution.pk)
        print(f"baseline:          {baseline_s:7.2f} s  inserted={inserted:,}")
        checkpoint()
        reupload_s, again = upload(institution, filer, path)
        print(f"re-upload:         {reupload_s:7.2f} s  accepted={again.accepted:,} duplicates={again.duplicates:,}")
        checkpoint()
        rebaseline_s, reinserted = baseline(url, path, institution.pk)
        print(f"baseline re-insert:{rebaseline_s:7.2f} s  inserted={reinserted:,}")
        print(f"process peak RSS: {rss_before:.0f} MB before the upload, {peak_mb:.0f} MB after it")
        ratio = upload_s / baseline_s
        reupload_ratio = reupload_s / rebaseline_s
        print(f"ratio={ratio:.2f} reupload_ratio={reupload_ratio:.2f} peak_mb={peak_mb:.0f}")


if __name__ == "__main__":
    main()
