"""Benchmark: the public report-number verification under gunicorn, against a raw-cursor Django view.

Usage:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/qts REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/report_numbers_lookup.py [--numbers 10000000] [--seconds 30] [--workers 4]

What it does
1. Creates its own database next to DATABASE_URL's (`<name>_bench_reports_lookup`, dropped and re-created), migrates
   it and fills it in SQL: 5,000 institutions over the cities and N report numbers (default 10,000,000; half ASCII
   like HNJC2024W00012345, half with CJK like 湘检〔2024〕第00012345号) in the 2023 and 2024 partitions, loaded with the
   unique index dropped and rebuilt afterwards, then VACUUM ANALYZE.
2. Starts gunicorn (`--workers`, default 4, sync workers) with the production settings
   (bench/report_numbers_lookup_site.py: only the SSL redirect is off and static files are served without a manifest),
   the Redis cache of REDIS_URL and a verification rate limit too high to be reached (the limiter still runs on every
   request).
3. Drives with `wrk` (2 threads, 32 connections, loopback), after a 5 s warm-up each: the baseline view
   (`/reports/bench-raw-lookup/?number=…`: the one indexed lookup through a raw cursor, tiny JSON) and the public
   verification page (`/reports/verify/?number=…`, the full HTML page), each for `--seconds` (default 30) in
   `--rounds` interleaved slices (default 3 × 10 s: baseline, page, baseline, page, …, so that both see the same
   background load on a shared machine). Numbers are drawn at random, nine in ten of them stored.
Prints requests per second and p50/p99 latency of both (means over the slices). Last line:
`ratio=… p99_ratio=… p50_ms=… p99_ms=…` (ratio = verification throughput / baseline throughput; p99_ratio =
verification p99 / baseline p99).
Target: ratio ≥ 0.8, p99_ratio ≤ 1.5.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from report_numbers_ingest import bench_url, recreate_database  # noqa: E402

INSTITUTIONS = 5000

WRK_SCRIPT = r"""
local prefix = "%s"
local stored = %d
local cjk_head = "%%E6%%B9%%98%%E6%%A3%%80%%E3%%80%%94"   -- 湘检〔
local cjk_mid = "%%E3%%80%%95%%E7%%AC%%AC"                -- 〕第
local cjk_tail = "%%E5%%8F%%B7"                           -- 号
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
function init(args)
  math.randomseed(os.time() * 1000 + seed)
end
request = function()
  local n = math.random(0, stored - 1)
  if math.random(1, 10) == 1 then n = n + stored end      -- one in ten is not stored
  local year = 2023 + (n %% 2)
  local number
  if n %% 4 < 2 then
    number = string.format("HNJC%%dW%%08d", year, n)
  else
    number = cjk_head .. year .. cjk_mid .. string.format("%%08d", n) .. cjk_tail
  end
  return wrk.format("GET", prefix .. number)
end
"""


def insert_institutions(count: int) -> int:
    from django.db import connection

    from institutions.models import Institution, Region

    from summary_export import insert_select

    city_ids = list(Region.objects.filter(level=Region.Level.CITY).order_by("code").values_list("pk", flat=True))
    with connection.cursor() as cursor:
        insert_select(cursor, Institution, {
            "name": "'基准检测有限公司' || g",
            "credit_code": "'91' || lpad(g::text, 16, '0')",
            "city_id": ("(%s::int[])[1 + g %% %s]", [city_ids, len(city_ids)]),
        }, "FROM generate_series(1, %s) AS g", [count])
        cursor.execute("SELECT min(id) FROM institutions_institution")
        return cursor.fetchone()[0]


def drop_keys(cursor):
    """Before a bulk load: no index to maintain row by row."""
    cursor.execute("ALTER TABLE reports_reportnumber DROP CONSTRAINT reports_reportnumber_uniq")
    cursor.execute("DROP INDEX reports_reportnumber_number")


def build_keys(cursor):
    """The indexes of reports.0004 (ADR 0026), built once after a bulk load."""
    cursor.execute(
        "ALTER TABLE reports_reportnumber "
        "ADD CONSTRAINT reports_reportnumber_uniq UNIQUE (institution_id, number, year)"
    )
    cursor.execute("CREATE INDEX reports_reportnumber_number ON reports_reportnumber (number)")


def load_numbers(numbers: int):
    from django.db import connection

    started = time.monotonic()
    first_id = insert_institutions(INSTITUTIONS)
    with connection.cursor() as cursor:
        drop_keys(cursor)
        cursor.execute(
            """INSERT INTO reports_reportnumber (year, quarter, institution_id, batch_id, number)
               SELECT 2023 + g %% 2, 1 + (g / 7) %% 4, %s + g %% %s, 0,
                      CASE WHEN g %% 4 < 2 THEN 'HNJC' || (2023 + g %% 2) || 'W' || lpad(g::text, 8, '0')
                           ELSE '湘检〔' || (2023 + g %% 2) || '〕第' || lpad(g::text, 8, '0') || '号' END
               FROM generate_series(0, %s - 1) AS g""",
            [first_id, INSTITUTIONS, numbers],
        )
        print(f"  {numbers:,} numbers inserted in {time.monotonic() - started:.0f} s", flush=True)
        cursor.execute("SET maintenance_work_mem = '512MB'")
        build_keys(cursor)
        print(f"  indexes built at {time.monotonic() - started:.0f} s", flush=True)
    connection.close()
    import psycopg2

    parts = urlparse(os.environ["DATABASE_URL"])
    raw = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username,
                           password=parts.password, dbname=parts.path.lstrip("/"))
    raw.autocommit = True
    with raw.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    raw.close()
    print(f"  loaded and vacuumed in {time.monotonic() - started:.0f} s", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(url: str, workers: int, port: int, log: Path):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url, DJANGO_SETTINGS_MODULE="report_numbers_lookup_site", DJANGO_SECRET_KEY="bench-" + "x" * 50,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost", QTS_VERIFY_PER_MINUTE="1000000000", QTS_LOG_LEVEL="WARNING",
        EMAIL_URL="smtp://127.0.0.1:25", DJANGO_DEFAULT_FROM_EMAIL="bench@localhost",
        PYTHONPATH=f"{ROOT / 'bench'}:{ROOT}",
    )
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/", timeout=2)
            return process
        except Exception:
            if process.poll() is not None:
                raise SystemExit("gunicorn exited:\n" + log.read_text()[-3000:]) from None
            time.sleep(0.5)
    os.killpg(process.pid, signal.SIGTERM)  # never leave a server behind
    process.wait(timeout=30)
    raise SystemExit("gunicorn did not answer within 60 s:\n" + log.read_text()[-3000:])


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(port: int, prefix: str, stored: int, seconds: int, script_dir: Path) -> dict:
    script = script_dir / f"wrk-{abs(hash(prefix))}.lua"
    script.write_text(WRK_SCRIPT % (prefix, stored), encoding="utf-8")
    output = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "--timeout", "10s", "-s", str(script),
         f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, check=True,
    ).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    for percentile in ("50", "99"):
        value, unit = re.search(rf"^\s+{percentile}(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
        result[f"p{percentile}"] = float(value) * _UNITS[unit]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: .*", output)
    result["non_2xx"] = int(bad.group(1)) if bad else 0
    result["errors"] = errors.group(0) if errors else ""
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=10_000_000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved slices per endpoint (default 3 × 10 s)")
    parser.add_argument("--reuse", action="store_true", help="keep the database of a previous run (skip loading)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk (scripts/setup.sh --dev installs it)")
    source_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qts")
    url = bench_url(source_url, "bench_reports_lookup")
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    if not args.reuse:
        recreate_database(url)
    import django

    django.setup()
    if not args.reuse:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        print(f"loading {args.numbers:,} numbers…", flush=True)
        load_numbers(args.numbers)

    with tempfile.TemporaryDirectory(prefix="qts-bench-lookup-") as tmp:
        tmp = Path(tmp)
        port = free_port()
        server = start_gunicorn(url, args.workers, port, tmp / "gunicorn.log")
        try:
            sample = urllib.request.urlopen(
                f"http://127.0.0.1:{port}/reports/verify/?number=HNJC2024W00000001", timeout=10
            ).read().decode()
            if 'data-testid="verify-found"' not in sample:
                raise SystemExit("the verification page did not find a stored number")
            targets = [("baseline (raw cursor, JSON)", "/reports/bench-raw-lookup/?number="),
                       ("verification page (HTML)", "/reports/verify/?number=")]
            for _label, prefix in targets:
                run_wrk(port, prefix, args.numbers, 5, tmp)  # warm-up
            # Interleaved slices, so that both endpoints see the same background load on a shared machine.
            slices = {label: [] for label, _ in targets}
            for _ in range(args.rounds):
                for label, prefix in targets:
                    slices[label].append(run_wrk(port, prefix, args.numbers, args.seconds // args.rounds, tmp))
            results = {}
            for label, runs in slices.items():
                results[label] = result = {
                    key: sum(run[key] for run in runs) / len(runs) for key in ("rps", "p50", "p99")
                }
                result["non_2xx"] = sum(run["non_2xx"] for run in runs)
                result["errors"] = "; ".join(run["errors"] for run in runs if run["errors"])
                non_2xx = f"  non-2xx: {result['non_2xx']}" if result["non_2xx"] else ""
                errors = f"  {result['errors']}" if result["errors"] else ""
                rates = ", ".join(f"{run['rps']:.0f}" for run in runs)
                print(f"{label:30s} {result['rps']:8.0f} req/s  p50 {result['p50']:6.1f} ms  "
                      f"p99 {result['p99']:6.1f} ms{non_2xx}{errors}   (slices: {rates} req/s)", flush=True)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    base, page = results[targets[0][0]], results[targets[1][0]]
    print(f"{args.numbers:,} numbers stored, {args.workers} gunicorn workers, 32 wrk connections, "
          f"{args.seconds} s each")
    print(f"ratio={page['rps'] / base['rps']:.2f} p99_ratio={page['p99'] / base['p99']:.2f} "
          f"p50_ms={page['p50']:.1f} p99_ms={page['p99']:.1f}")


if __name__ == "__main__":
    main()
