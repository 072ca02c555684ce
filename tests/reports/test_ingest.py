"""Storing numbers: the COPY path on the real PostgreSQL and the portable path give the same results; duplicates are
counted, never stored twice; a refused file stores nothing."""
import csv
import io

import pytest
from django.db import connection

from reports import ingest, staging
from reports.ingest import FileRefused
from reports.models import ReportNumber, ReportNumberBatch
from tests import factories

PATHS = pytest.mark.parametrize("portable", [False, True], ids=["copy", "portable"])


@pytest.fixture
def institution(db):
    return factories.InstitutionFactory()


@pytest.fixture
def new_batch(institution):
    def make(year=2024, quarter=1, inst=None):
        return ReportNumberBatch.objects.create(institution=inst or institution, year=year, quarter=quarter)

    return make


def write(tmp_path, text, name="n.txt", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def stored(institution):
    return sorted(ReportNumber.objects.filter(institution=institution).values_list("number", flat=True))


def test_postgresql_table_is_partitioned_by_year(db):
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'reports_reportnumber'::regclass")
        assert cursor.fetchone() == ("r",)
        cursor.execute("SELECT to_regclass('reports_reportnumber_y2024') IS NOT NULL")
        assert cursor.fetchone() == (True,)


@PATHS
def test_counts_accepted_duplicates_and_rejected(tmp_path, new_batch, institution, portable):
    path = write(tmp_path, "报告编号\nA-1\nA-2\nA-1\nbad line\n\nA-3\nA-2\n", encoding="gbk")
    batch = staging.ingest_file(new_batch(), path, portable=portable)
    assert batch.status == "done" and batch.encoding == "GBK"
    counts = (batch.lines, batch.accepted, batch.duplicate_in_file, batch.duplicate_existing, batch.rejected)
    assert counts == (6, 3, 2, 0, 1)
    assert stored(institution) == ["A-1", "A-2", "A-3"]


@PATHS
def test_uploading_the_same_file_twice_adds_nothing(tmp_path, new_batch, institution, portable):
    path = write(tmp_path, "A-1\nA-2\nA-3\n")
    staging.ingest_file(new_batch(), path, portable=portable)
    again = staging.ingest_file(new_batch(), path, portable=portable)
    assert (again.accepted, again.duplicate_existing, again.duplicate_in_file) == (0, 3, 0)
    assert ReportNumber.objects.filter(institution=institution).count() == 3


def test_copy_and_portable_paths_store_the_same_rows(tmp_path, new_batch, institution):
    other = factories.InstitutionFactory()
    text = "\n".join(f"N-{i % 700}" for i in range(1000)) + "\n坏 行\n"
    copy_batch = staging.ingest_file(new_batch(), write(tmp_path, text), portable=False)
    portable_batch = staging.ingest_file(new_batch(inst=other), write(tmp_path, text, "m.txt"), portable=True)
    fields = ["lines", "accepted", "duplicate_in_file", "duplicate_existing", "rejected"]
    copy_counts = [getattr(copy_batch, f) for f in fields]
    assert copy_counts == [getattr(portable_batch, f) for f in fields] == [1001, 700, 300, 0, 1]
    assert stored(institution) == stored(other)


@PATHS
def test_a_number_stored_in_another_year_is_a_duplicate(tmp_path, new_batch, institution, portable):
    staging.ingest_file(new_batch(year=2023, quarter=4), write(tmp_path, "A-1\nA-2\n"), portable=portable)
    batch = staging.ingest_file(
        new_batch(year=2024, quarter=1), write(tmp_path, "A-1\nA-1\nB-1\n", "m.txt"), portable=portable
    )
    assert (batch.accepted, batch.duplicate_existing, batch.duplicate_in_file) == (1, 1, 1)
    assert stored(institution) == ["A-1", "A-2", "B-1"]


def test_the_same_number_of_two_institutions_is_kept_for_both(tmp_path, new_batch, institution):
    other = factories.InstitutionFactory()
    staging.ingest_file(new_batch(), write(tmp_path, "A-1\n"))
    batch = staging.ingest_file(new_batch(inst=other), write(tmp_path, "A-1\n", "m.txt"))
    assert batch.accepted == 1
    assert ReportNumber.objects.filter(number="A-1").count() == 2


@PATHS
def test_a_file_refused_midway_stores_nothing(tmp_path, new_batch, institution, monkeypatch, portable):
    monkeypatch.setattr(ingest, "MAX_LINES", 10)
    path = write(tmp_path, "\n".join(f"A-{i}" for i in range(11)))
    batch = new_batch()
    with pytest.raises(FileRefused):
        staging.ingest_file(batch, path, portable=portable)
    assert ReportNumber.objects.count() == 0
    batch.refresh_from_db()
    assert batch.status == "pending" and batch.accepted == 0


def test_rejected_lines_file_lists_line_number_content_and_reason_with_formulas_neutralised(tmp_path, new_batch):
    path = write(tmp_path, 'A-1\n=HYPERLINK("http://evil","x")\nB\u200bC\n' + "Z" * 10_000 + "\n")
    batch = staging.ingest_file(new_batch(), path)
    assert batch.rejected == 3
    content = batch.rejects_file.open("rb").read().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0] == ["行号", "内容", "原因"]
    assert [row[0] for row in rows[1:]] == ["2", "3", "4"]
    assert rows[1][1].startswith("'=HYPERLINK") and "“=”" in rows[1][2]
    assert "不可见字符" in rows[2][2]
    assert "共10000个" in rows[3][2] and len(rows[3][1]) <= 101


def test_no_rejects_file_when_every_line_is_good(tmp_path, new_batch):
    batch = staging.ingest_file(new_batch(), write(tmp_path, "A-1\n"))
    assert batch.rejected == 0 and not batch.rejects_file


def test_xlsx_upload_goes_through_the_same_path(tmp_path, new_batch, institution):
    import openpyxl

    workbook = openpyxl.Workbook()
    for row in (["检验检测报告编号"], ["X-1"], ["X-2"], ["X-1"]):
        workbook.active.append(row)
    path = tmp_path / "n.xlsx"
    workbook.save(path)
    batch = staging.ingest_file(new_batch(), path)
    assert (batch.accepted, batch.duplicate_in_file, batch.encoding) == (2, 1, "XLSX")


def test_a_second_run_of_a_finished_batch_keeps_the_first_runs_counts(tmp_path, new_batch):
    path = write(tmp_path, "A-1\nA-2\n")
    batch = new_batch()
    staging.ingest_file(batch, path)
    again = staging.ingest_file(batch, path)
    assert (again.accepted, again.duplicate_existing) == (2, 0)
