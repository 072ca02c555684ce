"""Benchmark: the institution register (机构名录 with filters, a profile page) with a national number of institutions,
and a 10,000-row register import.

Usage:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/qts \
        .venv/bin/python -u bench/registry_pages.py [--institutions N]

What it does
1. Creates its own database next to DATABASE_URL's (`<name>_bench_registry`, dropped and re-created), migrates it and
   fills it with the demo generator (`institutions.demo.seed_registry`, bulk inserts): N institutions (default
   53,000, the national count of 2023) with their fields, sites, certificates and national centres. (The generator
   puts them all in Hunan's cities, so the provincial reviewer's list is the national one.)
2. Requests each page through Django's test client, `--repeat` times (default 3), and prints the best time and the
   number of SQL queries.
3. Imports a 10,000-row CSV (new institutions, each with a certificate and a site) through the import services as the
   background job runs it (check, then write in one transaction), then imports it again (nothing changes).
Target: every page under 1 s; the 10,000-row import well under a minute.
"""
import argparse
import csv
import io
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pagetimer import bench_database_url, time_pages  # noqa: E402
from summary_export import recreate_database, setup_django  # noqa: E402


def bench_url(url: str) -> str:
    return bench_database_url(url, "registry")


def load_data(institutions: int):
    from django.db import connection, transaction

    from institutions.demo import seed_registry
    from institutions.models import CmaCertificate, Site

    started = time.monotonic()
    with transaction.atomic():
        seed_registry(random.Random(2023), institutions)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"data: {institutions} institutions, {CmaCertificate.objects.count()} certificates, "
          f"{Site.objects.count()} sites in {time.monotonic() - started:.1f} s")


def measure(repeat: int):
    from django.test.utils import setup_test_environment

    from accounts.models import Role, User
    from institutions.models import Institution, ProfessionalField, Region

    setup_test_environment()
    changsha = Region.objects.get(code="430100")
    users = {
        "samr": User.objects.create(username="bench-samr", role=Role.SAMR_REVIEWER),
        "province": User.objects.create(username="bench-province", role=Role.PROVINCIAL_REVIEWER,
                                        region=Region.objects.get(code="430000")),
        "city": User.objects.create(username="bench-city", role=Role.CITY_OFFICER, region=changsha),
    }
    busy = Institution.objects.order_by("-pk").first()
    water = ProfessionalField.objects.get(code="05")
    pages = [
        ("samr", "机构名录（全国，第 1 页）", "/institutions/"),
        ("samr", "机构名录（全国，第 500 页）", "/institutions/?page=500"),
        ("province", "机构名录（同时持有两级证书）", "/institutions/?level=both"),
        ("province", "机构名录（水质 + 总局审核）", f"/institutions/?field={water.pk}&authority=samr"),
        ("samr", "机构名录（按名称搜索“检测”）", "/institutions/?q=%E6%A3%80%E6%B5%8B"),
        ("samr", "机构名录（按信用代码搜索）", f"/institutions/?q={busy.credit_code}"),
        ("city", "机构名录（长沙市，事业单位）", "/institutions/?nature=public"),
        ("samr", "机构详情页", f"/institutions/{busy.pk}/"),
    ]
    return time_pages(users, pages, repeat)


def import_file(rows: int):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction

    from accounts.models import Role, User
    from institutions import imports, register_import
    from institutions.models import ImportJob

    admin = User.objects.create(username="bench-admin", role=Role.ADMIN)
    header = [column.header for column in imports.COLUMNS]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    from stdnum.cn import uscc

    for n in range(rows):
        serial = "".join(alphabet[(n // 31**k) % 31] for k in range(8, -1, -1))
        body = "91430200" + serial
        values = {
            "统一社会信用代码": body + uscc.calc_check_digit(body), "机构名称": f"导入基准检测有限公司{n}",
            "所在市州": "株洲市", "法定代表人": "王伟", "联系电话": "0731-28880000",
            "资质认定证书编号": f"2118{n % 20:02d}20{n // 20 + 1:04d}",  # department 20 is unused by the demo
            "发证日期": "2021-03-01", "有效期至": "2027-02-28", "能力范围项数": str(20 + n % 300),
            "场所地址": f"湖南省株洲市天元区基准路{n}号",
        }
        writer.writerow([values.get(h, "") for h in header])
    data = buffer.getvalue().encode("utf-8-sig")
    for attempt in ("first import", "same file again"):
        started = time.monotonic()
        with transaction.atomic():
            job = register_import.start_import(actor=admin, upload=SimpleUploadedFile("bench.csv", data))
        register_import.run_validation(job.pk)
        checked = time.monotonic()
        job = ImportJob.objects.get(pk=job.pk)
        if job.status != ImportJob.Status.READY:
            raise SystemExit(f"import refused: {job.errors[:3]}")
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.IMPORTING)
        register_import.run_import(job.pk)
        job = ImportJob.objects.get(pk=job.pk)
        print(f"{attempt}: {rows} rows ({len(data) / 1e6:.1f} MB) checked in {checked - started:.1f} s, written in "
              f"{time.monotonic() - checked:.1f} s — {job.summary}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--institutions", type=int, default=53_000)
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    args = parser.parse_args()
    url = bench_url(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qts"))
    print(f"benchmark database: {urlparse(url).path.lstrip('/')}")
    recreate_database(url)
    setup_django(url, ROOT / "var" / "bench-media")
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False
    settings.CELERY_TASK_ALWAYS_EAGER = True
    call_command("migrate", verbosity=0)
    load_data(args.institutions)
    worst = measure(args.repeat)
    if args.import_rows:
        import_file(args.import_rows)
    print(f"worst_ms={worst:.0f} institutions={args.institutions}")
    if not args.keep:
        from django.db import connections

        connections.close_all()
        recreate_database(url)


if __name__ == "__main__":
    main()
