"""Workbook builders, one per export kind. Each reads through the job owner's scope and writes write-only sheets."""
from django.db import connection
from django.db.models import Case, CharField, Count, FilteredRelation, OuterRef, Q, Value, When
from django.utils import timezone

from filings import peers
from filings.models import Filing, FilingStatistics, ReportingYear
from filings.progress import NOT_STARTED, PROGRESS_LABELS, RULE_TEXT
from institutions.models import CertificateLevel, Institution, ProfessionalField, reviewing_authority_name

from . import aggregates
from .registry import register
from .scopes import institutions_in
from .xlsx import DECIMAL, INTEGER, PERCENT, Column, SheetWriter

CHUNK = 2000


@register("register", "机构名录", needs_year=False)
def build_register(job, workbook, progress):
    institutions = (
        institutions_in(job.created_by, job.region)
        .select_related("city__parent", "supervising_department", "parent", "review_group")
        .annotate(
            national_certs=Count(
                "cma_certificates", filter=Q(cma_certificates__level=CertificateLevel.NATIONAL), distinct=True
            ),
            provincial_certs=Count(
                "cma_certificates", filter=Q(cma_certificates__level=CertificateLevel.PROVINCIAL), distinct=True
            ),
            site_count=Count("sites", distinct=True),
        )
        .prefetch_related("professional_fields")
        .order_by("city__code", "name", "pk")
    )
    total = institutions.count()
    sheet = SheetWriter(
        workbook,
        "机构名录",
        [
            Column("机构名称", 36), Column("统一社会信用代码", 22), Column("所在市州", 12), Column("法定代表人", 12),
            Column("注册地址", 36), Column("成立年份", 10), Column("机构性质", 12), Column("法人状态", 14),
            Column("所有制", 16), Column("行业主管部门", 14), Column("专业领域", 30),
            Column("国家级证书数", 12, INTEGER), Column("省级证书数", 12, INTEGER), Column("场所数", 8, INTEGER),
            Column("审核单位", 22),
            Column("联系人", 10), Column("联系电话", 16), Column("电子邮箱", 26),
        ],
        notes=[f"{job.title}（共 {total} 家）"],
    )
    for done, inst in enumerate(institutions.iterator(chunk_size=CHUNK), start=1):
        sheet.append([
            inst.name, inst.credit_code, inst.city.name, inst.legal_representative, inst.registered_address,
            inst.established_year, inst.get_nature_display(), inst.get_legal_status_display(),
            inst.get_ownership_display(), str(inst.supervising_department or ""),
            "、".join(field.name for field in inst.professional_fields.all()), inst.national_certs,
            inst.provincial_certs, inst.site_count, inst.reviewing_authority_name, inst.contact_person,
            inst.contact_phone, inst.contact_email,
        ])
        if done % CHUNK == 0:
            progress(done / max(total, 1), f"已写入 {done}/{total} 家机构")


# --- 年度汇总: the regulator's summary workbook for a year and a region --------------------------------------------

STATUS_LABELS = {"": PROGRESS_LABELS[NOT_STARTED], **dict(Filing.Status.choices)}  # one label per state


def _indicator_format(indicator):
    return DECIMAL if indicator.decimal else INTEGER


def _breakdown_columns(first_header, first_width=18):
    return [Column(first_header, first_width)] + [
        Column(f"{aggregates.INDICATOR_BY_KEY[key].label}（{aggregates.INDICATOR_BY_KEY[key].unit}）", 16,
               _indicator_format(aggregates.INDICATOR_BY_KEY[key]))
        for key in aggregates.BREAKDOWN_KEYS
    ]


def _breakdown_values(row):
    return [row[key] for key in aggregates.BREAKDOWN_KEYS]


def _write_breakdown(workbook, title, first_header, rows, notes, *, total=None):
    sheet = SheetWriter(workbook, title, _breakdown_columns(first_header), notes=notes)
    for row in rows:
        sheet.append([row["label"], *_breakdown_values(row)])
    if total is not None:
        sheet.append(["合计", *_breakdown_values(total)], bold=True)


def _detail_columns():
    """机构明细: identity, state, derived flags, then every indicator of the statistical survey."""
    columns = [
        Column("机构名称", 36), Column("统一社会信用代码", 22), Column("所在市州", 12), Column("机构性质", 12),
        Column("所有制", 16), Column("审核单位", 22), Column("专业领域", 30), Column("填报状态", 10),
        Column("计入汇总", 10), Column("规模以上", 10), Column("小微型", 10), Column("偏离同行", 24),
    ]
    for field in statistics_fields():
        number_format = DECIMAL if field.get_internal_type() == "DecimalField" else INTEGER
        header = str(field.verbose_name)
        columns.append(Column(header, max(12, min(24, len(header) * 2)), number_format))
    return columns


def statistics_fields():
    """Every indicator of FilingStatistics, in the model's order."""
    return [field for field in FilingStatistics._meta.concrete_fields if field.name not in ("id", "filing")]


def detail_rows(institutions, year_id: int, *, include_submitted: bool):
    """One tuple per institution in scope (those without a filing for the year included), in the order of
    _detail_columns(), streamed from one query. Derived flags are computed in the database with the model's
    thresholds. The professional fields come from an array subquery on PostgreSQL, elsewhere (the SQLite default)
    from one extra query per chunk of rows. 偏离同行 (counted filings only) comes from filings.peers, whose fixed
    queries run once before the rows."""
    counted = aggregates.counted_statuses(include_submitted)
    straying = {
        pk: peers.outlier_summary(items)
        for pk, items in peers.peer_outliers(
            Filing.objects.filter(institution__in=institutions.values("pk"), year_id=year_id, status__in=counted)
        ).items()
    }
    stats = [f"year_filing__statistics__{field.name}" for field in statistics_fields()]
    flag = lambda condition: Case(  # noqa: E731
        When(condition, then=Value("是")), When(year_filing__isnull=True, then=Value("")), default=Value("否"),
        output_field=CharField(),
    )
    portable = connection.vendor != "postgresql"
    field_names = {}
    if not portable:
        from django.contrib.postgres.expressions import ArraySubquery

        field_names["field_names"] = ArraySubquery(
            ProfessionalField.objects.filter(institution=OuterRef("pk")).order_by("order", "code").values("name")
        )
    queryset = (
        institutions.annotate(
            year_filing=FilteredRelation("filings", condition=Q(filings__year_id=year_id)),
            **field_names,
            counted=Case(
                When(year_filing__status__in=counted, then=Value("是")), default=Value("否"), output_field=CharField()
            ),
            above_scale=flag(Q(year_filing__statistics__revenue__gte=FilingStatistics.ABOVE_SCALE_REVENUE)),
            small_micro=flag(Q(year_filing__statistics__staff_total__lt=FilingStatistics.SMALL_MICRO_STAFF)),
        )
        .order_by("city__code", "name", "pk")
        .values_list(
            "name", "credit_code", "city__name", "nature", "ownership", "reviewing_authority",
            "pk" if portable else "field_names", "year_filing__status", "counted", "above_scale", "small_micro",
            "year_filing__id", "city__parent__name", "review_group__name", *stats,
        )
    )
    natures = dict(Institution.Nature.choices)
    ownerships = dict(Institution.Ownership.choices)
    rows = queryset.iterator(chunk_size=CHUNK)
    if portable:
        rows = _with_field_names(rows, position=6)
    for row in rows:
        yield (
            row[0], row[1], row[2], natures.get(row[3], row[3]), ownerships.get(row[4], row[4]),
            reviewing_authority_name(row[5], row[12] or "", row[13] or ""), "、".join(row[6] or ()),
            STATUS_LABELS[row[7] or ""], *row[8:11], straying.get(row[11], ""), *row[14:],
        )


def _with_field_names(rows, *, position: int):
    """Replace the institution id at `position` of each row by its professional fields' names (in reference order),
    reading them with one query per CHUNK rows."""
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            yield from _name_fields(batch, position)
            batch = []
    yield from _name_fields(batch, position)


def _name_fields(batch, position):
    ids = [row[position] for row in batch]
    names = {pk: [] for pk in ids}
    for step in range(0, len(ids), 500):  # stays under SQLite's limit on query parameters
        pairs = (
            ProfessionalField.objects.filter(institution__in=ids[step:step + 500])
            .order_by("order", "code").values_list("institution", "name")
        )
        for pk, name in pairs:
            names[pk].append(name)
    for row in batch:
        yield (*row[:position], names[row[position]], *row[position + 1:])


def _scope_line(job):
    year = job.params["year"]
    return f"{year}年度 {job.region.display_name}"


@register("summary", "年度汇总", needs_year=True)
def build_summary(job, workbook, progress):
    year = int(job.params["year"])
    include_submitted = bool(job.params.get("include_submitted"))
    institutions = institutions_in(job.created_by, job.region)
    basis = aggregates.basis_text(include_submitted)
    scope = _scope_line(job)
    generated = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    reporting_year = ReportingYear.objects.filter(year=year).only("pk").first()
    if reporting_year is None:
        raise ValueError(f"{year}年度不存在")
    steps = 9

    # 总体情况: the same comparison as the dashboard (aggregates.year_on_year), 同口径 first, 全部机构 beside it
    progress(0.02, "正在汇总：总体情况")
    rows = aggregates.year_on_year(institutions, year, include_submitted=include_submitted)
    same, every = aggregates.SAME_INSTITUTIONS_LABEL, aggregates.ALL_INSTITUTIONS_LABEL
    sheet = SheetWriter(
        workbook, "总体情况",
        [Column("指标", 26), Column("单位", 8),
         Column(f"{year}年（{same}）", 16, DECIMAL), Column(f"{year - 1}年（{same}）", 16, DECIMAL),
         Column(f"增减（{same}）", 14, DECIMAL), Column(f"增减%（{same}）", 12, PERCENT),
         Column(f"{year}年（{every}）", 16, DECIMAL), Column(f"{year - 1}年（{every}）", 16, DECIMAL),
         Column(f"增减%（{every}）", 12, PERCENT)],
        notes=[f"{scope} 检验检测统计汇总", basis,
               aggregates.same_institutions_note(year, rows[0]["same_current"]),
               f"上年数为同一范围内机构的{year - 1}年度填报，按同一口径计入；生成时间：{generated}。"],
    )
    # The first row is the number of institutions: without any, a comparison is left blank.
    has_same, has_previous = bool(rows[0]["same_previous"]), bool(rows[0]["previous"])
    for row in rows:
        sheet.append(
            [row["label"], row["unit"],
             row["same_current"] if has_same else None, row["same_previous"] if has_same else None,
             row["same_current"] - row["same_previous"] if has_same else None,
             row["same_change"] if has_same else None,
             row["current"], row["previous"] if has_previous else None,
             row["change"] if has_previous else None],
            number_format=DECIMAL if row["decimal"] else INTEGER,
        )

    # 按市州
    progress(1 / steps, "正在汇总：按市州")
    by_city = aggregates.breakdown_by_area(institutions, year, include_submitted=include_submitted)
    total = {key: sum(row[key] for row in by_city) for key in aggregates.BREAKDOWN_KEYS}
    if job.region.level == job.region.Level.NATION:  # the nation also per province, summed the same way
        by_province = aggregates.breakdown_by_area(institutions, year, include_submitted=include_submitted,
                                                   by_province=True)
        _write_breakdown(workbook, "按省份", "省份", by_province, [f"{scope} 按省份", basis], total=total)
    _write_breakdown(workbook, "按市州", "市州", by_city, [f"{scope} 按市州", basis], total=total)

    # 按机构性质, 按所有制
    progress(2 / steps, "正在汇总：按机构性质")
    rows = aggregates.breakdown_by_choice(institutions, year, "nature", include_submitted=include_submitted)
    _write_breakdown(workbook, "按机构性质", "机构性质", rows, [f"{scope} 按机构性质", basis], total=total)
    progress(3 / steps, "正在汇总：按所有制")
    rows = aggregates.breakdown_by_choice(institutions, year, "ownership", include_submitted=include_submitted)
    _write_breakdown(workbook, "按所有制", "所有制", rows, [f"{scope} 按所有制", basis], total=total)

    # 按专业领域
    progress(4 / steps, "正在汇总：按专业领域")
    rows = aggregates.breakdown_by_professional_field(institutions, year, include_submitted=include_submitted)
    _write_breakdown(
        workbook, "按专业领域", "专业领域", rows,
        [f"{scope} 按专业领域", basis,
         "注：一家机构勾选了几个专业领域，就在每个领域各计一次，因此各领域相加大于机构总数（不设合计行）。"],
    )

    # 按规模
    progress(5 / steps, "正在汇总：按规模")
    rows = aggregates.breakdown_by_size(institutions, year, include_submitted=include_submitted)
    _write_breakdown(
        workbook, "按规模", "规模", rows,
        [f"{scope} 按规模", basis,
         (
             f"注：规模以上指营业收入≥{FilingStatistics.ABOVE_SCALE_REVENUE}万元；小微型指从业人员少于"
             f"{FilingStatistics.SMALL_MICRO_STAFF}人。两种分法各自相加等于合计。"
         )],
    )

    # 填报进度
    progress(6 / steps, "正在汇总：填报进度")
    _write_progress(workbook, institutions, reporting_year, scope)

    # 报告编号上传情况
    progress(7 / steps, "正在汇总：报告编号上传情况")
    _write_report_uploads(workbook, institutions, year, scope)

    # 机构明细
    progress(8 / steps, "正在写入机构明细")
    total_institutions = institutions.count()
    sheet = SheetWriter(
        workbook, "机构明细", _detail_columns(),
        notes=[f"{scope} 机构明细（共 {total_institutions} 家）", basis + "“计入汇总”一列标明该机构是否计入各汇总表。"],
    )
    rows = detail_rows(institutions, reporting_year.pk, include_submitted=include_submitted)
    for done, row in enumerate(rows, start=1):
        sheet.append(row)
        if done % CHUNK == 0:
            fraction = 8 / steps + (done / max(total_institutions, 1)) / steps
            progress(fraction, f"已写入机构明细 {done}/{total_institutions} 家")


def _write_progress(workbook, institutions, reporting_year, scope):
    rows = aggregates.filing_progress_by_city(institutions, reporting_year)
    states = aggregates.PROGRESS_STATES
    sheet = SheetWriter(
        workbook, "填报进度",
        [Column("市州", 18), Column("在册机构", 12, INTEGER)]
        + [Column(aggregates.PROGRESS_LABELS[state], 10, INTEGER) for state in states]
        + [Column("未提交", 10, INTEGER), Column("提交率", 10, PERCENT), Column("审核通过率", 12, PERCENT)],
        notes=[f"{scope} 填报进度", f"{RULE_TEXT}每家机构每年只有一份填报；与“填报进度”页面和未提交机构名单同一规则。"],
    )

    def handed_in_columns(row):
        # filings.progress's rule, as on the 填报进度 page and the late-filer list
        if not row["total"]:
            return [row["not_handed_in"], None, None]
        return [row["not_handed_in"], row["handed_in_rate"], row["approved"] / row["total"]]

    for row in rows:
        sheet.append([row["city"], row["total"], *(row[state] for state in states), *handed_in_columns(row)])
    total = aggregates.progress_totals(rows)
    sheet.append(["合计", total["total"], *(total[state] for state in states), *handed_in_columns(total)], bold=True)


def _upload_status_source():
    """reports.selectors.upload_status_by_quarter, or None while the report-number app does not provide it."""
    try:
        from reports.selectors import upload_status_by_quarter
    except ImportError:
        return None
    return upload_status_by_quarter


def _write_report_uploads(workbook, institutions, year: int, scope):
    sheet = SheetWriter(
        workbook, "报告编号上传情况",
        [Column("季度", 16), Column("应上传机构", 12, INTEGER), Column("已上传机构", 12, INTEGER),
         Column("其中按时", 10, INTEGER), Column("其中逾期", 10, INTEGER), Column("未上传机构", 12, INTEGER),
         Column("上传报告编号（个）", 18, INTEGER), Column("上传率", 10, PERCENT)],
        notes=[f"{scope} 报告编号上传情况（按季度）",
               "每季度首月上传上一季度的报告编号，超过首月上传的计为逾期。"],
    )
    source = _upload_status_source()
    if source is None:
        sheet.append(["报告编号数据暂不可用（报告编号模块未提供按季度统计）。"])
        return
    rows = source(institutions, year)  # the calendar quarters of the reporting year
    for row in rows:
        rate = row["uploaded"] / row["institutions"] if row["institutions"] else None
        sheet.append([row["quarter"], row["institutions"], row["uploaded"], row["on_time"], row["late"],
                      row["missing"], row["numbers"], rate])
    if rows:
        sheet.append(["全年合计", None, None, None, None, None, sum(row["numbers"] for row in rows), None], bold=True)
