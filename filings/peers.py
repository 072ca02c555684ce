"""同行比较 (outliers against peers): a filing's ratios against the year's approved filings of the same professional
field and size band. Every rule of it is here: the ratios, the size bands, the peer group, the outlier rule and its
threshold, the minimum number of peers (ADR 0028).

Peers are the year's approved filings of institutions that ticked the field and fall in the same size band, the
filing itself excluded. The statistics are computed in the database by one SQL statement built below (plus one to
read the filings compared and one for the cache's key or, when some of them are approved, one to find where each
stands among its peers), with window functions that PostgreSQL and the embedded SQLite both run: the median is the
average of the middle rows, MAD the median of the absolute deviations from it. Leaving a filing out of its own peers
moves the middle rows by at most one place, so each group's medians and MADs are computed for the three ways a member
can be left out and each member picks its own; no query per filing or per group.
"""
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Max

from institutions.models import Institution

from .models import Filing, FilingStatistics


@dataclass(frozen=True)
class Ratio:
    key: str
    code: str  # the warning's check code (checks.CHECK_CODES)
    label: str
    short: str  # the workbook's 偏离同行 column
    numerator: str  # FilingStatistics fields
    denominator: str
    unit: str

    def of(self, values) -> float | None:
        """The ratio from a mapping of statistics fields; None when either is missing or the denominator is 0."""
        numerator, denominator = values.get(self.numerator), values.get(self.denominator)
        if numerator is None or not denominator:
            return None
        return float(numerator) / float(denominator)


RATIOS = [
    Ratio("revenue_per_staff", "W221", "人均营业收入", "人均收入", "revenue", "staff_total", "万元/人"),
    Ratio("reports_per_staff", "W222", "人均出具报告", "人均报告", "reports_total", "staff_total", "份/人"),
    Ratio("revenue_per_report", "W223", "每份报告营业收入", "单份报告收入", "revenue", "reports_total", "万元/份"),
    Ratio("instrument_value_per_staff", "W224", "人均仪器设备原值", "人均仪器原值", "instrument_value_total",
          "staff_total", "万元/人"),
]
RATIO_FIELDS = sorted({name for ratio in RATIOS for name in (ratio.numerator, ratio.denominator)})


@dataclass(frozen=True)
class SizeBand:
    code: str
    label: str
    lower: int  # staff_total from (inclusive)
    upper: int | None  # to (exclusive); None: no upper bound


# By staff (从业人员); 100 is FilingStatistics.SMALL_MICRO_STAFF, the line between 小微型 and the rest.
SIZE_BANDS = [
    SizeBand("1-9", "10人以下", 1, 10),
    SizeBand("10-49", "10～49人", 10, 50),
    SizeBand("50-99", "50～99人", 50, FilingStatistics.SMALL_MICRO_STAFF),
    SizeBand("100-499", "100～499人", FilingStatistics.SMALL_MICRO_STAFF, 500),
    SizeBand("500+", "500人及以上", 500, None),
]

# The rule (Iglewicz & Hoaglin's modified z-score): a value is an outlier when |x − median| / (1.4826 · MAD) > 3.5.
# 1.4826 · MAD estimates the standard deviation of normally distributed peers; medians resist the outliers themselves.
MAD_SCALE = 1.4826
THRESHOLD = 3.5
MIN_PEERS = 10  # fewer peers than this: nothing is flagged (a median of a handful says little)
# The year's statistics against all peers are kept this long, under a key that changes with every approval or return
# (the approved filings' count and latest change); a register edit of an institution's fields shows after it.
CACHE_SECONDS = 300

RULE_TEXT = (
    f"同一专业领域、同一规模（按从业人员分{len(SIZE_BANDS)}档："
    + "、".join(band.label for band in SIZE_BANDS)
    + f"）本年度审核通过的其他机构为同行，同行不少于 {MIN_PEERS} 家时，"
    + "比较" + "、".join(ratio.label for ratio in RATIOS)
    + f"：|本机构数值 − 同行中位数| ÷ （{MAD_SCALE} × 同行绝对中位差）大于 {THRESHOLD} 即为偏离同行"
    "（修正 z 分数，Iglewicz–Hoaglin）。分母为零或未填的比值不比较；同行数值一半以上相同（绝对中位差为零）时不判定。"
    "一家机构勾选了几个专业领域，就在每个领域各比较一次。"
)


def size_band(staff_total) -> SizeBand | None:
    if not staff_total:
        return None
    return next(b for b in SIZE_BANDS if staff_total >= b.lower and (b.upper is None or staff_total < b.upper))


def modified_z(value: float, median: float, mad: float) -> float | None:
    """(x − median) / (1.4826 · MAD); None when MAD is 0 (no spread to measure against)."""
    if not mad:
        return None
    return (value - median) / (MAD_SCALE * mad)


@dataclass(frozen=True)
class PeerComparison:
    """One ratio of one filing against one peer group."""

    ratio: Ratio
    field: str  # the professional field's name
    band: SizeBand
    value: float
    median: float
    mad: float
    peers: int

    @property
    def z(self) -> float | None:
        return modified_z(self.value, self.median, self.mad)

    @property
    def is_outlier(self) -> bool:
        return self.z is not None and abs(self.z) > THRESHOLD

    @property
    def arrow(self) -> str:
        return "↑" if self.value > self.median else "↓"

    @property
    def group(self) -> str:
        return f"{self.field}、{self.band.label}"


# --- in the database -----------------------------------------------------------------------------------------------
#
# Sides of a group's n sorted values from which a member is left out: L below the middle, M the middle value itself
# (n odd), H above it; ALL: a filing that is not a member (not approved, another year), compared with all n. Bands,
# ratios and sides travel as small integers (their positions): the database sorts them much faster than text.
ALL, LOW, MIDDLE, HIGH = 0, 1, 2, 3


def _side(rank, n):
    """Where the member of rank `rank` (1-based) among n sorted values stands: LOW, MIDDLE or HIGH."""
    a, b = n // 2, (n - 1) // 2 + 1  # the middle places among the n − 1 values left
    return LOW if rank <= a else HIGH if rank > b else MIDDLE


def _middle_ranks_sql(side, n):
    """The 1-based ranks among n sorted values whose average is the median of the values less the one left out from
    `side` (all n for ALL), as SQL over the columns `side` and `n` (integer division on both backends). With a and b
    the middle places of the n − 1 values left: LOW shifts both up one, MIDDLE only b, HIGH neither."""
    low = f"CASE {side} WHEN {ALL} THEN ({n} + 1) / 2 WHEN {LOW} THEN {n} / 2 + 1 ELSE {n} / 2 END"
    high = f"CASE {side} WHEN {ALL} THEN {n} / 2 + 1 WHEN {HIGH} THEN ({n} - 1) / 2 + 1 ELSE ({n} - 1) / 2 + 2 END"
    return low, high


def _placeholders(values):
    return ", ".join(["%s"] * len(values))


def _peer_sql(*, year_ids, field_ids, bands, sides):
    """The common table expressions of the peer statistics and their parameters (`field_ids` and `bands`: only
    these groups; None: every group)."""
    qn = connection.ops.quote_name
    filing, stats = Filing._meta.db_table, FilingStatistics._meta.db_table
    through = Institution.professional_fields.through
    through_table = qn(through._meta.db_table)
    field_column = qn(through._meta.get_field("professionalfield").column)
    institution_column = qn(through._meta.get_field("institution").column)
    staff = f"s.{qn('staff_total')}"
    band_cases = " ".join(
        f"WHEN {staff} >= {band.lower}" + (f" AND {staff} < {band.upper}" if band.upper else "")
        + f" THEN {index}"
        for index, band in enumerate(SIZE_BANDS)
    )
    ratios = ", ".join(
        f"CAST(CASE WHEN s.{qn(r.denominator)} > 0 THEN s.{qn(r.numerator)} * 1.0 / s.{qn(r.denominator)} END"
        f" AS DOUBLE PRECISION) AS {r.key}"
        for r in RATIOS
    )
    values = " UNION ALL ".join(
        f"SELECT fid, yr, fld, band, {index} AS ratio, {r.key} AS x FROM base WHERE {r.key} IS NOT NULL"
        for index, r in enumerate(RATIOS)
    )
    group = "yr, fld, band, ratio"
    sides_sql = " UNION ALL ".join(f"SELECT {side} AS side" for side in sides)
    med_low, med_high = _middle_ranks_sql("c.side", "r.n")
    mad_low, mad_high = _middle_ranks_sql("e.side", "d.n")
    same_group = " AND ".join(f"m.{column} = r.{column}" for column in group.split(", "))
    sql = f"""
        WITH base AS (
            SELECT f.id AS fid, f.year_id AS yr, t.{field_column} AS fld,
                   CASE {band_cases} END AS band, {ratios}
            FROM {qn(filing)} f
            JOIN {qn(stats)} s ON s.filing_id = f.id
            JOIN {through_table} t ON t.{institution_column} = f.institution_id
            WHERE f.status = %s AND f.year_id IN ({_placeholders(year_ids)})
              {f"AND t.{field_column} IN ({_placeholders(field_ids)})" if field_ids is not None else ""}
        ),
        vals AS ({values}),
        ranked AS (
            SELECT fid, {group}, x,
                   ROW_NUMBER() OVER (PARTITION BY {group} ORDER BY x, fid) AS k,
                   COUNT(*) OVER (PARTITION BY {group}) AS n
            FROM vals {f"WHERE band IN ({_placeholders(bands)})" if bands is not None else ""}
        ),
        sides AS ({sides_sql}),
        meds AS (
            SELECT r.yr, r.fld, r.band, r.ratio, r.n, c.side, AVG(r.x) AS med
            FROM ranked r CROSS JOIN sides c
            WHERE r.n >= %s AND r.k IN ({med_low}, {med_high})
            GROUP BY r.yr, r.fld, r.band, r.ratio, r.n, c.side
        ),
        devs AS (
            SELECT r.fid, r.yr, r.fld, r.band, r.ratio, r.n, r.k, m.side, ABS(r.x - m.med) AS e,
                   ROW_NUMBER() OVER (PARTITION BY r.yr, r.fld, r.band, r.ratio, m.side
                                      ORDER BY ABS(r.x - m.med), r.fid) AS k2
            FROM ranked r JOIN meds m ON {same_group}
        ),
        mads AS (
            SELECT d.yr, d.fld, d.band, d.ratio, d.side, e.side AS dev_side, AVG(d.e) AS mad
            FROM devs d CROSS JOIN sides e
            WHERE ((d.side = {ALL} AND e.side = {ALL}) OR (d.side <> {ALL} AND e.side <> {ALL}))
              AND d.k2 IN ({mad_low}, {mad_high})
            GROUP BY d.yr, d.fld, d.band, d.ratio, d.side, e.side
        )
    """
    params = [Filing.Status.APPROVED, *year_ids, *(field_ids or ()), *(bands or ()), MIN_PEERS]
    return sql, params


def _group_statistics(cursor, keys, members):
    """{(year, field, band, ratio): {(side, deviation side): (n, median, mad)}} for the groups of `keys` (bands and
    ratios by position) and, for the approved filings among the targets (`members`, ids), {(id, group): (rank,
    {side: deviation rank})}."""
    year_ids = sorted({key[0] for key in keys})
    if not members:
        return _all_peers_statistics(cursor, year_ids), {}
    field_ids = sorted({key[1] for key in keys})
    bands = sorted({key[2] for key in keys})
    sql, params = _peer_sql(year_ids=year_ids, field_ids=field_ids, bands=bands, sides=[ALL, LOW, MIDDLE, HIGH])
    groups = _statistics_rows(cursor, sql, params)
    # Up to a page of filings by id; more (a workbook's every approved filing) read every member's place.
    only = f"AND d.fid IN ({_placeholders(members)})" if len(members) <= 500 else ""
    own_side = f"CASE WHEN d.k <= d.n / 2 THEN {LOW} WHEN d.k > (d.n - 1) / 2 + 1 THEN {HIGH} ELSE {MIDDLE} END"
    cursor.execute(
        sql + f"SELECT d.fid, d.yr, d.fld, d.band, d.ratio, d.k, d.side, d.k2 FROM devs d WHERE d.side = {own_side} "
              f"{only}",
        params + (list(members) if only else []),
    )
    positions = {}
    for fid, year, field, band, ratio, rank, side, dev_rank in cursor.fetchall():
        entry = positions.setdefault((fid, (year, field, band, ratio)), (rank, {}))
        entry[1][side] = dev_rank
    return groups, positions


def _statistics_rows(cursor, sql, params):
    cursor.execute(
        sql + """SELECT m.yr, m.fld, m.band, m.ratio, m.n, m.side, a.dev_side, m.med, a.mad
                 FROM meds m JOIN mads a ON a.yr = m.yr AND a.fld = m.fld AND a.band = m.band
                                         AND a.ratio = m.ratio AND a.side = m.side""",
        params,
    )
    groups = {}
    for year, field, band, ratio, n, side, dev_side, median, mad in cursor.fetchall():
        groups.setdefault((year, field, band, ratio), {})[side, dev_side] = (n, float(median), float(mad))
    return groups


def _all_peers_statistics(cursor, year_ids):
    """Every group's statistics against all its peers for the years (what filings that are not approved are
    compared with: the queue, the filer's checks), from the cache while no approved filing of the years changed."""
    state = Filing.objects.filter(year_id__in=year_ids, status=Filing.Status.APPROVED).aggregate(
        n=Count("pk"), last=Max("updated_at")
    )
    key = f"filings.peers:{','.join(map(str, year_ids))}:{state['n']}:{state['last'] and state['last'].isoformat()}"
    groups = cache.get(key)
    if groups is None:
        sql, params = _peer_sql(year_ids=year_ids, field_ids=None, bands=None, sides=[ALL])
        groups = _statistics_rows(cursor, sql, params)
        cache.set(key, groups, CACHE_SECONDS)
    return groups


@dataclass(frozen=True)
class Target:
    """A filing to compare: its id, year, whether it is approved, its fields {id: name} and statistics values."""

    pk: int
    year_id: int
    approved: bool
    fields: dict
    values: dict


def compare(targets) -> dict[int, list[PeerComparison]]:
    """{filing id: comparisons} of every target's ratios with enough peers (fields in reference order, then the
    ratios' order); two or three queries whatever the number of targets and groups."""
    wanted = []  # (target, group key, ratio, value)
    for target in targets:
        band = size_band(target.values.get("staff_total"))
        if band is None:
            continue
        band_index = SIZE_BANDS.index(band)
        for field_id in target.fields:
            for ratio_index, ratio in enumerate(RATIOS):
                value = ratio.of(target.values)
                if value is not None:
                    wanted.append((target, (target.year_id, field_id, band_index, ratio_index), ratio, value))
    if not wanted:
        return {}
    members = sorted({target.pk for target, *_ in wanted if target.approved})
    with connection.cursor() as cursor:
        groups, positions = _group_statistics(cursor, [key for _, key, _, _ in wanted], members)
    result = {}
    for target, key, ratio, value in wanted:
        statistics = groups.get(key)
        if not statistics:
            continue
        place = positions.get((target.pk, key)) if target.approved else None
        if place is None:
            side = dev_side = ALL
        else:
            rank, dev_ranks = place
            n = next(iter(statistics.values()))[0]
            side = _side(rank, n)
            if side not in dev_ranks:
                continue
            dev_side = _side(dev_ranks[side], n)
        found = statistics.get((side, dev_side))
        if found is None:
            continue
        n, median, mad = found
        peers = n - 1 if place is not None else n
        if peers < MIN_PEERS:
            continue
        result.setdefault(target.pk, []).append(PeerComparison(
            ratio, target.fields[key[1]], SIZE_BANDS[key[2]], value, median, mad, peers,
        ))
    return result


def targets_of(filings):
    """The Target of every filing in the queryset `filings` (one query, streamed)."""
    rows = (
        Filing.objects.filter(pk__in=filings.order_by().values("pk"))
        .order_by("pk", "institution__professional_fields__order", "institution__professional_fields__code")
        .values_list("pk", "year_id", "status", "institution__professional_fields",
                     "institution__professional_fields__name", *(f"statistics__{name}" for name in RATIO_FIELDS))
    )
    current = None
    for pk, year_id, status, field_id, field_name, *values in rows.iterator(chunk_size=2000):
        if current is not None and current.pk != pk:
            yield current
            current = None
        if current is None:
            values = dict(zip(RATIO_FIELDS, values, strict=True))
            current = Target(pk, year_id, status == Filing.Status.APPROVED, {}, values)
        if field_id is not None:  # no field ticked: no peer group
            current.fields[field_id] = field_name
    if current is not None:
        yield current


def target_of(filing):
    """The Target of one filing as it is in memory (its statistics perhaps not yet saved); one query for its fields."""
    fields = dict(filing.institution.professional_fields.order_by("order", "code").values_list("pk", "name"))
    values = {name: getattr(filing.statistics, name) for name in RATIO_FIELDS}
    return Target(filing.pk, filing.year_id, filing.status == Filing.Status.APPROVED, fields, values)


def peer_comparisons(filings) -> dict[int, list[PeerComparison]]:
    """Every comparison of the filings in the queryset `filings` (any number: a fixed number of queries)."""
    return compare(targets_of(filings))


def outliers(comparisons: dict[int, list[PeerComparison]]) -> dict[int, list[PeerComparison]]:
    """Only the comparisons that stray, and only the filings that have one."""
    found = {pk: [c for c in items if c.is_outlier] for pk, items in comparisons.items()}
    return {pk: items for pk, items in found.items() if items}


def peer_outliers(filings) -> dict[int, list[PeerComparison]]:
    return outliers(peer_comparisons(filings))


def outlier_summary(items: list[PeerComparison]) -> str:
    """The workbook's and the queue's short form: each straying ratio once, with its direction ("人均收入↑")."""
    seen = {}
    for item in items:
        seen.setdefault(item.ratio.key, f"{item.ratio.short}{item.arrow}")
    return "、".join(seen[ratio.key] for ratio in RATIOS if ratio.key in seen)


def strongest_by_ratio(items: list[PeerComparison]) -> list[PeerComparison]:
    """Per ratio, the comparison that strays farthest (an institution of several fields is compared in each)."""
    best = {}
    for item in items:
        if item.ratio.key not in best or abs(item.z or 0) > abs(best[item.ratio.key].z or 0):
            best[item.ratio.key] = item
    return [best[ratio.key] for ratio in RATIOS if ratio.key in best]


def format_value(value: float) -> str:
    return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.4f}"
