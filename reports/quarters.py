"""Calendar quarters for report-number uploads (Asia/Shanghai).

Numbers of the reports issued in a quarter are due in the first month of the following quarter (January for the
previous year's fourth quarter); an upload after that month is accepted and marked late. A quarter may only be
uploaded once it has ended.
"""
import datetime
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")
_CODE = re.compile(r"^\s*([0-9]{4})\s*[Qq]\s*([1-4])\s*$")
EARLIEST_YEAR = 2000


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    quarter: int

    @classmethod
    def parse(cls, code: str) -> "Quarter":
        match = _CODE.match(code or "")
        if not match:
            raise ValueError("季度格式应为“2024Q1”（年份 + Q + 1～4）。")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, moment: datetime.datetime | None = None) -> "Quarter":
        local = timezone.localtime(moment or timezone.now(), SHANGHAI)
        return cls(local.year, (local.month - 1) // 3 + 1)

    @classmethod
    def previous_of_now(cls, moment=None) -> "Quarter":
        return cls.containing(moment).previous()

    @property
    def code(self) -> str:
        return f"{self.year}Q{self.quarter}"

    @property
    def label(self) -> str:
        return f"{self.year}年第{self.quarter}季度"

    def __str__(self):
        return self.label

    def previous(self) -> "Quarter":
        return Quarter(self.year - 1, 4) if self.quarter == 1 else Quarter(self.year, self.quarter - 1)

    def next(self) -> "Quarter":
        return Quarter(self.year + 1, 1) if self.quarter == 4 else Quarter(self.year, self.quarter + 1)

    @property
    def starts_at(self) -> datetime.datetime:
        return datetime.datetime(self.year, 3 * self.quarter - 2, 1, tzinfo=SHANGHAI)

    @property
    def ends_at(self) -> datetime.datetime:
        """The first moment after the quarter (the start of the next one)."""
        return self.next().starts_at

    @property
    def due_by(self) -> datetime.datetime:
        """Uploads before this moment are on time: the end of the first month of the following quarter."""
        start = self.ends_at
        return start.replace(month=start.month + 1)

    @property
    def last_due_day(self) -> datetime.date:
        """The last calendar day of the upload month (due_by is the first moment after it)."""
        return (self.due_by - datetime.timedelta(days=1)).date()

    def has_ended(self, moment=None) -> bool:
        return (moment or timezone.now()) >= self.ends_at

    def is_late_at(self, moment: datetime.datetime) -> bool:
        return moment >= self.due_by


def recent_quarters(count: int = 8, moment=None) -> list[Quarter]:
    """The `count` most recent ended quarters, newest first."""
    quarter = Quarter.previous_of_now(moment)
    result = []
    while len(result) < count and quarter.year >= EARLIEST_YEAR:
        result.append(quarter)
        quarter = quarter.previous()
    return result
