"""Recompute every submission snapshot's SHA-256 fingerprint; run after a restore (scripts/restore.sh) or any time."""
from django.core.management.base import BaseCommand, CommandError

from filings.models import FilingSnapshot


class Command(BaseCommand):
    help = "校验每份提交快照的 SHA-256 指纹（恢复备份后运行）"

    def handle(self, *args, **options):
        checked = 0
        mismatched = []
        rows = FilingSnapshot.objects.values_list("pk", "data", "fingerprint").order_by("pk")
        for pk, data, fingerprint in rows.iterator(chunk_size=2000):
            checked += 1
            if FilingSnapshot.fingerprint_of(data) != fingerprint:
                mismatched.append(pk)
        if mismatched:
            shown = "、".join(str(pk) for pk in mismatched[:20])
            raise CommandError(f"{len(mismatched)} 份提交快照的指纹与内容不符（编号 {shown}…）：备份或数据库已损坏")
        self.stdout.write(f"snapshots={checked} mismatched=0")
