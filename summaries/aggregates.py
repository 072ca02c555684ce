"""Grouped queries behind both the dashboard and the workbooks, so that their figures are the same by construction.

Each function takes an already-scoped queryset and runs one grouped query in the database.
"""
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Q, Sum

from filings.models import Filing, FilingStatistics
from filings.progress import (  # noqa: F401 (the progress figures and labels re-exported for the sheets)
    HANDED_IN,
    NOT_STARTED,
    PROGRESS_LABELS,
    PROGRESS_STATES,
    filing_progress_by_city,
    handed_in_counts,
    progress_totals,
)
from institutions.models import Institution

# --- Figures of the counted filings (the workbook's sheets and the dashboard's headline figures) ------------------
#
# Only approved filings count unless the user includes submitted ones, which adds those awaiting or under review
# (已提交, 审核中). Drafts and returned filings never count.

APPROVED_ONLY = ("approved",)
WITH_SUBMITTED = tuple(HANDED_IN)  # the handed-in filings (filings.progress)


def counted_statuses(include_submitted: bool) -> tuple[str, ...]:
    return WITH_SUBMITTED if include_submitted else APPROVED_ONLY


def basis_text(include_submitted: bool) -> str:
    """The sentence the first sheet and the dashboard show to say which filings the figures count."""
    if include_submitted:
        return "统计口径：计入审核通过、审核中和已提交（待审核）的填报；草稿和已退回的填报不计入。"
    return "统计口径：仅计入审核通过的填报；已提交、审核中、已退回和草稿的填报不计入。"


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    unit: str
    decimal: bool = False

    def aggregate(self, condition: Q | None = None, path: str = ""):
        """The database aggregate of this indicator over counted filings (optionally only those matching
        `condition`). `path` leads from the queryset's model to the filing: "" on Filing, "filings__" on
        Institution (then `condition` must select the counted filings)."""
        if self.key == "above_scale":
            rule = Q(**{f"{path}statistics__revenue__gte": FilingStatistics.ABOVE_SCALE_REVENUE})
        elif self.key == "small_micro":
            rule = Q(**{f"{path}statistics__staff_total__lt": FilingStatistics.SMALL_MICRO_STAFF})
        elif self.key == "institutions":
            rule = None
        else:
            return Sum(f"{path}statistics__{self.key}", filter=condition)
        if rule is not None and condition is not None:
            rule &= condition
        return Count(f"{path}pk", filter=rule if rule is not None else condition)


INDICATORS = [
    Indicator("institutions", "机构数", "家"),
    Indicator("above_scale", "其中：规模以上机构", "家"),
    Indicator("small_micro", "其中：小微型机构", "家"),
    Indicator("staff_total", "从业人员", "人"),
    Indicator("revenue", "营业收入", "万元", decimal=True),
    Indicator("total_assets", "资产总额", "万元", decimal=True),
    Indicator("reports_total", "出具检验检测报告", "份"),
    Indicator("reports_enforcement", "其中：行政执法类", "份"),
    Indicator("reports_commissioned", "其中：社会委托类", "份"),
    Indicator("reports_judicial", "其中：司法鉴定类", "份"),
    Indicator("reports_other", "其中：其他", "份"),
    Indicator("instruments_total", "仪器设备", "台套"),
    Indicator("instruments_domestic", "其中：国产", "台套"),
    Indicator("instruments_imported", "其中：进口", "台套"),
    Indicator("instruments_over_500k", "其中：单价50万元以上", "台套"),
    Indicator("instrument_value_total", "仪器设备原值", "万元", decimal=True),
    Indicator("instrument_value_domestic", "其中：国产", "万元", decimal=True),
    Indicator("instrument_value_imported", "其中：进口", "万元", decimal=True),
    Indicator("lab_area", "实验室面积", "平方米", decimal=True),
    Indicator("patents_valid", "有效专利", "项"),
    Indicator("patents_invention", "其中：发明专利", "项"),
    Indicator("research_projects", "科研项目", "项"),
    Indicator("standards_national", "参与制修订国家标准", "项"),
    Indicator("standards_industry", "参与制修订行业标准", "项"),
]
INDICATOR_BY_KEY = {indicator.key: indicator for indicator in INDICATORS}

# The narrower set of columns the breakdown sheets (by city, nature, ownership, field, size) show.
BREAKDOWN_KEYS = [
    "institutions", "staff_total", "revenue", "total_assets", "reports_total", "instruments_total",
    "instrument_value_total", "lab_area",
]


def counted_filings(institutions, years, *, include_submitted: bool):
    """The filings that count for the given (already scoped) institutions and reporting year(s) (int or list)."""
    years = [years] if isinstance(years, int) else list(years)
    return Filing.objects.filter(
        institution__in=institutions.values("pk"), year__year__in=years,
        status__in=counted_statuses(include_submitted),
    )


def _empty(keys):
    return dict.fromkeys(keys, 0)


def _clean(row, keys):
    return {key: row.get(key) or 0 for key in keys}


def change_ratio(current, previous):
    """The year-on-year change as a fraction (0.125 = +12.5%), or None when there is nothing to compare with."""
    if not previous:
        return None
    return float((current - previous) / previous)


SAME_INSTITUTIONS_LABEL = "同口径"
ALL_INSTITUTIONS_LABEL = "全部机构"


def same_institutions_note(year: int, count: int) -> str:
    """The sentence the 总体情况 sheet and the dashboard show to say what the two comparisons compare."""
    return (
        f"{SAME_INSTITUTIONS_LABEL}：只比较{year}年度和{year - 1}年度都计入汇总的 {count} 家机构，"
        f"两年的数字可以直接比较；{ALL_INSTITUTIONS_LABEL}：各年度计入汇总的全部机构，本年度填报或审核尚未结束时，其增减主要反映尚未计入的机构。"
    )


def year_on_year(institutions, year: int, *, include_submitted: bool) -> list[dict]:
    """This year against the last for every indicator, the one comparison behind the dashboard and the workbook's
    总体情况: [{key, label, unit, decimal, same_current, same_previous, same_change, current, previous, change}].

    same_* (同口径, shown first) count only the institutions counted in both years, so that an unfinished year is
    compared with the same institutions' last year; current, previous and change count every institution counted in
    each year (全部机构). One grouped query: filings of both years, grouped by year and whether the institution has
    a counted filing in the other year too."""
    years = [year, year - 1]
    statuses = counted_statuses(include_submitted)
    in_other_year = Filing.objects.filter(
        institution_id=OuterRef("institution_id"), year__year__in=years, status__in=statuses,
    ).exclude(year_id=OuterRef("year_id"))
    keys = [indicator.key for indicator in INDICATORS]
    rows = (
        counted_filings(institutions, years, include_submitted=include_submitted)
        .annotate(in_both=Exists(in_other_year))
        .values("year__year", "in_both")
        .annotate(**{indicator.key: indicator.aggregate() for indicator in INDICATORS})
        .order_by()
    )
    same = {y: _empty(keys) for y in years}
    every = {y: _empty(keys) for y in years}
    for row in rows:
        for key, value in _clean(row, keys).items():
            every[row["year__year"]][key] += value
            if row["in_both"]:
                same[row["year__year"]][key] += value
    return [
        {
            "key": indicator.key, "label": indicator.label, "unit": indicator.unit, "decimal": indicator.decimal,
            "same_current": same[year][indicator.key], "same_previous": same[year - 1][indicator.key],
            "same_change": change_ratio(same[year][indicator.key], same[year - 1][indicator.key]),
            "current": every[year][indicator.key], "previous": every[year - 1][indicator.key],
            "change": change_ratio(every[year][indicator.key], every[year - 1][indicator.key]),
        }
        for indicator in INDICATORS
    ]


def _breakdown_annotations():
    return {key: INDICATOR_BY_KEY[key].aggregate() for key in BREAKDOWN_KEYS}


def breakdown_by_area(institutions, year: int, *, include_submitted: bool, by_province: bool = False) -> list[dict]:
    """[{code, label, <indicator>…}] for every city (or province, for the nation) with institutions in scope (the same
    areas as the 填报进度 table; zeros where none counts), in code order; one grouped query."""
    counted = Q(filings__year__year=year, filings__status__in=counted_statuses(include_submitted))
    area = "city__parent" if by_province else "city"
    rows = (
        institutions.values(f"{area}__code", f"{area}__name")
        .annotate(**{key: INDICATOR_BY_KEY[key].aggregate(counted, path="filings__") for key in BREAKDOWN_KEYS})
        .order_by(f"{area}__code")
    )
    return [{"code": row[f"{area}__code"], "label": row[f"{area}__name"], **_clean(row, BREAKDOWN_KEYS)}
            for row in rows]


def breakdown_by_choice(institutions, year: int, field: str, *, include_submitted: bool) -> list[dict]:
    """[{code, label, <indicator>…}] for every choice of an institution field (nature, ownership), zeros included."""
    labels = dict(Institution._meta.get_field(field).choices)
    rows = (
        counted_filings(institutions, year, include_submitted=include_submitted)
        .values(f"institution__{field}")
        .annotate(**_breakdown_annotations())
        .order_by()
    )
    found = {row[f"institution__{field}"]: _clean(row, BREAKDOWN_KEYS) for row in rows}
    return [
        {"code": value, "label": label, **found.get(value, _empty(BREAKDOWN_KEYS))} for value, label in labels.items()
    ]


NO_FIELD_LABEL = "未勾选专业领域"


def breakdown_by_professional_field(institutions, year: int, *, include_submitted: bool) -> list[dict]:
    """[{code, label, <indicator>…}] per professional field, in the reference order; one grouped query.

    An institution counts once in each field it ticked, so the rows add up to more than the total. Institutions that
    ticked none come last, as 未勾选专业领域."""
    rows = (
        counted_filings(institutions, year, include_submitted=include_submitted)
        .values(
            "institution__professional_fields__code", "institution__professional_fields__name",
            "institution__professional_fields__order",
        )
        .annotate(**_breakdown_annotations())
        .order_by(
            F("institution__professional_fields__order").asc(nulls_last=True),
            F("institution__professional_fields__code").asc(nulls_last=True),
        )
    )
    return [
        {
            "code": row["institution__professional_fields__code"] or "",
            "label": row["institution__professional_fields__name"] or NO_FIELD_LABEL,
            **_clean(row, BREAKDOWN_KEYS),
        }
        for row in rows
    ]


def top_professional_fields(rows: list[dict], limit: int = 10) -> list[dict]:
    """The fields with the most institutions, from breakdown_by_professional_field's rows."""
    ticked = [row for row in rows if row["code"]]
    return sorted(ticked, key=lambda row: (-row["institutions"], row["code"]))[:limit]


def size_conditions():
    above = Q(statistics__revenue__gte=FilingStatistics.ABOVE_SCALE_REVENUE)
    small = Q(statistics__staff_total__lt=FilingStatistics.SMALL_MICRO_STAFF)
    return [
        ("above_scale", f"规模以上（营业收入≥{FilingStatistics.ABOVE_SCALE_REVENUE}万元）", above),
        ("below_scale", f"规模以下（营业收入不足{FilingStatistics.ABOVE_SCALE_REVENUE}万元或未填）", ~above),
        ("small_micro", f"小微型（从业人员<{FilingStatistics.SMALL_MICRO_STAFF}人）", small),
        ("not_small_micro", "非小微型（从业人员≥100人或未填）", ~small),
    ]


def breakdown_by_size(institutions, year: int, *, include_submitted: bool) -> list[dict]:
    """[{code, label, <indicator>…}] for 规模以上/以下 and 小微型/非小微型, with the same thresholds as
    FilingStatistics.is_above_scale and is_small_micro, computed in one query with conditional aggregates."""
    conditions = size_conditions()
    annotations = {
        f"{code}__{key}": INDICATOR_BY_KEY[key].aggregate(condition)
        for code, _label, condition in conditions
        for key in BREAKDOWN_KEYS
    }
    row = counted_filings(institutions, year, include_submitted=include_submitted).aggregate(**annotations)
    return [
        {"code": code, "label": label, **{key: row[f"{code}__{key}"] or 0 for key in BREAKDOWN_KEYS}}
        for code, label, _condition in conditions
    ]
