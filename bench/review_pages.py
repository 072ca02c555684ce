"""Benchmark: the review and chasing pages (审核队列, 填报进度, 未提交机构 and its workbook, home-page reminders) with a
national number of institutions.

Usage:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/qts .venv/bin/python bench/review_pages.py [--institutions N]

What it does
1. Creates its own database next to DATABASE_URL's (`<name>_bench_review`, dropped and re-created), migrates it, and
   fills it in SQL (INSERT … SELECT over generate_series): N institutions (default 50,000) over the cities, one in ten
   reviewed by SAMR; for the reporting year a filing for five in six of them, spread over draft / submitted / in review
   / returned / approved, with a submission snapshot (one in seven with warnings) for every filing ever submitted,
   submission times over the last 100 days, and a chasing record for one institution in four.
2. Requests each page through Django's test client as the user who would open it, `--repeat` times (default 3), and
   prints the best time and the number of SQL queries of each; last line `worst_ms=… institutions=…`.
Target: every page under 1 s (the workbook of a whole province under 5 s).
"""
import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pagetimer import bench_database_url, time_pages  # noqa: E402
from summary_export import insert_select, recreate_database, setup_django  # noqa: E402

YEAR = 2025


def bench_url(url: str) -> str:
    return bench_database_url(url, "review")


def load_data(institutions: int):
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Role, User
    from filings.models import Filing, FilingSnapshot, FilingStatistics, ReportingYear
    from institutions.models import Institution, ProfessionalField, Region, ReviewGroup
    from review.models import ChasingRecord

    started = time.monotonic()
    now = timezone.now()
    year = ReportingYear.objects.create(
        year=YEAR, opens_at=now - timedelta(days=100), closes_at=now + timedelta(days=20),
        review_closes_at=now + timedelta(days=80),
    )
    city_ids = list(Region.objects.filter(level=Region.Level.CITY).order_by("code").values_list("pk", flat=True))
    # One institution in fifty is reviewed by a review group (评审组) with one member.
    group = ReviewGroup.objects.create(name="基准评审组")
    group.members.add(User.objects.create(username="bench-group", role=Role.GROUP_REVIEWER))
    with connection.cursor() as cursor:
        insert_select(cursor, Institution, {
            "name": "'全国基准检测有限公司' || g",
            "credit_code": "'91' || lpad(g::text, 16, '0')",
            "city_id": ("(%s::int[])[1 + g %% %s]", [city_ids, len(city_ids)]),
            "legal_representative": "'法定代表人' || g",
            "contact_person": "'联系人' || g",
            "contact_phone": "'0731-' || lpad(g::text, 8, '0')",
            "contact_email": "CASE WHEN g %% 9 = 0 THEN '' ELSE 'lab' || g || '@example.cn' END",
            "reviewing_authority":
                "CASE WHEN g %% 50 = 7 THEN 'group' WHEN g %% 10 = 0 THEN 'samr' ELSE 'province' END",
            "review_group_id": ("CASE WHEN g %% 50 = 7 THEN %s::int END", [group.pk]),
        }, "FROM generate_series(1, %s) AS g", [institutions])
        # Status by id: 0 no filing, 1 draft, 2 submitted, 3 in review, 4 returned, 5 approved.
        insert_select(cursor, Filing, {
            "institution_id": "i.id", "year_id": ("%s", [year.pk]),
            "status": "(ARRAY['draft','submitted','in_review','returned','approved'])[i.id %% 6]",
            "submitted_at": "CASE WHEN i.id %% 6 > 1 THEN now() - (i.id %% 100) * interval '1 day' END",
            "correction_due": "CASE WHEN i.id %% 6 = 4 THEN now() + interval '10 days' END",
        }, "FROM institutions_institution i WHERE i.id %% 6 <> 0")
        insert_select(cursor, FilingSnapshot, {
            "filing_id": "f.id", "number": "1",
            "data": "jsonb_build_object('number', 1, 'statistics', '[]'::jsonb, 'warnings', CASE WHEN f.id %% 7 = 0 "
                    "THEN '[{\"code\": \"W211\", \"message\": \"预警\", \"explanation\": \"说明\"}]'::jsonb "
                    "ELSE '[]'::jsonb END)",
            "fingerprint": "md5(f.id::text) || md5(f.id::text)",
            "created_at": "coalesce(f.submitted_at, now())",
        }, "FROM filings_filing f WHERE f.status <> 'draft'")
        # Statistics and professional fields for the peer comparison (同行比较, filings/peers.py): ratios spread around
        # a field's median, one filing in 97 far off it.
        insert_select(cursor, FilingStatistics, {
            "filing_id": "f.id", "staff_total": "5 + f.id %% 300",
            "revenue": "(5 + f.id %% 300) * (40 + f.id %% 30) * CASE WHEN f.id %% 97 = 0 THEN 20 ELSE 1 END",
            "reports_total": "(5 + f.id %% 300) * (60 + f.id %% 50)",
            "instrument_value_total": "(5 + f.id %% 300) * (15 + f.id %% 20)",
        }, "FROM filings_filing f")
        field_ids = list(ProfessionalField.objects.order_by("pk").values_list("pk", flat=True))
        through = Institution.professional_fields.through
        cursor.execute(
            f"INSERT INTO {through._meta.db_table} (institution_id, professionalfield_id) "
            "SELECT i.id, (%s::int[])[1 + i.id %% %s] FROM institutions_institution i",
            [field_ids, len(field_ids)],
        )
        insert_select(cursor, ChasingRecord, {
            "institution_id": "i.id", "year": ("%s", [YEAR]), "channel": "'phone'", "note": "'已电话督促'",
            "contacted_on": "current_date - (i.id %% 30)::int",
        }, "FROM institutions_institution i WHERE i.id %% 4 = 0")
        cursor.execute("ANALYZE")
    print(f"data: {institutions} institutions, {Filing.objects.count()} filings in {time.monotonic() - started:.1f} s")


def measure(repeat: int):
    from django.core.cache import cache
    from django.test.utils import setup_test_environment

    from accounts.models import Role, User
    from institutions.models import Region

    setup_test_environment()
    province = Region.objects.get(code="430000")
    changsha = Region.objects.get(code="430100")
    users = {
        "samr": User.objects.create(username="bench-samr", role=Role.SAMR_REVIEWER),
        "province": User.objects.create(username="bench-province", role=Role.PROVINCIAL_REVIEWER, region=province),
        "city": User.objects.create(username="bench-city", role=Role.CITY_OFFICER, region=changsha),
        "group": User.objects.get(username="bench-group"),
    }
    pages = [
        ("samr", "审核队列（总局，第 1 页）", "/review/"),
        ("province", "审核队列（省局，第 1 页）", "/review/"),
        ("province", "审核队列（省局，有预警 + 长沙市）", f"/review/?warnings=yes&city={changsha.pk}"),
        ("province", "审核队列（省局，第 20 页）", "/review/?page=20"),
        ("group", "审核队列（评审组，第 1 页）", "/review/"),
        ("province", "审核队列（省局，偏离同行）", "/review/?peers=outliers"),
        # The peer statistics are cached until an approved filing changes: the first request after an approval.
        ("province", "审核队列（省局，偏离同行，审核后首次）", "/review/?peers=outliers", cache.clear),
        ("province", "填报进度（全省 14 市州）", "/review/progress/"),
        ("samr", "填报进度（全国）", "/review/progress/"),
        ("city", "未提交机构（长沙市，第 1 页）", "/review/late/"),
        ("province", "未提交机构（全省，第 1 页）", "/review/late/"),
        ("city", "未提交机构 Excel（长沙市）", "/review/late/export/"),
        ("province", "未提交机构 Excel（全省）", "/review/late/export/"),
        ("province", "首页（省局，含待办提醒）", "/"),
        ("city", "首页（市州局，含待办提醒）", "/"),
        ("group", "首页（评审组，含待办提醒）", "/"),
    ]
    return time_pages(users, pages, repeat)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--institutions", type=int, default=50_000)
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
    call_command("migrate", verbosity=0)
    load_data(args.institutions)
    worst = measure(args.repeat)
    print(f"worst_ms={worst:.0f} institutions={args.institutions}")
    if not args.keep:
        from django.db import connections

        connections.close_all()
        recreate_database(url)  # leave an empty database rather than a large one


if __name__ == "__main__":
    main()
