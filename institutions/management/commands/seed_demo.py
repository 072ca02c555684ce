import random

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.demo import DEMO_PASSWORD, create_demo_accounts
from filings.demo import seed_filings
from institutions.demo import DEFAULT_PROVINCES, seed_bureau_contacts, seed_registry, seed_review_group
from institutions.models import Institution
from notices.demo import seed_notices
from reports.demo import seed_report_numbers
from review.demo import seed_review


class Command(BaseCommand):
    help = ("生成演示数据：湖南省（及 --provinces 所列省份）各市州的检验检测机构、年度填报、报告编号与各角色的演示账号"
            "（同一 --seed 结果相同）。")

    def add_arguments(self, parser):
        parser.add_argument("--institutions", type=int, default=2000, help="机构数量（默认 2000）")
        parser.add_argument("--seed", type=int, default=2023, help="随机种子（默认 2023）")
        parser.add_argument("--if-empty", action="store_true", help="库中已有机构时什么也不做")
        parser.add_argument(
            "--provinces", default=",".join(DEFAULT_PROVINCES),
            help="演示哪些省份，逗号分隔的省级区划代码（默认 430000 湖南省；例如 430000,420000 加上湖北省）",
        )

    def handle(self, *args, institutions, seed, if_empty, provinces, **options):
        if not settings.DEMO_MODE:
            raise CommandError("当前设置不允许生成演示数据（生产环境永不创建演示账号）。")
        if institutions < 1:
            raise CommandError("--institutions 至少为 1。")
        if Institution.objects.exists():
            if if_empty:
                self.stdout.write("数据库中已有机构数据，跳过演示数据。")
                return
            raise CommandError("数据库中已有机构数据；演示数据只能载入空库（可先执行 manage.py flush）。")

        province_codes = tuple(dict.fromkeys(code.strip() for code in provinces.split(",") if code.strip()))
        if not province_codes:
            raise CommandError("--provinces 至少要有一个省级区划代码，例如 430000。")
        if "430000" not in province_codes:
            raise CommandError("--provinces 须包含 430000（湖南省）：演示账号 filer、city、province 属于湖南。")
        rng = random.Random(seed)
        with transaction.atomic():
            try:
                created = seed_registry(rng, institutions, province_codes)
            except ValueError as error:
                raise CommandError(str(error)) from None
            accounts = create_demo_accounts(province_codes)
            seed_bureau_contacts(province_codes)
            group_summary = seed_review_group(created)
            # Each app adds its own demo data, in this order, from the same random stream (deterministic per seed).
            summaries = [group_summary, seed_filings(rng, created), seed_review(rng, created),
                         seed_report_numbers(rng, created), seed_notices(accounts)]
        self.stdout.write(self.style.SUCCESS(f"已生成 {institutions} 家机构和 {len(accounts)} 个演示账号。"))
        for summary in filter(None, summaries):
            self.stdout.write(f"  {summary}")
        for user in accounts:
            self.stdout.write(f"  {user.username:<10} {user.get_role_display():<8} 密码 {DEMO_PASSWORD}")
