"""Benchmark: the national 年度汇总 workbook against bare openpyxl write-only and XlsxWriter constant-memory baselines.

Usage:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/qts .venv/bin/python bench/summary_export.py [--institutions N]

What it does
1. Creates its own database next to DATABASE_URL's (`<name>_bench_summary`, dropped and re-created), migrates it, and
   fills it in SQL (INSERT … SELECT over generate_series, no Python loop): N institutions (default 50,000) spread over
   the cities, one to four professional fields each, and an approved filing with every indicator for the reporting
   year and the year before (heavy-tailed revenue and staff, like the national figures).
2. In a child process (so that its peak memory is that of the export alone, not of the set-up):
   - the project: a SAMR reviewer starts the national summary through `summaries.services.start_export`; the Celery
     task `summaries.build_export` runs eagerly in that process (CELERY_TASK_ALWAYS_EAGER, the test settings), i.e.
     the same task code a worker runs, with its progress updates, temporary file and rename;
   - the baseline: the same 机构明细 rows (same columns, same order) fetched by one raw SQL query through a
     server-side cursor and written with a bare openpyxl write-only loop (`ws.append(row)`, no styles), saved;
   - the second baseline: the same rows written with a bare XlsxWriter constant-memory loop (`ws.write_row`, no
     styles), the fastest public writer, against which the project's writer (XlsxWriter too) is judged.
   Each is run `--repeat` times (default 2), alternating; the best time of each counts. The machine may be shared:
   the CPU time of the measuring process is printed too (it leaves out PostgreSQL's share, small here).
3. Prints the times, the ratios (whole workbook / detail-sheet baseline) and the child's peak RSS; last line
   `ratio=… xlsxwriter_ratio=… peak_mb=… project_s=… baseline_s=… xlsxwriter_s=… institutions=…`.
Targets: ratio ≤ 1.5 (against the openpyxl baseline), peak memory < 400 MB; xlsxwriter_ratio is reported.
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
YEAR = 2025


def bench_url(url: str) -> str:
    parts = urlparse(url)
    name = parts.path.lstrip("/") or "qts"
    return urlunparse(parts._replace(path=f"/{name}_bench_summary"))


def recreate_database(url: str):
    import psycopg2

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username, password=parts.password, dbname="postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def setup_django(url: str, media: Path):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ["QTS_MEDIA_ROOT"] = str(media)
    import django

    django.setup()


def insert_select(cursor, model, expressions: dict, from_clause: str, params=()):
    """INSERT INTO model's table (every column but id) SELECT the given SQL expressions; columns not given get the
    field's default (or NULL, or now() for timestamps)."""
    from django.db import models

    columns, selects, values = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(f'"{field.column}"')
        if field.attname in expressions:
            expression = expressions[field.attname]
            sql, expression_params = expression if isinstance(expression, tuple) else (expression, [])
            selects.append(sql)
            values.extend(expression_params)
        elif isinstance(field, models.DateTimeField) and not field.null:
            selects.append("now()")
        elif field.has_default():
            selects.append("%s")
            values.append(field.get_db_prep_save(field.get_default(), cursor.db))
        elif field.null or field.blank:
            selects.append("NULL" if field.null else "''")
        else:
            raise RuntimeError(f"{model.__name__}.{field.name} needs a value")
    sql = f'INSERT INTO "{model._meta.db_table}" ({", ".join(columns)}) SELECT {", ".join(selects)} {from_clause}'
    cursor.execute(sql, [*values, *params])


def load_data(institutions: int):
    from django.db import connection

    from filings.models import Filing, FilingStatistics, ReportingYear
    from institutions.models import Institution, Region

    started = time.monotonic()
    years = [ReportingYear.objects.create(year=YEAR - 1), ReportingYear.objects.create(year=YEAR)]
    city_ids = list(Region.objects.filter(level=Region.Level.CITY).order_by("code").values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        insert_select(cursor, Institution, {
            "name": "'全国基准检测有限公司' || g",
            "credit_code": "'91' || lpad(g::text, 16, '0')",
            "city_id": ("(%s::int[])[1 + g %% %s]", [city_ids, len(city_ids)]),
            "nature": "(ARRAY['enterprise','enterprise','enterprise','public','other'])[1 + g %% 5]",
            "ownership": "(ARRAY['private','private','state','collective','foreign','other'])[1 + g %% 6]",
            "legal_representative": "'法定代表人' || g",
            "registered_address": "'测试省测试市测试路' || g || '号'",
            "established_year": "1990 + g %% 30",
            "contact_person": "'联系人' || g",
            "contact_phone": "'0731-' || lpad(g::text, 8, '0')",
        }, "FROM generate_series(1, %s) AS g", [institutions])
        # One to four professional fields each.
        cursor.execute(
            """INSERT INTO institutions_institution_professional_fields (institution_id, professionalfield_id)
               SELECT i.id, f.id FROM institutions_institution i
               JOIN LATERAL (SELECT id FROM institutions_professionalfield ORDER BY random() + i.id * 0
                             LIMIT 1 + i.id % 4) f ON true"""
        )
        for year in years:
            insert_select(cursor, Filing, {
                "institution_id": "i.id", "year_id": ("%s", [year.pk]), "status": "'approved'",
            }, "FROM institutions_institution i")
        # Heavy-tailed staff and revenue (a median far below the mean), parts that add up to their totals.
        cursor.execute("SELECT setseed(0.17)")
        insert_select(cursor, FilingStatistics, {
            "filing_id": "f.id",
            "staff_total": "s.staff", "staff_doctorate": "s.staff / 20", "staff_master": "s.staff / 5",
            "staff_bachelor": "s.staff / 2",
            "staff_college_or_below": "s.staff - s.staff / 20 - s.staff / 5 - s.staff / 2",
            "staff_senior_title": "s.staff / 10", "staff_intermediate_title": "s.staff / 4",
            "staff_junior_title": "s.staff / 4",
            "staff_no_title": "s.staff - s.staff / 10 - 2 * (s.staff / 4)",
            "instruments_total": "s.staff * 6", "instruments_domestic": "s.staff * 5",
            "instruments_imported": "s.staff",
            "instruments_over_500k": "s.staff / 10",
            "instrument_value_total": "s.revenue * 1.2", "instrument_value_domestic": "s.revenue * 0.9",
            "instrument_value_imported": "s.revenue * 1.2 - s.revenue * 0.9",
            "lab_area": "s.staff * 45.5", "total_assets": "s.revenue * 1.6", "revenue": "s.revenue",
            "reports_total": "s.staff * 400", "reports_enforcement": "s.staff * 40",
            "reports_commissioned": "s.staff * 340", "reports_judicial": "s.staff * 5", "reports_other": "s.staff * 15",
            "patents_valid": "s.staff / 8", "patents_invention": "s.staff / 30", "research_projects": "s.staff / 15",
            "standards_national": "s.staff / 40", "standards_national_lead": "0", "standards_industry": "s.staff / 30",
            "standards_industry_lead": "0",
            "enterprise_costs": "s.revenue * 0.7", "enterprise_profit": "s.revenue * 0.12",
            "enterprise_taxes": "s.revenue * 0.05", "enterprise_payroll": "s.revenue * 0.3",
        }, """FROM filings_filing f CROSS JOIN LATERAL (
                 SELECT greatest(3, (exp(random() * 5.5) + f.id * 0)::int) AS staff,
                        round((exp(random() * 8.5) + f.id * 0)::numeric, 2) AS revenue) s""")
        cursor.execute("ANALYZE")
    print(f"data: {institutions} institutions, {2 * institutions} approved filings "
          f"in {time.monotonic() - started:.1f} s")


BASELINE_SQL = """
SELECT i.name, i.credit_code, c.name, i.nature, i.ownership, i.reviewing_authority,
       array_to_string(ARRAY(SELECT p.name FROM institutions_institution_professional_fields m
                             JOIN institutions_professionalfield p ON p.id = m.professionalfield_id
                             WHERE m.institution_id = i.id ORDER BY p."order", p.code), '、'),
       f.status,
       CASE WHEN f.status = 'approved' THEN '是' ELSE '否' END,
       CASE WHEN s.revenue >= 1000 THEN '是' WHEN f.id IS NULL THEN '' ELSE '否' END,
       CASE WHEN s.staff_total < 100 THEN '是' WHEN f.id IS NULL THEN '' ELSE '否' END,
       {stats}
FROM institutions_institution i
JOIN institutions_region c ON c.id = i.city_id
LEFT JOIN filings_filing f ON f.institution_id = i.id AND f.year_id = %s
LEFT JOIN filings_filingstatistics s ON s.filing_id = f.id
ORDER BY c.code, i.name, i.id
"""


def _baseline_rows():
    """The 机构明细 header, then its rows from one raw SQL query through a server-side cursor (within a transaction)."""
    from django.db import connection

    from filings.models import ReportingYear
    from summaries.builders import _detail_columns, statistics_fields

    year_id = ReportingYear.objects.get(year=YEAR).pk
    sql = BASELINE_SQL.format(stats=", ".join(f"s.{field.column}" for field in statistics_fields()))
    yield [column.header for column in _detail_columns()]
    cursor = connection.connection.cursor(name="baseline")  # server-side: streamed, not loaded at once
    cursor.itersize = 2000
    cursor.execute(sql, [year_id])
    yield from cursor
    cursor.close()


def run_baseline(path: Path) -> tuple[float, float, int]:
    """The same 机构明细 rows from one raw SQL query, written by a bare openpyxl write-only loop."""
    from django.db import transaction
    from openpyxl import Workbook

    started, cpu = time.monotonic(), time.process_time()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("机构明细")
    rows = -1
    with transaction.atomic():
        for row in _baseline_rows():
            sheet.append(row)
            rows += 1
    workbook.save(path)
    return time.monotonic() - started, time.process_time() - cpu, rows


def run_xlsxwriter_baseline(path: Path) -> tuple[float, float, int]:
    """The same 机构明细 rows, written by a bare XlsxWriter constant-memory loop."""
    import xlsxwriter
    from django.db import transaction

    started, cpu = time.monotonic(), time.process_time()
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("机构明细")
    rows = -1
    with transaction.atomic():
        for rows, row in enumerate(_baseline_rows()):
            sheet.write_row(rows, 0, row)
    workbook.close()
    return time.monotonic() - started, time.process_time() - cpu, rows


def run_project() -> tuple[float, float, object]:
    from accounts.models import Role, User
    from institutions.models import Region
    from summaries import services
    from summaries.models import ExportJob

    user, _ = User.objects.get_or_create(username="bench-samr", defaults={"role": Role.SAMR_REVIEWER})
    nation = Region.objects.get(level=Region.Level.NATION)
    started, cpu = time.monotonic(), time.process_time()
    job = services.start_export(actor=user, kind="summary", region=nation, year=YEAR)  # task runs eagerly on commit
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
    job.refresh_from_db()
    if job.status != ExportJob.Status.DONE:
        raise SystemExit(f"export failed: {job.status} {job.error}")
    return elapsed, cpu, job


def measure(repeat: int, media: Path):
    import openpyxl
    import xlsxwriter
    from openpyxl import LXML, load_workbook

    from summaries.builders import CHUNK

    print(f"openpyxl {openpyxl.__version__} with lxml: {LXML}; XlsxWriter {xlsxwriter.__version__}; "
          f"detail chunk {CHUNK}")
    project_times, baseline_times, project_cpu, baseline_cpu = [], [], [], []
    xlsxwriter_times, xlsxwriter_cpu = [], []
    for attempt in range(1, repeat + 1):
        seconds, cpu, rows = run_baseline(media / f"baseline-{attempt}.xlsx")
        baseline_times.append(seconds)
        baseline_cpu.append(cpu)
        print(f"run {attempt}: baseline (raw SQL + bare openpyxl write-only, 机构明细 only, {rows} rows): "
              f"{seconds:.1f} s (CPU of this process {cpu:.1f} s)")
        seconds, cpu, rows = run_xlsxwriter_baseline(media / f"xlsxwriter-{attempt}.xlsx")
        xlsxwriter_times.append(seconds)
        xlsxwriter_cpu.append(cpu)
        print(f"run {attempt}: baseline (raw SQL + bare XlsxWriter constant_memory, 机构明细 only, {rows} rows): "
              f"{seconds:.1f} s (CPU of this process {cpu:.1f} s)")
        seconds, cpu, job = run_project()
        project_times.append(seconds)
        project_cpu.append(cpu)
        size = Path(job.file.path).stat().st_size / 1e6
        print(f"run {attempt}: project (Celery task, eager, whole 9-sheet workbook, {size:.1f} MB): "
              f"{seconds:.1f} s (CPU of this process {cpu:.1f} s)")
    workbook = load_workbook(job.file.path, read_only=True)
    print(f"workbook sheets: {', '.join(workbook.sheetnames)}")
    workbook.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    project, baseline, bare_xlsxwriter = min(project_times), min(baseline_times), min(xlsxwriter_times)
    cpu_ratio = min(project_cpu) / min(baseline_cpu)
    xlsxwriter_cpu_ratio = min(project_cpu) / min(xlsxwriter_cpu)
    print(f"project {project:.1f} s, openpyxl baseline {baseline:.1f} s, XlsxWriter baseline {bare_xlsxwriter:.1f} s "
          f"(best of {repeat}); CPU ratios {cpu_ratio:.2f} / {xlsxwriter_cpu_ratio:.2f}; "
          f"peak RSS of this process {peak_mb:.0f} MB")
    return project, baseline, bare_xlsxwriter, peak_mb, cpu_ratio, xlsxwriter_cpu_ratio


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--institutions", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    media = ROOT / "var" / "bench-summary-export"
    media.mkdir(parents=True, exist_ok=True)

    if args.measure:
        setup_django(os.environ["DATABASE_URL"], media)
        figures = measure(args.repeat, media)
        print("RESULT " + " ".join(f"{figure:.3f}" for figure in figures))
        return

    url = bench_url(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qts"))
    print(f"benchmark database: {urlparse(url).path.lstrip('/')}")
    recreate_database(url)
    setup_django(url, media)
    from django.core.management import call_command

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    print(f"migrated in {time.monotonic() - started:.1f} s")
    load_data(args.institutions)
    from django.db import connections

    connections.close_all()
    child = subprocess.run(
        [sys.executable, __file__, "--measure", "--repeat", str(args.repeat)],
        env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True,
    )
    sys.stdout.write("\n".join(line for line in child.stdout.splitlines() if not line.startswith("RESULT")) + "\n")
    if child.returncode != 0:
        sys.stderr.write(child.stderr[-4000:])
        raise SystemExit(child.returncode)
    project, baseline, bare_xlsxwriter, peak_mb, cpu_ratio, xlsxwriter_cpu_ratio = map(
        float, child.stdout.strip().splitlines()[-1].split()[1:]
    )
    if not args.keep:
        recreate_database(url)  # leave an empty database, not 100,000 filings
        shutil.rmtree(media, ignore_errors=True)  # and no workbooks
    ratio, xlsxwriter_ratio = project / baseline, project / bare_xlsxwriter
    print(f"targets: ratio <= 1.5 ({'met' if ratio <= 1.5 else 'NOT met'}), "
          f"peak < 400 MB ({'met' if peak_mb < 400 else 'NOT met'})")
    print(f"ratio={ratio:.2f} xlsxwriter_ratio={xlsxwriter_ratio:.2f} peak_mb={peak_mb:.0f} project_s={project:.1f} "
          f"baseline_s={baseline:.1f} xlsxwriter_s={bare_xlsxwriter:.1f} cpu_ratio={cpu_ratio:.2f} "
          f"xlsxwriter_cpu_ratio={xlsxwriter_cpu_ratio:.2f} institutions={args.institutions}")


if __name__ == "__main__":
    main()
