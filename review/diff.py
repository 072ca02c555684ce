"""What changed between two submissions: compares the JSON of two filing snapshots (filings/snapshots.py), field by
field, over the statistics, the annual report and each national centre's social responsibility report."""
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from filings.snapshots import values

TEXT_PREVIEW = 80


@dataclass(frozen=True)
class Change:
    key: str  # "statistics.revenue", "annual_report.compliance", "sr.<centre id>.staff_total"
    section: str
    label: str
    old: object
    new: object

    @property
    def relative(self) -> Decimal | None:
        """(new - old) / old for numbers, None when it cannot be computed."""
        old, new = _number(self.old), _number(self.new)
        if old in (None, 0) or new is None:
            return None
        return ((new - old) / old * 100).quantize(Decimal("0.1"))

    @property
    def old_text(self) -> str:
        return _preview(self.old)

    @property
    def new_text(self) -> str:
        return _preview(self.new)


def _number(value):
    if isinstance(value, bool) or value is None or value == "":
        return None
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value))
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _preview(value) -> str:
    if value is None or value == "":
        return "（空）"
    text = str(value)
    return text if len(text) <= TEXT_PREVIEW else f"{text[:TEXT_PREVIEW]}……（共{len(text)}字）"


def _same(a, b) -> bool:
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return na == nb
    return a == b


def _section_changes(prefix, section_name, old_items, new_items) -> list[Change]:
    old, new = values(old_items), values(new_items)
    labels = {item["name"]: item["label"] for item in [*old_items, *new_items]}
    order = [item["name"] for item in new_items] + [name for name in old if name not in new]
    return [
        Change(f"{prefix}.{name}", section_name, labels[name], old.get(name), new.get(name))
        for name in order
        if not _same(old.get(name), new.get(name))
    ]


def diff_snapshots(old: dict | None, new: dict) -> list[Change]:
    """The fields whose value differs between the snapshot data `old` and `new` (all of `new` if old is None)."""
    old = old or {}
    changes = _section_changes("statistics", "统计调查数据", old.get("statistics", []), new.get("statistics", []))
    changes += _section_changes(
        "annual_report", "年度报告", old.get("annual_report", []), new.get("annual_report", [])
    )
    old_sr = {report["centre_id"]: report for report in old.get("sr_reports", [])}
    for report in new.get("sr_reports", []):
        before = old_sr.get(report["centre_id"], {})
        changes += _section_changes(
            f"sr.{report['centre_id']}", f"社会责任报告（{report['centre']}）", before.get("fields", []),
            report["fields"],
        )
    return changes


def field_choices(snapshot_data: dict) -> list[tuple[str, str]]:
    """(key, "section · label") for every field of a snapshot, for attaching a reviewer's comment to a field."""
    choices = [
        (f"statistics.{item['name']}", f"统计调查数据 · {item['label']}")
        for item in snapshot_data.get("statistics", [])
    ]
    choices += [
        (f"annual_report.{item['name']}", f"年度报告 · {item['label']}")
        for item in snapshot_data.get("annual_report", [])
    ]
    for report in snapshot_data.get("sr_reports", []):
        choices += [
            (f"sr.{report['centre_id']}.{item['name']}", f"社会责任报告（{report['centre']}） · {item['label']}")
            for item in report["fields"]
        ]
    return choices
