"""Demo report numbers for seed_demo: the four quarters of 2023 (the demo's reporting year) for about one institution
in twelve, each quarter uploaded on time or a little late, with realistic number formats; and the quarter just ended
for some of them, so that the status pages show a mix of uploaded and missing. Deterministic for a given seed."""
import datetime

from django.db import connection

from .models import ReportNumber, ReportNumberBatch
from .quarters import Quarter, recent_quarters
from .staging import ensure_partition

DEMO_QUARTERS = [Quarter(2023, q) for q in range(1, 5)]
TARGET_NUMBERS = 50_000
_FORMATS = [
    "{abbr}JC{year}{seq:06d}",
    "{abbr}-{year}-W{seq:05d}",
    "湘{abbr}检字〔{year}〕第{seq:05d}号",
    "({year}){abbr}检({kind})字第{seq:04d}号",
    "{abbr}/{year}/{kind}/{seq:05d}",
]
_KINDS = ["W", "J", "C", "H"]


def _abbreviation(rng) -> str:
    letters = "ABCDEFGHJKLMNPQRSTWXYZ"
    return "".join(rng.choice(letters) for _ in range(3))


def seed_report_numbers(rng, institutions) -> str:
    """Upload realistic report numbers for a few quarters for `institutions`; return a one-line summary."""
    institutions = sorted(institutions, key=lambda i: i.pk)
    if not institutions:
        return ""
    first_per_city = {}
    for institution in institutions:
        first_per_city.setdefault(institution.city_id, institution)  # includes the demo filer's institution
    chosen = list(first_per_city.values())
    others = [i for i in institutions if i not in chosen]
    chosen += rng.sample(others, min(len(others), max(0, len(institutions) // 12 - len(chosen))))
    latest = recent_quarters(1)[0]
    per_quarter = min(400, max(20, TARGET_NUMBERS // (len(chosen) * 4 + len(chosen) // 2)))

    batches, numbers = 0, []
    example = ""
    for index, institution in enumerate(chosen):
        abbr = _abbreviation(rng)
        fmt = _FORMATS[rng.randrange(len(_FORMATS))]
        quarters = list(DEMO_QUARTERS)
        if index % 2 == 0 and latest not in quarters:
            quarters.append(latest)
        seq = 0
        for quarter in quarters:
            late_days = rng.choice([0, 0, 0, 0, 3, 40])
            uploaded = quarter.ends_at + datetime.timedelta(
                days=rng.randrange(1, 25) + late_days, hours=rng.randrange(8, 18)
            )
            count = max(5, int(per_quarter * rng.uniform(0.4, 1.6)))
            batch = ReportNumberBatch.objects.create(
                institution=institution, year=quarter.year, quarter=quarter.quarter,
                status=ReportNumberBatch.Status.DONE,
                original_name=f"{quarter.code}报告编号.xlsx", created_at=uploaded, started_at=uploaded,
                finished_at=uploaded, is_late=quarter.is_late_at(uploaded), progress=100, stage="已完成",
                encoding="XLSX", lines=count, accepted=count,
            )
            batches += 1
            for _ in range(count):
                seq += 1
                number = fmt.format(abbr=abbr, year=quarter.year, seq=seq, kind=rng.choice(_KINDS))
                numbers.append(ReportNumber(
                    institution_id=institution.pk, year=quarter.year, quarter=quarter.quarter, batch_id=batch.pk,
                    number=number,
                ))
                if not example:
                    example = number
    if connection.vendor == "postgresql":
        for year in {n.year for n in numbers}:
            ensure_partition(year)
    ReportNumber.objects.bulk_create(numbers, batch_size=5000, ignore_conflicts=True)
    return f"已为 {len(chosen)} 家机构生成 {batches} 次报告编号上传、{len(numbers)} 个编号（查询示例：{example}）。"
