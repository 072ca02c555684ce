"""Benchmark: 100 million report numbers — the public lookup and a 1,000,000-line upload, against 10 million / empty.

Usage:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/qts .venv/bin/python bench/report_numbers_scale.py \
            [--numbers 100000000] [--small 10000000] [--lookups 4000] [--rounds 4] [--keep] [--reuse]

What it does
1. Creates three databases next to DATABASE_URL's (`<name>_bench_scale_full`, `_small`, `_empty`; dropped and
   re-created unless --reuse), migrates them, and fills `full` with N numbers (default 100,000,000) and `small` with
   --small (default 10,000,000): 50,000 institutions, five year partitions (2021–2025), half ASCII numbers and half
   CJK ones, loaded by `generate_series` with the indexes dropped and built afterwards (as a restore or a bulk
   import would), then VACUUM ANALYZE. Prints the rows, the time taken and each database's size on disk.
2. Lookup: the public verification's own SQL (reports.selectors.LOOKUP_SQL, through one psycopg2 client) for random
   numbers, nine in ten stored, in --rounds interleaved slices (small, full, small, full, …) of --lookups each after
   a warm-up of the same size, so that both see the same machine. Prints p50/p99 of each.
3. Upload: a 1,000,000-line file (distinct numbers, shuffled, half CJK) through reports.uploads.start_upload and the
   ingest task in-process — the web upload's path — for a new institution, into `full` and into `empty`, alternately
   (two rounds each; the mean is compared).
Last line: `p99_ratio=… ingest_ratio=… p99_ms=… disk_gb=…` (lookup p99 at N over p99 at --small; upload time into
`full` over upload time into `empty`; the full table's p99; the full database's size). Targets: p99_ratio ≤ 1.3,
ingest_ratio ≤ 1.5. The databases are dropped at the end unless --keep (100 million numbers take about 20 GB).
"""
import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from report_numbers_ingest import bench_url, recreate_database, write_numbers  # noqa: E402

INSTITUTIONS = 50_000
YEARS = (2021, 2022, 2023, 2024, 2025)
CHUNK = 10_000_000


def number_sql(g: str) -> str:
    """The number stored for generate_series value g (unique by g); `stored_number` gives the same in Python."""
    year = f"({YEARS[0]} + {g} %% {len(YEARS)})"
    return (f"CASE WHEN {g} %% 4 < 2 THEN 'HNJC' || {year} || 'W' || lpad({g}::text, 9, '0') "
            f"ELSE '湘检〔' || {year} || '〕第' || lpad({g}::text, 9, '0') || '号' END")


def stored_number(g: int) -> str:
    year = YEARS[0] + g % len(YEARS)
    return f"HNJC{year}W{g:09d}" if g % 4 < 2 else f"湘检〔{year}〕第{g:09d}号"


def connect(url: str):
    import psycopg2

    parts = urlparse(url)
    return psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username,
                            password=parts.password, dbname=parts.path.lstrip("/"))


def run_worker(url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.local", "REDIS_URL": "",
           "QTS_LOG_LEVEL": "WARNING"}
    result = subprocess.run([sys.executable, __file__, *args], env=env, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"worker {args[0]} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def setup_django():
    import django

    django.setup()


# --- worker: migrate and load ----------------------------------------------------------------------------------------

def worker_load(numbers: int):
    setup_django()
    from django.core.management import call_command
    from django.db import connection
    from report_numbers_lookup import build_keys, drop_keys, insert_institutions

    call_command("migrate", verbosity=0)
    if numbers == 0:
        return
    started = time.monotonic()
    first_id = insert_institutions(INSTITUTIONS)
    with connection.cursor() as cursor:
        drop_keys(cursor)
    for start in range(0, numbers, CHUNK):
        stop = min(numbers, start + CHUNK)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO reports_reportnumber (year, quarter, institution_id, batch_id, number)
                    SELECT {YEARS[0]} + g %% {len(YEARS)}, 1 + (g / 7) %% 4, %s + g %% %s, 0, {number_sql('g')}
                    FROM generate_series(%s, %s) AS g""",
                [first_id, INSTITUTIONS, start, stop - 1],
            )
        print(f"    {stop:,} rows at {time.monotonic() - started:.0f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        build_keys(cursor)
        print(f"    indexes built at {time.monotonic() - started:.0f} s", flush=True)
    connection.close()


# --- worker: one upload ---------------------------------------------------------------------------------------------

def worker_ingest(path: str, code: int | str):
    setup_django()
    from accounts.models import Role, User
    from institutions.models import Institution, Region

    from report_numbers_ingest import upload

    city = Region.objects.get(code="430100")
    code = f"{code}{time.time_ns() % 10**7:07d}"  # unique across runs that reuse the databases
    institution = Institution.objects.create(
        name=f"上传基准检测有限公司{code}", credit_code=f"91430100{code:0>9}X"[:18], city=city,
    )
    filer = User.objects.create(username=f"bench-filer-{code}", role=Role.FILER, institution=institution)
    seconds, batch = upload(institution, filer, Path(path))
    print(f"seconds={seconds:.3f} accepted={batch.accepted}")


# --- main -------------------------------------------------------------------------------------------------------------

def vacuum(url: str):
    conn = connect(url)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT pg_database_size(current_database())")
        size = cursor.fetchone()[0]
    conn.close()
    return size


def lookups(url: str, lookup_sql: str, stored: int, count: int, rng: random.Random) -> list[float]:
    conn = connect(url)
    conn.autocommit = True
    times = []
    sql = lookup_sql + " ORDER BY r.year DESC, r.quarter DESC LIMIT 5"
    with conn.cursor() as cursor:
        for _ in range(count):
            g = rng.randrange(stored)
            if rng.random() < 0.1:
                g += stored  # not stored
            started = time.perf_counter()
            cursor.execute(sql, [stored_number(g)])
            cursor.fetchall()
            times.append(time.perf_counter() - started)
    conn.close()
    return times


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=100_000_000)
    parser.add_argument("--small", type=int, default=10_000_000)
    parser.add_argument("--lookups", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the databases (for --reuse)")
    parser.add_argument("--reuse", action="store_true", help="use the databases a --keep run left")
    args = parser.parse_args()
    source = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qts")
    if not source.startswith("postgres"):
        raise SystemExit("DATABASE_URL must point at PostgreSQL")
    urls = {name: bench_url(source, f"bench_scale_{name}") for name in ("full", "small", "empty")}
    sizes = {"full": args.numbers, "small": args.small, "empty": 0}

    started = time.monotonic()
    for name, url in urls.items():
        if args.reuse:  # migrations added since the load
            run_worker(url, "--worker-load", "0")
            continue
        print(f"loading {name}: {sizes[name]:,} numbers", flush=True)
        recreate_database(url)
        sys.stdout.write(run_worker(url, "--worker-load", str(sizes[name])))
    disk = {name: vacuum(url) for name, url in urls.items()}
    print(f"loaded in {time.monotonic() - started:.0f} s; on disk: "
          + ", ".join(f"{name} {size / 1e9:.2f} GB" for name, size in disk.items()), flush=True)

    os.environ.update(DATABASE_URL=urls["empty"], DJANGO_SETTINGS_MODULE="config.settings.local", REDIS_URL="")
    setup_django()
    from reports.selectors import LOOKUP_SQL

    rng = random.Random(20261129)
    timings = {"small": [], "full": []}
    for name in timings:  # warm-up, not counted
        lookups(urls[name], LOOKUP_SQL, sizes[name], args.lookups, rng)
    for round_number in range(args.rounds):
        for name in timings:
            timings[name] += lookups(urls[name], LOOKUP_SQL, sizes[name], args.lookups, rng)
        print(f"  lookup round {round_number + 1}/{args.rounds}: "
              + ", ".join(f"{n} p99 {percentile(t, 0.99) * 1000:.2f} ms" for n, t in timings.items()), flush=True)
    p50 = {name: percentile(t, 0.5) * 1000 for name, t in timings.items()}
    p99 = {name: percentile(t, 0.99) * 1000 for name, t in timings.items()}
    for name in timings:
        print(f"lookup {name:5} ({sizes[name]:>11,} numbers): p50 {p50[name]:.2f} ms  p99 {p99[name]:.2f} ms")

    with tempfile.TemporaryDirectory(prefix="qts-bench-scale-") as tmp:
        path = Path(tmp) / "numbers.txt"
        write_numbers(path, 1_000_000)
        ingest = {"empty": [], "full": []}
        for round_number in range(2):
            for name in ingest:
                out = run_worker(urls[name], "--worker-ingest", str(path), str(round_number * 10 + len(ingest[name])))
                seconds = float(out.split("seconds=")[1].split()[0])
                ingest[name].append(seconds)
                print(f"  upload of 1,000,000 lines into {name}: {seconds:.2f} s", flush=True)
    mean = {name: statistics.mean(values) for name, values in ingest.items()}

    if not args.keep:
        for url in urls.values():
            drop(url)
    p99_ratio = p99["full"] / p99["small"]
    ingest_ratio = mean["full"] / mean["empty"]
    print(f"p99_ratio={p99_ratio:.2f} ingest_ratio={ingest_ratio:.2f} p99_ms={p99['full']:.2f} "
          f"disk_gb={disk['full'] / 1e9:.1f}")


def drop(url: str):
    import psycopg2

    parts = urlparse(url)
    admin = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username,
                             password=parts.password, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')
    admin.close()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker-load":
        worker_load(int(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--worker-ingest":
        worker_ingest(sys.argv[2], int(sys.argv[3]))
    else:
        main()
