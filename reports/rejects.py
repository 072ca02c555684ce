"""The rejected lines of an upload, as a CSV (UTF-8 with BOM, so that Excel opens it) written while the file is read."""
import csv
import os
import uuid
from pathlib import Path

from django.conf import settings

from config.uploads import visible


def _safe_cell(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class RejectsWriter:
    """Writes each rejected line (line number, escaped content, reason) to the batch's rejects file."""

    def __init__(self, batch_id: int):
        directory = Path(settings.MEDIA_ROOT) / "report_rejects"
        directory.mkdir(parents=True, exist_ok=True)
        self.name = f"report_rejects/{batch_id}-{uuid.uuid4().hex[:8]}.csv"
        self.path = Path(settings.MEDIA_ROOT) / self.name
        self.partial = self.path.with_suffix(".csv.part")
        self.handle = self.partial.open("w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.handle)
        self.writer.writerow(["行号", "内容", "原因"])
        self.count = 0

    def add(self, record) -> None:
        self.count += 1
        # Control and invisible characters are written as \uXXXX: the filer sees what was sent, and nothing in the
        # file can hide, reorder (a bidi override) or split the text around it.
        text = visible(record.text[:100]) + ("…" if len(record.text) > 100 else "")
        self.writer.writerow([record.line, _safe_cell(text), visible(record.reason)])

    def finish(self) -> str:
        self.handle.close()
        if not self.count:
            self.partial.unlink(missing_ok=True)
            return ""
        os.replace(self.partial, self.path)
        return self.name

    def discard(self) -> None:
        self.handle.close()
        self.partial.unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)
