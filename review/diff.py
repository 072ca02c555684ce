"""What changed between two submissions: compares the JSON of two filing snapshots (filings/snapshots.py), field by
field, over the registry facts confirmed, the statistics, the annual report, each national centre's social
responsibility report and the explanations of warnings, grouped by the indicator sections of REFERENCE §2."""
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from filings.checks import YEAR_ON_YEAR_LIMIT
from filings.forms import STATISTICS_SECTIONS
from filings.snapshots import values

TEXT_PREVIEW = 80
LARGE_CHANGE = YEAR_ON_YEAR_LIMIT * 100  # %, the same limit as the year-on-year warnings (W201–W204)


def _section_fields(rows) -> list[str]:
    """The field names of a section of the statistics form (rows of names; finance: rows per nature)."""
    groups = rows.values() if isinstance(rows, dict) else [rows]
    return [name for group in groups for row in group for name in row]


# The indicator sections of REFERENCE §2 as the statistics form shows them (filings.forms.STATISTICS_SECTIONS).
BASIC = STATISTICS_SECTIONS[0][1]  # 基本情况: the register's facts the submission confirmed
SECTION_OF_FIELD = {name: title for _, title, rows in STATISTICS_SECTIONS for name in _section_fields(rows)}
OTHER_STATISTICS = "其他指标"
ANNUAL_REPORT = "年度报告"
WARNINGS = "预警说明"
# The registry facts a submission confirms (snapshot "institution"), as the reviewer reads them.
INSTITUTION_FIELDS = (
    ("name", "机构名称"), ("credit_code", "统一社会信用代码"), ("city", "所在市州"),
    ("registered_address", "注册地址"), ("legal_representative", "法定代表人"), ("contact_person", "联系人"),
    ("contact_phone", "联系电话"), ("nature", "机构性质"), ("reviewing_authority", "审核单位"),
    ("sites", "检验检测场所"), ("certificates", "资质认定证书"),
)
NO_WARNING = "（本次无此预警）"


@dataclass(frozen=True)
class Change:
    key: str  # "statistics.revenue", "annual_report.compliance", "sr.<centre id>.staff_total", "warnings.W202"
    section: str  # "人员", "年度报告", "社会责任报告（…）", "预警说明", …
    label: str
    old: object
    new: object

    @property
    def relative(self) -> Decimal | None:
        """(new - old) / old in % for numbers, None when it cannot be computed (not numbers, or from zero)."""
        old, new = _number(self.old), _number(self.new)
        if old in (None, 0) or new is None:
            return None
        return ((new - old) / old * 100).quantize(Decimal("0.1"))

    @property
    def trend(self) -> str | None:
        """"from_zero", "to_zero", "up" or "down" when both values are numbers; None otherwise."""
        old, new = _number(self.old), _number(self.new)
        if old is None or new is None:
            return None
        if old == 0:
            return "from_zero"
        if new == 0:
            return "to_zero"
        return "up" if new > old else "down"

    @property
    def is_large(self) -> bool:
        """A change the reviewer should look at: from or to zero, or more than the warnings' limit either way."""
        if self.trend in ("from_zero", "to_zero"):
            return True
        relative = self.relative
        return relative is not None and abs(relative) > LARGE_CHANGE

    @property
    def change_text(self) -> str:
        """What the 变化 column says: "由 0 变为非零", "降为 0", "+12.5%", "-60.0%", or nothing for text."""
        if self.trend == "from_zero":
            return "由 0 变为非零"
        if self.trend == "to_zero":
            return "降为 0（-100%）"
        relative = self.relative
        if relative is None:
            return ""
        return f"{relative:+}%"

    @property
    def flag_text(self) -> str:
        """大幅增加 / 大幅减少 for a large change, said in words (not by colour alone)."""
        if not self.is_large:
            return ""
        return "大幅增加" if self.trend in ("from_zero", "up") else "大幅减少"

    @property
    def old_text(self) -> str:
        return _preview(self.old)

    @property
    def new_text(self) -> str:
        return _preview(self.new)


@dataclass(frozen=True)
class Section:
    name: str
    changes: list


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


def statistics_section(name: str) -> str:
    return SECTION_OF_FIELD.get(name, OTHER_STATISTICS)


def _section_changes(prefix, section_of, old_items, new_items) -> list[Change]:
    old, new = values(old_items), values(new_items)
    labels = {item["name"]: item["label"] for item in [*old_items, *new_items]}
    order = [item["name"] for item in new_items] + [name for name in old if name not in new]
    return [
        Change(f"{prefix}.{name}", section_of(name), labels[name], old.get(name), new.get(name))
        for name in order
        if not _same(old.get(name), new.get(name))
    ]


def _institution_facts(institution: dict) -> list[dict]:
    """The snapshot's registry facts as name/label/value items; sites and certificates as one line each."""
    def shown(name):
        value = institution.get(name)
        if name == "sites":
            return "；".join(value or [])
        if name == "certificates":
            return "；".join(f"{c['number']}（{c['level']}，{c['issue_date']} 至 {c['expiry_date']}）"
                            for c in value or [])
        return value

    return [{"name": name, "label": label, "value": shown(name)} for name, label in INSTITUTION_FIELDS]


def _warning_changes(old_warnings, new_warnings) -> list[Change]:
    """A warning whose explanation changed, or that appeared or went away, with the explanations before and after."""
    old = {w["code"]: w for w in old_warnings}
    new = {w["code"]: w for w in new_warnings}
    changes = []
    for code in [*new, *(code for code in old if code not in new)]:
        before, after = old.get(code), new.get(code)
        old_text = (before.get("explanation") or "（未填写说明）") if before else NO_WARNING
        new_text = (after.get("explanation") or "（未填写说明）") if after else NO_WARNING
        if old_text != new_text:
            message = (after or before)["message"]
            changes.append(Change(f"warnings.{code}", WARNINGS, f"【{code}】{message}", old_text, new_text))
    return changes


def diff_snapshots(old: dict | None, new: dict) -> list[Change]:
    """The fields whose value differs between the snapshot data `old` and `new` (all of `new` if old is None)."""
    old = old or {}
    changes = []
    if old.get("institution") and new.get("institution"):
        changes += _section_changes(
            "institution", lambda name: BASIC, _institution_facts(old["institution"]),
            _institution_facts(new["institution"]),
        )
    changes += _section_changes(
        "statistics", statistics_section, old.get("statistics", []), new.get("statistics", [])
    )
    changes += _section_changes(
        "annual_report", lambda name: ANNUAL_REPORT, old.get("annual_report", []), new.get("annual_report", [])
    )
    old_sr = {report["centre_id"]: report for report in old.get("sr_reports", [])}
    for report in new.get("sr_reports", []):
        before = old_sr.get(report["centre_id"], {})
        section = f"社会责任报告（{report['centre']}）"
        changes += _section_changes(
            f"sr.{report['centre_id']}", lambda name, section=section: section, before.get("fields", []),
            report["fields"],
        )
    changes += _warning_changes(old.get("warnings", []), new.get("warnings", []))
    return changes


def group_by_section(changes: list[Change]) -> list[Section]:
    """The changes in sections, in the order the sections first appear (diff_snapshots lists them in reading
    order: 基本情况, the statistics' sections, 年度报告, each 社会责任报告, 预警说明)."""
    order = [*(title for _, title, _ in STATISTICS_SECTIONS), OTHER_STATISTICS]
    grouped = {}
    for change in changes:
        grouped.setdefault(change.section, []).append(change)
    rank = {name: i for i, name in enumerate(order)}
    names = sorted(grouped, key=lambda name: (rank.get(name, len(order)), list(grouped).index(name)))
    return [Section(name, grouped[name]) for name in names]


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
