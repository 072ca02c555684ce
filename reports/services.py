"""Changing report-number state: uploads and their ingest, LIMS tokens, complaints, reminders.

An upload is stored as a file and a pending batch; a Celery task (tasks.py) calls `run_upload`, which streams the file
through the line checks into a temporary staging table of its connection — on PostgreSQL by `COPY`, elsewhere by
batched inserts (the portable path) — writing the progress to the batch's row between segments, then stores the
numbers in ONE transaction by one set-based `INSERT … SELECT … ON CONFLICT DO NOTHING`. A refused file stores
nothing; uploading the same file again adds nothing.
"""
import csv
import datetime
import itertools
import logging
import os
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import timezone

from accounts import permissions
from accounts.scoping import visible_to
from config.refusals import DomainRefusal
from config.uploads import visible
from institutions.models import Institution, Region
from review import reminders
from review.models import Reminder

from . import ingest
from .ingest import FileRefused
from .models import ApiToken, Complaint, ReportNumberBatch, hash_token
from .quarters import EARLIEST_YEAR, Quarter

log = logging.getLogger(__name__)

TOKEN_LIFETIME_DAYS = 365


class UploadRefused(DomainRefusal):
    """An upload (or a batch's retry or rejects file) that is not allowed; the message is for the user."""


# --- uploads ------------------------------------------------------------------------------------------------------

def check_quarter(quarter: Quarter, now=None) -> None:
    if quarter.year < EARLIEST_YEAR:
        raise UploadRefused(f"只能上传 {EARLIEST_YEAR} 年以后的季度。")
    if not quarter.has_ended(now):
        raise UploadRefused(f"{quarter.label}尚未结束，不能上传；季度结束后的次月内上传上一季度的报告编号。")


def upload_directory() -> Path:
    path = Path(settings.MEDIA_ROOT) / "report_uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _store(source, suffix: str) -> Path:
    """Copy an uploaded file (or bytes) to the upload directory in chunks; refuse it past the size limit."""
    target = upload_directory() / f"{uuid.uuid4().hex}.{suffix}"
    written = 0
    try:
        with target.open("wb") as out:
            chunks = [source] if isinstance(source, bytes) else source.chunks()
            for chunk in chunks:
                written += len(chunk)
                if written > ingest.MAX_BYTES:
                    raise FileRefused(f"文件超过 {ingest.MAX_BYTES // 1024 // 1024} MB，请分成几个文件上传。")
                out.write(chunk)
        return target
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def start_upload(*, institution, quarter: Quarter, source, name: str, actor=None, token=None) -> ReportNumberBatch:
    """Accept a file (an UploadedFile, or bytes for the JSON API) for `institution` and `quarter` and queue its ingest.

    Web uploads come from a filer of that very institution; API uploads from an active token of it."""
    if token is not None:
        if not token.is_active or token.institution_id != institution.pk:
            raise PermissionDenied("令牌无效。")
        source_kind = ReportNumberBatch.Source.API
    else:
        if not permissions.can_upload_report_numbers(actor, institution):
            raise PermissionDenied("只能由本机构的填报人上传本机构的报告编号。")
        source_kind = ReportNumberBatch.Source.WEB
    check_quarter(quarter)
    try:
        kind = ingest.kind_of(name)
        path = _store(source, kind)
        try:
            ingest.sniff(path, kind)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    except FileRefused as refusal:
        raise UploadRefused(refusal.message) from refusal
    now = timezone.now()
    try:
        with transaction.atomic():
            batch = ReportNumberBatch.objects.create(
                institution=institution, year=quarter.year, quarter=quarter.quarter, source=source_kind,
                uploaded_by=actor, token=token, original_name=visible(Path(name).name)[:255],
                file_size=path.stat().st_size,
                upload=str(path.relative_to(settings.MEDIA_ROOT)), created_at=now, is_late=quarter.is_late_at(now),
                stage="等待处理",
            )
            from .tasks import ingest_report_numbers

            transaction.on_commit(lambda: ingest_report_numbers.delay(batch.pk))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return batch


def retry_upload(batch: ReportNumberBatch, *, actor) -> ReportNumberBatch:
    """Queue again a batch that is stale (its message or worker was lost) or that failed by a fault while its file is
    still there. The ingest is one transaction that leaves a finished batch alone, so a late first run adds nothing."""
    if not permissions.can_upload_report_numbers(actor, batch.institution_id):
        raise PermissionDenied("只能重新处理本机构的上传。")
    with transaction.atomic():
        batch = ReportNumberBatch.objects.select_for_update().get(pk=batch.pk)
        if not (batch.is_stale or batch.status == ReportNumberBatch.Status.FAILED):
            raise UploadRefused("只有失败或已中断的上传可以重新处理。")
        if not (Path(settings.MEDIA_ROOT) / batch.upload.name).exists():
            raise UploadRefused("上传的文件已不存在，请重新上传。")
        batch.status, batch.progress, batch.stage, batch.error = ReportNumberBatch.Status.PENDING, 0, "等待处理", ""
        batch.heartbeat_at = timezone.now()  # queued again now: not stale again at once
        batch.save(update_fields=["status", "progress", "stage", "error", "heartbeat_at"])
        from .tasks import ingest_report_numbers

        transaction.on_commit(lambda: ingest_report_numbers.delay(batch.pk))
    return batch


def run_upload(batch_id: int) -> None:
    """Ingest a pending batch. Safe to run again (a retried or redelivered task): a finished batch is left alone, and
    the ingest is one transaction, so a crash leaves nothing behind."""
    with transaction.atomic():
        batch = ReportNumberBatch.objects.select_for_update().get(pk=batch_id)
        if batch.is_finished:
            return
        now = timezone.now()
        batch.status, batch.started_at, batch.heartbeat_at = ReportNumberBatch.Status.RUNNING, now, now
        batch.attempts += 1
        batch.progress, batch.stage, batch.error = 1, "正在检查文件", ""
        batch.save(update_fields=["status", "started_at", "heartbeat_at", "attempts", "progress", "stage", "error"])
    path = Path(settings.MEDIA_ROOT) / batch.upload.name
    try:
        ingest_file(batch, path)
    except FileRefused as refusal:
        mark_failed(batch_id, str(refusal))
        path.unlink(missing_ok=True)
        return
    path.unlink(missing_ok=True)


def mark_failed(batch_id: int, message: str) -> None:
    ReportNumberBatch.mark_failed(
        batch_id, message, accepted=0, duplicate_in_file=0, duplicate_existing=0, rejected=0, lines=0, rejects_file="",
    )


def _safe_cell(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _RejectsWriter:
    """The rejected lines, as a CSV (UTF-8 with BOM, so that Excel opens it) written while the file is read."""

    def __init__(self, batch_id: int):
        directory = Path(settings.MEDIA_ROOT) / "report_rejects"
        directory.mkdir(parents=True, exist_ok=True)
        self.name = f"report_rejects/{batch_id}-{uuid.uuid4().hex[:8]}.csv"
        self.path = Path(settings.MEDIA_ROOT) / self.name
        self.partial = self.path.with_suffix(".csv.part")
        self.handle = self.partial.open("w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.handle)
        self.writer.writerow(["行号", "内容", "原因"])
        self.count = 0

    def add(self, record) -> None:
        self.count += 1
        # Control and invisible characters are written as \uXXXX: the filer sees what was sent, and nothing in the
        # file can hide, reorder (a bidi override) or split the text around it.
        text = visible(record.text[:100]) + ("…" if len(record.text) > 100 else "")
        self.writer.writerow([record.line, _safe_cell(text), visible(record.reason)])

    def finish(self) -> str:
        self.handle.close()
        if not self.count:
            self.partial.unlink(missing_ok=True)
            return ""
        os.replace(self.partial, self.path)
        return self.name

    def discard(self) -> None:
        self.handle.close()
        self.partial.unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)


class _Numbers:
    """The accepted numbers of a record stream, as the bytes of a COPY text stream (a file-like `read`); rejected
    lines go to the rejects file on the way."""

    BATCH = 4096

    def __init__(self, records, rejects: _RejectsWriter):
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
    rejects = _RejectsWriter(batch.pk)
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


def open_rejects(batch: ReportNumberBatch, *, actor):
    if not visible_to(actor, ReportNumberBatch).filter(pk=batch.pk).exists():
        raise PermissionDenied("您无权下载该文件。")
    if not batch.rejects_file:
        raise UploadRefused("该批次没有不合格行。")
    return batch.rejects_file.open("rb")


# --- LIMS tokens --------------------------------------------------------------------------------------------------

def _check_token_owner(actor, institution):
    if not permissions.can_manage_tokens(actor, institution):
        raise PermissionDenied("只有本机构的填报人可以管理接口令牌。")


def create_token(*, actor, institution, name: str, days: int = TOKEN_LIFETIME_DAYS) -> tuple[ApiToken, str]:
    """A new token for the institution's LIMS; returns (token, raw value). Only the hash is stored."""
    _check_token_owner(actor, institution)
    name = (name or "").strip()
    if not name:
        raise TokenRefused("请填写令牌用途（例如“LIMS 自动上传”）。")
    if not 1 <= days <= 3 * 365:
        raise TokenRefused("有效期应在 1 天到 3 年之间。")
    active = ApiToken.objects.filter(institution=institution, revoked_at__isnull=True, expires_at__gt=timezone.now())
    if active.count() >= 10:
        raise TokenRefused("有效令牌已达 10 个，请先吊销不用的令牌。")
    raw = ApiToken.generate()
    token = ApiToken.objects.create(
        institution=institution, name=name[:100], token_hash=hash_token(raw), hint=raw[-4:], created_by=actor,
        expires_at=timezone.now() + datetime.timedelta(days=days),
    )
    return token, raw


def revoke_token(token: ApiToken, *, actor) -> ApiToken:
    _check_token_owner(actor, token.institution)
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at, token.revoked_by = timezone.now(), actor
            token.save(update_fields=["revoked_at", "revoked_by"])
    return token


class TokenRefused(DomainRefusal):
    """A token that cannot be created, or a missing, unknown, expired or revoked one (401 for the LIMS operator)."""


def authenticate_token(raw: str) -> ApiToken:
    raw = (raw or "").strip()
    if not raw:
        raise TokenRefused("缺少接口令牌：请在请求头中加入 Authorization: Bearer <令牌>。", status=401)
    token = ApiToken.objects.select_related("institution").filter(token_hash=hash_token(raw)).first()
    if token is None:
        raise TokenRefused("接口令牌无效，请核对令牌或在本单位信息页重新创建。", status=401)
    if token.revoked_at is not None:
        raise TokenRefused(
            f"接口令牌已于 {timezone.localtime(token.revoked_at):%Y-%m-%d %H:%M} 吊销，请在本单位信息页创建新令牌。",
            status=401,
        )
    if token.expires_at <= timezone.now():
        raise TokenRefused(
            f"接口令牌已于 {timezone.localtime(token.expires_at):%Y-%m-%d %H:%M} 过期，请在本单位信息页创建新令牌。",
            status=401,
        )
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token


# --- complaints ---------------------------------------------------------------------------------------------------

class ComplaintRefused(DomainRefusal):
    """A complaint that cannot be filed or handled as asked; the message is for the visitor or the officer."""


def find_institution(text: str):
    """The institution whose full name or unified social credit code is exactly `text`, if exactly one."""
    text = (text or "").strip()
    if not text:
        return None
    matches = list(Institution.objects.filter(credit_code=text.upper()).select_related("city")[:2])
    if not matches:
        matches = list(Institution.objects.filter(name=text).select_related("city")[:2])
    return matches[0] if len(matches) == 1 else None


def file_complaint(*, report_number: str, institution_text: str, description: str, contact: str, city=None,
                   client_address: str | None = None) -> Complaint:
    """Record a visitor's complaint and route it to the officers of the institution's city (or of the city the
    visitor chose when the institution is not in the register)."""
    institution = find_institution(institution_text)
    if institution is not None:
        city = institution.city
    if city is None:
        raise ComplaintRefused("未在名录中找到该机构：请核对机构全称或统一社会信用代码，或选择机构所在市州。")
    if city.level != Region.Level.CITY:
        raise ComplaintRefused("请选择机构所在的市州。")
    with transaction.atomic():
        complaint = Complaint.objects.create(
            report_number=report_number.strip()[:64], institution=institution,
            institution_text=institution_text.strip()[:200], city=city, description=description.strip()[:2000],
            contact=contact.strip()[:100], client_address=client_address,
        )
        from .tasks import notify_complaint

        transaction.on_commit(lambda: notify_complaint.delay(complaint.pk))
    return complaint


def complaint_recipients(complaint: Complaint) -> list[str]:
    from accounts.models import User

    return list(
        User.objects.complaint_handlers(complaint.city_id)
        .exclude(email="").order_by("pk").values_list("email", flat=True)
    )


def send_complaint_notice(complaint_id: int) -> int:
    complaint = Complaint.objects.select_related("city").get(pk=complaint_id)
    recipients = complaint_recipients(complaint)
    if not recipients:
        log.warning("complaint %s: no city officer of %s has an e-mail address", complaint.pk, complaint.city)
        return 0
    send_mail(
        subject=f"【质检统计直报】报告编号投诉：{complaint.report_number}",
        message=(
            f"{complaint.city.name}市场监管部门：\n\n公众对以下检验检测报告提出投诉，请登录质检统计直报系统"
            f"（报告编号 → 投诉处理）查看并处理。\n\n报告编号：{complaint.report_number}\n"
            f"机构：{complaint.institution_text}\n提交时间：{timezone.localtime(complaint.created_at):%Y-%m-%d %H:%M}\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=recipients, fail_silently=False,
    )
    return len(recipients)


def handle_complaint(complaint: Complaint, *, actor, note: str) -> Complaint:
    if not permissions.can_handle_complaint(actor, complaint):
        raise PermissionDenied("只有受理市州的市州局人员可以处理该投诉。")
    note = (note or "").strip()
    if not note:
        raise ComplaintRefused("请填写处理情况。")
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
        if complaint.status == Complaint.Status.HANDLED:
            raise ComplaintRefused("该投诉已处理。")
        complaint.status, complaint.handled_by, complaint.handled_at = Complaint.Status.HANDLED, actor, timezone.now()
        complaint.handling_note = note[:2000]
        complaint.save(update_fields=["status", "handled_by", "handled_at", "handling_note"])
    return complaint


# --- reminders ----------------------------------------------------------------------------------------------------

def upload_reminder_letter(institution, quarter: Quarter) -> reminders.Letter:
    """The e-mail asking `institution` to upload the numbers of `quarter` (not a 催报: no 催报记录 entry)."""
    return reminders.Letter(
        subject=f"【质检统计直报】请上传{quarter.label}检验检测报告编号",
        body=(
            f"{institution.name}：\n\n系统显示贵单位尚未上传{quarter.label}出具的检验检测报告编号。"
            f"按规定应于{quarter.due_by:%Y年%m月%d日}前上传，请登录质检统计直报系统（报告编号 → 上传）尽快上传。\n"
        ),
    )


def remind_missing(institutions, *, actor, quarter: Quarter) -> dict:
    """Send each institution (with no upload for `quarter`) a reminder e-mail through the one reminder mechanism
    (review/reminders.py): those without an address are recorded and named; one reminded today already is skipped.
    Returns {"sent": [...], "without_email": [...], "already_today": [...]}."""
    if not permissions.can_send_reminders(actor):
        raise PermissionDenied("您无权发送上传提醒。")
    check_quarter(quarter)
    ids = [institution.pk for institution in institutions]
    allowed = set(visible_to(actor, Institution).filter(pk__in=ids).values_list("pk", flat=True))
    if allowed != set(ids):
        raise PermissionDenied("只能提醒本辖区的机构。")
    claimed = reminders.claim(
        institutions, reason=Reminder.Reason.UPLOAD, key=quarter.code, sent_by=actor,
        compose=lambda institution: upload_reminder_letter(institution, quarter),
    )
    for institution in claimed.without_email:
        log.info("upload reminder for %s (%s): no e-mail address, recorded only", institution.pk, quarter.code)
    return {"sent": claimed.queued, "without_email": claimed.without_email, "already_today": claimed.already_today}
