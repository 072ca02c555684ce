"""The 年度汇总 workbook: every sheet's figures checked against a small population computed here, independently."""
import subprocess
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from filings.models import FilingStatistics
from institutions.models import Institution, ProfessionalField
from summaries import services
from summaries.models import ExportJob
from tests import factories
from tests.summaries.conftest import LAST_YEAR_STATS, build, statistics_of as _statistics, table

SHEETS = [
    "总体情况", "按市州", "按机构性质", "按所有制", "按专业领域", "按规模", "填报进度", "报告编号上传情况", "机构明细",
]

def reviewer():
    return factories.ProvincialReviewerFactory()


@pytest.mark.django_db
def test_the_workbook_has_every_sheet_in_order(population):
    workbook = build(reviewer())
    assert workbook.sheetnames == SHEETS


@pytest.mark.django_db
def test_overview_totals_equal_the_approved_filings_of_the_scope(population):
    counted = ["a", "d"]  # approved, in Hunan
    workbook = build(reviewer())
    notes, header, rows = table(workbook, "总体情况")
    assert header == ("指标", "单位", "2025年（同口径）", "2024年（同口径）", "增减（同口径）", "增减%（同口径）",
                      "2025年（全部机构）", "2024年（全部机构）", "增减%（全部机构）")
    assert any("仅计入审核通过的填报" in note for note in notes)
    expected = {
        "机构数": len(counted),
        "从业人员": sum(_statistics(k)["staff_total"] for k in counted),
        "营业收入": sum(_statistics(k)["revenue"] for k in counted),
        "出具检验检测报告": sum(_statistics(k)["reports_total"] for k in counted),
        "仪器设备": sum(_statistics(k)["instruments_total"] for k in counted),
        "仪器设备原值": sum(_statistics(k)["instrument_value_total"] for k in counted),
        "实验室面积": sum(_statistics(k)["lab_area"] for k in counted),
        "资产总额": sum(_statistics(k)["total_assets"] for k in counted),
    }
    for label, value in expected.items():
        assert Decimal(str(rows[label][6])) == value, label
    # Last year: a and d approved (f too, but f is returned this year: last year it counts among 全部机构).
    assert rows["机构数"][7] == 3
    assert Decimal(str(rows["营业收入"][7])) == 3 * LAST_YEAR_STATS["revenue"]
    assert rows["机构数"][8] == pytest.approx((2 - 3) / 3)
    assert rows["营业收入"][8] == pytest.approx(float((Decimal("2200") - Decimal("2400")) / Decimal("2400")))
    # 同口径: a and d, counted in both years.
    assert rows["机构数"][2:6] == (2, 2, 0, 0)
    assert Decimal(str(rows["营业收入"][3])) == 2 * LAST_YEAR_STATS["revenue"]
    # The four kinds of report are there, one row each.
    reports = [row for label, row in rows.items() if label and label.startswith("其中：") and row[1] == "份"]
    assert len(reports) == 4 and sum(row[2] for row in reports) == expected["出具检验检测报告"]


@pytest.mark.django_db
def test_include_submitted_adds_submitted_and_in_review_never_drafts_or_returned(population):
    workbook = build(reviewer(), include_submitted=True)
    notes, _header, rows = table(workbook, "总体情况")
    assert any("审核通过、审核中和已提交" in note and "草稿和已退回" in note for note in notes)
    counted = ["a", "b", "c", "d"]
    assert rows["机构数"][6] == 4
    assert Decimal(str(rows["营业收入"][6])) == sum(_statistics(k)["revenue"] for k in counted)
    detail = table(workbook, "机构明细")[2]
    assert {name: row[8] for name, row in detail.items()} == {
        "4301机构a": "是", "4301机构b": "是", "4301机构c": "是", "4301机构h": "否",
        "4302机构d": "是", "4302机构e": "否", "4302机构f": "否",
    }


@pytest.mark.django_db
def test_breakdowns_by_city_nature_and_ownership_add_up_to_the_total(population):
    workbook = build(reviewer(), include_submitted=True)
    _notes, header, rows = table(workbook, "按市州")
    assert header[:3] == ("市州", "机构数（家）", "从业人员（人）")
    assert {label: row[1] for label, row in rows.items()} == {"长沙市": 3, "株洲市": 1, "合计": 4}
    assert Decimal(str(rows["长沙市"][3])) == sum(_statistics(k)["revenue"] for k in "abc")
    for title in ("按机构性质", "按所有制"):
        rows = table(workbook, title)[2]
        assert rows.pop("合计")[1] == 4
        assert sum(row[1] for row in rows.values()) == 4
    assert table(workbook, "按机构性质")[2]["事业单位"][1] == 1
    assert table(workbook, "按所有制")[2]["国有及国有控股"][1] == 1


@pytest.mark.django_db
def test_an_institution_counts_once_in_each_field_it_ticked(population):
    workbook = build(reviewer(), include_submitted=True)
    notes, _header, rows = table(workbook, "按专业领域")
    assert any("每个领域各计一次" in note for note in notes)
    assert {label: row[1] for label, row in rows.items()} == {
        "水质": 2, "食品及食品接触材料": 2, "未勾选专业领域": 1,  # a in both; b food; d water; c none
    }
    assert "合计" not in rows
    assert Decimal(str(rows["水质"][3])) == _statistics("a")["revenue"] + _statistics("d")["revenue"]


@pytest.mark.django_db
def test_size_sheet_uses_the_same_thresholds_as_the_model(population):
    workbook = build(reviewer(), include_submitted=True)
    rows = list(table(workbook, "按规模")[2].values())
    counted = [FilingStatistics(**_statistics(k)) for k in "abcd"]
    above = [s for s in counted if s.is_above_scale]  # a (1200), c (3000), d (exactly 1000)
    small = [s for s in counted if s.is_small_micro]  # b (20), c (99); d has exactly 100
    assert [row[1] for row in rows] == [len(above), len(counted) - len(above), len(small), len(counted) - len(small)]
    assert [row[1] for row in rows] == [3, 1, 2, 2]
    assert Decimal(str(rows[0][3])) == sum(s.revenue for s in above)
    assert rows[2][2] == sum(s.staff_total for s in small)


@pytest.mark.django_db
def test_progress_sheet_counts_every_institution_by_its_state(population):
    rows = table(build(reviewer()), "填报进度")[2]
    # columns: 市州, 在册, 未开始, 草稿, 已提交, 审核中, 已退回, 审核通过, 未提交, 提交率, 审核通过率
    assert rows["长沙市"][1:8] == (4, 1, 0, 1, 1, 0, 1)
    assert rows["株洲市"][1:8] == (3, 0, 1, 0, 0, 1, 1)
    assert rows["合计"][1:8] == (7, 1, 1, 1, 1, 1, 2)
    assert rows["长沙市"][8:] == (1, pytest.approx(3 / 4), pytest.approx(1 / 4))
    # 株洲's returned filing is not handed in: only its approved one counts
    assert rows["株洲市"][8:] == (2, pytest.approx(1 / 3), pytest.approx(1 / 3))


@pytest.mark.django_db
def test_detail_sheet_has_one_row_per_institution_with_every_indicator(population):
    workbook = build(reviewer())
    _notes, header, rows = table(workbook, "机构明细")
    assert sorted(rows) == ["4301机构a", "4301机构b", "4301机构c", "4301机构h", "4302机构d", "4302机构e", "4302机构f"]
    indicator_headers = [
        str(f.verbose_name) for f in FilingStatistics._meta.concrete_fields if f.name not in ("id", "filing")
    ]
    assert header[11] == "偏离同行" and list(header[12:]) == indicator_headers
    a, h, d = rows["4301机构a"], rows["4301机构h"], rows["4302机构d"]
    # in the reference list's order and a[7] == "审核通过" and a[8:11] == ("是", "是", "否")
    assert a[6] == "水质、食品及食品接触材料"
    assert d[8:11] == ("是", "是", "否")  # exactly 1000 万元 is above scale; exactly 100 staff is not small
    assert rows["4301机构b"][7:11] == ("已提交", "否", "否", "是")
    assert h[7:9] == ("未开始", "否") and h[9:] == (None,) * (3 + len(indicator_headers))
    by_header = dict(zip(header, a, strict=True))
    assert by_header["营业收入（万元）"] == 1200 and by_header["从业人员（人）"] == 150
    assert by_header["实验室面积（平方米）"] == float(_statistics("a")["lab_area"])


@pytest.mark.django_db
def test_detail_sheet_names_the_reviewing_authority_as_the_register_does(population):
    group = factories.ReviewGroupFactory(name="国家食品质检评审组", members=[factories.GroupReviewerFactory()])
    Institution.objects.filter(pk=population["b"].pk).update(reviewing_authority="samr")
    Institution.objects.filter(pk=population["c"].pk).update(reviewing_authority="group", review_group=group)
    _notes, header, rows = table(build(reviewer()), "机构明细")
    assert header[5] == "审核单位"
    names = {key: rows[f"4301机构{key}"][5] for key in "abc"}
    assert names == {key: Institution.objects.get(pk=population[key].pk).reviewing_authority_name for key in "abc"}
    assert names == {"a": "湖南省市场监督管理局", "b": "国家市场监督管理总局", "c": "评审组：国家食品质检评审组"}


@pytest.mark.django_db
def test_numbers_are_numbers_with_formats_and_header_rows_are_frozen(population):
    workbook = build(reviewer())
    for title in SHEETS:
        sheet = workbook[title]
        assert sheet.freeze_panes and sheet.freeze_panes.startswith("A"), title
        header_row = int(sheet.freeze_panes[1:]) - 1
        assert sheet.cell(header_row, 1).font.b, title
        assert sheet.column_dimensions["A"].width >= 12, title
    sheet = workbook["机构明细"]
    header_row = int(sheet.freeze_panes[1:]) - 1
    headers = [cell.value for cell in sheet[header_row]]
    revenue = sheet.cell(header_row + 1, headers.index("营业收入（万元）") + 1)
    staff = sheet.cell(header_row + 1, headers.index("从业人员（人）") + 1)
    # A whole amount is written without decimals; another keeps two (the first rows are a's 1200.00 and b's 99.50).
    assert revenue.data_type == "n" and revenue.value == 1200 and revenue.number_format == "#,##0"
    part = sheet.cell(header_row + 2, headers.index("营业收入（万元）") + 1)
    assert part.value == pytest.approx(99.5) and part.number_format == "#,##0.00"
    assert staff.data_type == "n" and staff.number_format == "#,##0"
    overview = workbook["总体情况"]
    institutions = next(row for row in overview.iter_rows() if row[0].value == "机构数")
    revenue = next(row for row in overview.iter_rows() if row[0].value == "营业收入")
    assert institutions[5].data_type == "n" and institutions[5].number_format == "0.0%"
    assert institutions[2].number_format == "#,##0" and revenue[2].number_format == "#,##0"  # 2,200 万元
    assert revenue[4].value == 600 and revenue[4].number_format == "#,##0"


@pytest.mark.django_db
def test_a_city_officer_summarises_their_city_only(population):
    officer = factories.CityOfficerFactory(region=factories.region("430200"))
    workbook = build(officer, "430200", include_submitted=True)
    assert table(workbook, "总体情况")[2]["机构数"][2] == 1
    assert sorted(table(workbook, "机构明细")[2]) == ["4302机构d", "4302机构e", "4302机构f"]
    with pytest.raises(PermissionDenied):
        services.start_export(actor=officer, kind="summary", region=factories.region("430100"), year=2025)


@pytest.mark.django_db
def test_a_city_officer_cannot_summarise_another_city_by_url(client, population):
    officer = factories.CityOfficerFactory(region=factories.region("430200"))
    client.force_login(officer)
    response = client.post(
        reverse("summaries:exports"), {"kind": "summary", "region": factories.region("430100").pk, "year": 2025}
    )
    assert response.status_code == 200 and "选择一个有效的选项" in response.content.decode()
    assert not ExportJob.objects.exists()


@pytest.mark.django_db
def test_samr_reviewer_summarises_the_nation(population):
    workbook = build(factories.SamrReviewerFactory(), "000000")
    assert table(workbook, "总体情况")[2]["机构数"][6] == 3  # a, d and the other province's g
    assert set(table(workbook, "按市州")[2]) == {"长沙市", "株洲市", "武汉市", "合计"}


@pytest.mark.django_db
def test_a_year_that_does_not_exist_is_refused_with_a_message(client, population):
    with pytest.raises(services.ExportRefused, match="2019年度尚未设立"):
        services.start_export(actor=reviewer(), kind="summary", region=factories.region("430000"), year=2019)
    client.force_login(reviewer())
    response = client.post(reverse("summaries:exports"), {"kind": "summary", "region": factories.region("430000").pk})
    assert "请选择统计年度" in response.content.decode()
    response = client.post(
        reverse("summaries:exports"), {"kind": "summary", "region": factories.region("430000").pk, "year": 2019}
    )
    assert "选择一个有效的选项" in response.content.decode()
    assert not ExportJob.objects.exists()


@pytest.mark.django_db
def test_summary_queries_do_not_grow_with_the_number_of_institutions(population, monkeypatch):
    # Progress is written by the clock (every PROGRESS_INTERVAL); a slow machine would add writes, not rows.
    monkeypatch.setattr(ExportJob, "PROGRESS_INTERVAL", float("inf"))
    user = reviewer()

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            build(user)
        return len(queries)

    small = count_queries()
    year = factories.ReportingYearFactory(year=2025)
    for _ in range(6):
        institution = factories.InstitutionFactory(city=factories.region("430300"))
        institution.professional_fields.set(ProfessionalField.objects.all()[:3])
        factories.make_filing(institution, year=year, status="approved")
    assert count_queries() == small


@pytest.mark.django_db
def test_progress_advances_sheet_by_sheet_and_chunk_by_chunk(population, monkeypatch):
    from summaries import builders, registry

    monkeypatch.setattr(ExportJob, "PROGRESS_INTERVAL", 0)
    monkeypatch.setattr(builders, "CHUNK", 2)
    kind = registry.get_kind("summary")
    seen = []

    def spying_build(job, workbook, progress):
        def spy(fraction, stage):
            progress(fraction, stage)
            seen.append(ExportJob.objects.values_list("status", "progress", "stage").get(pk=job.pk))

        kind.build(job, workbook, spy)

    monkeypatch.setitem(
        registry.EXPORT_KINDS, "summary", registry.ExportKind("summary", "年度汇总", True, spying_build)
    )
    job = services.start_export(actor=reviewer(), kind="summary", region=factories.region("430000"), year=2025)
    percents = [percent for _status, percent, _stage in seen]
    assert all(status == "running" for status, _p, _s in seen)
    assert percents == sorted(percents) and percents[0] < 15 and percents[-1] > 80
    stages = [stage for _status, _percent, stage in seen]
    assert "正在汇总：按专业领域" in stages and "已写入机构明细 6/7 家" in stages
    job.refresh_from_db()
    assert (job.status, job.progress) == ("done", 100)


@pytest.mark.django_db
def test_institution_names_that_look_like_formulas_stay_text(population):
    Institution.objects.filter(pk=population["a"].pk).update(name='=HYPERLINK("http://evil.example","点我")')
    Institution.objects.filter(pk=population["d"].pk).update(name="-2+3")
    workbook = build(reviewer())
    sheet = workbook["机构明细"]
    cells = {cell.value: cell for row in sheet.iter_rows(max_col=1) for cell in row}
    for text in ('=HYPERLINK("http://evil.example","点我")', "-2+3"):
        assert cells[text].data_type == "s" and cells[text].quotePrefix


@pytest.mark.django_db
def test_libreoffice_opens_the_summary_workbook(population, tmp_path):
    Institution.objects.filter(pk=population["a"].pk).update(name="=1+1")
    job = services.start_export(actor=reviewer(), kind="summary", region=factories.region("430000"), year=2025)
    job.refresh_from_db()
    out = tmp_path / "csv"
    # UTF-8 (76), every sheet into its own file (-1).
    result = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
         "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
         "--outdir", str(out), job.file.path],
        capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0 and "Error" not in result.stderr, result.stderr
    texts = {path.stem.rsplit("-", 1)[-1]: path.read_text(encoding="utf-8") for path in out.glob("*.csv")}
    assert set(texts) == set(SHEETS)
    assert "仅计入审核通过的填报" in texts["总体情况"]
    assert "\n=1+1," in texts["机构明细"] and "\n2," not in texts["机构明细"]  # shown as text, not computed
    assert "4302机构d,91" in texts["机构明细"]


@pytest.mark.django_db
def test_report_number_sheet_shows_each_quarter_of_the_year(population):
    from reports.models import ReportNumberBatch

    def batch(key, quarter, accepted, late=False, year=2025):
        ReportNumberBatch.objects.create(
            institution=population[key], year=year, quarter=quarter, status=ReportNumberBatch.Status.DONE,
            accepted=accepted, is_late=late,
        )

    batch("a", 1, 100)
    batch("d", 1, 40, late=True)
    batch("a", 2, 7)
    batch("g", 1, 999)  # another province
    batch("a", 1, 5000, year=2024)  # another year
    _notes, header, rows = table(build(reviewer()), "报告编号上传情况")
    assert header == (
        "季度", "应上传机构", "已上传机构", "其中按时", "其中逾期", "未上传机构", "上传报告编号（个）", "上传率",
    )
    quarters = [row for label, row in rows.items() if label != "全年合计"]
    assert [row[1:7] for row in quarters] == [
        (7, 2, 1, 1, 5, 140), (7, 1, 1, 0, 6, 7), (7, 0, 0, 0, 7, 0), (7, 0, 0, 0, 7, 0),
    ]
    assert quarters[0][7] == pytest.approx(2 / 7)
    assert rows["全年合计"][6] == 147


@pytest.mark.django_db
def test_report_number_sheet_says_so_when_the_data_is_unavailable(population, monkeypatch):
    from summaries import builders

    monkeypatch.setattr(builders, "_upload_status_source", lambda: None)
    _notes, _header, rows = table(build(reviewer()), "报告编号上传情况")
    assert list(rows) == ["报告编号数据暂不可用（报告编号模块未提供按季度统计）。"]


@pytest.mark.worker
def test_summary_is_built_by_a_real_celery_worker(transactional_db, celery_worker_process):
    import time

    from tests.summaries.conftest import make_population

    make_population()
    job = services.start_export(
        actor=reviewer(), kind="summary", region=factories.region("430000"), year=2025, include_submitted=True
    )
    seen = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        job.refresh_from_db()
        seen.append((job.status, job.progress))
        if job.is_finished:
            break
        time.sleep(0.1)
    assert job.status == "done", job.error
    assert seen[0][0] in ("pending", "running")  # it went through the broker, not in-process
    assert [p for _s, p in seen] == sorted(p for _s, p in seen)  # progress never goes back
    workbook = load_workbook(job.file.path)
    assert workbook.sheetnames == SHEETS
    assert table(workbook, "总体情况")[2]["机构数"][6] == 4


@pytest.mark.django_db
def test_overview_leaves_last_year_blank_when_there_was_nothing_to_compare(population):
    from filings.models import Filing

    Filing.objects.filter(year__year=2024).delete()
    rows = table(build(reviewer()), "总体情况")[2]
    assert rows["机构数"][2:] == (None, None, None, None, 2, None, None)


@pytest.mark.django_db
def test_a_city_with_nothing_counted_is_listed_with_zeros(population):
    xiangtan = factories.InstitutionFactory(city=factories.region("430300"))
    factories.make_filing(xiangtan, year=factories.ReportingYearFactory(year=2025), status="draft")
    rows = table(build(reviewer()), "按市州")[2]
    assert list(rows) == ["长沙市", "株洲市", "湘潭市", "合计"]
    assert rows["湘潭市"][1:] == (0,) * 8
    assert rows["合计"][1] == 2
