"""Storing an upload's numbers: the checked lines go through a temporary staging table of the connection — on
PostgreSQL by `COPY`, elsewhere by batched inserts (the portable path) — with the progress written to the batch's row
between segments, then into the year-partitioned numbers table by ONE set-based `INSERT … SELECT … ON CONFLICT DO
NOTHING` in one transaction (ADR 0002). `ensure_partition` creates a missing year's partition.
"""
import itertools
import time
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from . import ingest
from .models import ReportNumberBatch
from .rejects import RejectsWriter


class _Numbers:
    """The accepted numbers of a record stream, as the bytes of a COPY text stream (a file-like `read`); rejected
    lines go to the rejects file on the way."""

    BATCH = 4096

    def __init__(self, records, rejects: RejectsWriter):
        self.records = records
        self.rejects = rejects
        self.valid = 0
        self.error = None
        self.exhausted = False
        self.pause_at = None  # time.monotonic() after which read() ends the current COPY, so progress can be written
        self._sent = False
        self._iterator = None

    @property
    def lines(self) -> int:
        return self.valid + self.rejects.count

    def __iter__(self):
        add_rejection = self.rejects.add
        for item in self.records:
            if item.__class__ is str:
                self.valid += 1
                yield item
            else:
                add_rejection(item)

    def read(self, size: int = 65536) -> bytes:
        """About `size` bytes of "number\\n" lines (the driver sends whatever is returned; b"" ends the COPY)."""
        if self._iterator is None:
            self._iterator = iter(self)
        if self.pause_at is not None and self._sent and time.monotonic() >= self.pause_at:
            self.pause_at, self._sent = None, False  # each segment carries at least one batch
            return b""
        batch = []
        try:
            for number in self._iterator:
                batch.append(number)
                if len(batch) >= self.BATCH:
                    break
        except BaseException as error:
            self.error = error  # the driver reports it as a cancelled COPY; the caller raises it again
            raise
        if not batch:
            self.exhausted = True
            return b""
        batch.append("")
        self._sent = True
        return "\n".join(batch).encode("utf-8")


def ingest_file(batch: ReportNumberBatch, path: Path, *, portable: bool | None = None) -> ReportNumberBatch:
    """Check every line of `path` and store the accepted numbers for the batch. Raises FileRefused (nothing stored)
    for an unacceptable file. `portable` forces the path (default: COPY on PostgreSQL).

    The lines are checked into a temporary staging table of this connection, in segments of about
    PROGRESS_INTERVAL seconds between which the progress is written to the batch's row (so that the status page
    reads it from the database); then ONE transaction moves them into the numbers table and records the counts."""
    if portable is None:
        portable = connection.vendor != "postgresql"
    kind = ingest.kind_of(path.name)
    read = [0.0]

    def progress(fraction: float):  # called while a segment streams; written between segments
        read[0] = fraction

    ensure_partition(batch.year)
    rejects = RejectsWriter(batch.pk)
    try:
        encoding, records = ingest.read_records(path, kind, progress)
        numbers = _Numbers(records, rejects)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {_STAGING}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {_STAGING} (number varchar(64))" if portable
                else f'CREATE TEMPORARY TABLE {_STAGING} (number text COLLATE "C")'
            )
            try:
                for _segment in (_stage_portable if portable else _stage_copy)(cursor, numbers):
                    ReportNumberBatch.mark_progress(batch.pk, max(1, min(90, int(read[0] * 90))), "正在检查并写入编号")
                ReportNumberBatch.mark_progress(batch.pk, 91, "正在写入数据库")
                with transaction.atomic():
                    if connection.vendor == "postgresql":
                        cursor.execute("SET LOCAL work_mem = '256MB'")
                        # Uploads of one institution take turns, so that each one's counts are exact.
                        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7001, batch.institution_id])
                    if ReportNumberBatch.objects.filter(pk=batch.pk, status=ReportNumberBatch.Status.DONE).exists():
                        # A redelivered task whose first run finished meanwhile: keep that run's counts.
                        rejects.discard()
                        return ReportNumberBatch.objects.get(pk=batch.pk)
                    counts = (_store_portable if portable else _store_copy)(cursor, batch, numbers)
                    rejects_name = rejects.finish()
                    finished = timezone.now()
                    ReportNumberBatch.objects.filter(pk=batch.pk).update(
                        status=ReportNumberBatch.Status.DONE, progress=100, stage="已完成", finished_at=finished,
                        heartbeat_at=finished, encoding=ingest.ENCODING_LABELS.get(encoding, encoding),
                        lines=numbers.lines, rejected=rejects.count, rejects_file=rejects_name, **counts,
                    )
            finally:
                cursor.execute(f"DROP TABLE IF EXISTS {_STAGING}")
    except BaseException:
        rejects.discard()
        raise
    batch.refresh_from_db()
    return batch


_STAGING = "reports_staging"


def _cross_year_duplicates(cursor, batch) -> tuple[int, int]:
    """Remove from staging the numbers this institution already stored in another year: (rows, distinct numbers)."""
    cursor.execute(
        "SELECT 1 FROM reports_reportnumber WHERE institution_id = %s AND year <> %s LIMIT 1",
        [batch.institution_id, batch.year],
    )
    if cursor.fetchone() is None:
        return 0, 0
    cursor.execute(
        f"SELECT count(*), count(DISTINCT number) FROM {_STAGING} WHERE number IN "
        f"(SELECT number FROM reports_reportnumber WHERE institution_id = %s AND year <> %s)",
        [batch.institution_id, batch.year],
    )
    rows, distinct = cursor.fetchone()
    if rows:
        cursor.execute(
            f"DELETE FROM {_STAGING} WHERE number IN "
            f"(SELECT number FROM reports_reportnumber WHERE institution_id = %s AND year <> %s)",
            [batch.institution_id, batch.year],
        )
    return rows, distinct


def _counts(valid: int, removed: tuple[int, int], distinct_after: int, inserted: int) -> dict:
    return {
        "accepted": inserted,
        "duplicate_existing": removed[1] + (distinct_after - inserted),
        "duplicate_in_file": valid - removed[1] - distinct_after,
    }


def _stage_copy(cursor, numbers: _Numbers):
    """PostgreSQL: COPY the accepted numbers into the staging table, one COPY per segment; yields after each."""
    while not numbers.exhausted:
        numbers.pause_at = time.monotonic() + ReportNumberBatch.PROGRESS_INTERVAL
        with transaction.atomic():
            try:
                cursor.cursor.copy_expert(f"COPY {_STAGING} (number) FROM STDIN", numbers, size=65536)
            except Exception:
                if numbers.error is not None:
                    raise numbers.error from None
                raise
        yield


def _store_copy(cursor, batch, numbers: _Numbers) -> dict:
    """PostgreSQL: one set-based insert of the distinct staged numbers."""
    removed = _cross_year_duplicates(cursor, batch)
    cursor.execute(
        f"""WITH distinct_numbers AS MATERIALIZED (SELECT DISTINCT number FROM {_STAGING}),
                 inserted AS (
                     INSERT INTO reports_reportnumber (year, quarter, institution_id, batch_id, number)
                     SELECT %s, %s, %s, %s, number FROM distinct_numbers ORDER BY number
                     ON CONFLICT DO NOTHING RETURNING 1)
            SELECT (SELECT count(*) FROM distinct_numbers), (SELECT count(*) FROM inserted)""",
        [batch.year, batch.quarter, batch.institution_id, batch.pk],
    )
    distinct_after, inserted = cursor.fetchone()
    return _counts(numbers.valid, removed, distinct_after, inserted)


_PORTABLE_CHUNK = 5000


def _stage_portable(cursor, numbers: _Numbers):
    """Any database (the SQLite default): batched inserts into the staging table, one transaction per segment; yields
    after each. Slower than COPY, same result."""
    remaining = iter(numbers)
    while True:
        pause_at = time.monotonic() + ReportNumberBatch.PROGRESS_INTERVAL
        with transaction.atomic():
            while True:  # at least one chunk per segment
                chunk = [(number,) for number in itertools.islice(remaining, _PORTABLE_CHUNK)]
                if not chunk:
                    return
                cursor.executemany(f"INSERT INTO {_STAGING} (number) VALUES (%s)", chunk)
                if time.monotonic() >= pause_at:
                    break
        yield


def _store_portable(cursor, batch, numbers: _Numbers) -> dict:
    """Any database: the same set-based insert as _store_copy, in portable SQL."""
    removed = _cross_year_duplicates(cursor, batch)
    cursor.execute(f"SELECT count(DISTINCT number) FROM {_STAGING}")
    distinct_after = cursor.fetchone()[0]
    cursor.execute(
        f"INSERT INTO reports_reportnumber (year, quarter, institution_id, batch_id, number) "
        f"SELECT DISTINCT %s, %s, %s, %s, number FROM {_STAGING} WHERE 1 = 1 ON CONFLICT DO NOTHING",
        [batch.year, batch.quarter, batch.institution_id, batch.pk],
    )
    return _counts(numbers.valid, removed, distinct_after, cursor.rowcount)


def ensure_partition(year: int) -> None:
    """PostgreSQL: create the year's partition if it is missing (the migration creates 2015–2040)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f"reports_reportnumber_y{int(year)}"])
        if cursor.fetchone()[0] is None:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS reports_reportnumber_y{int(year)} PARTITION OF reports_reportnumber "
                f"FOR VALUES FROM ({int(year)}) TO ({int(year) + 1})"
            )
