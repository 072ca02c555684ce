"""待办摘要 and 催报情况 (issue 14 §5).

`build_digest(user)` is the one digest of an officer: the page, the e-mail sent on demand and the weekly e-mail all
render it. A city officer's lists, in their city, what needs them — institutions not handed in (review.selectors.
late_filers), missing report-number uploads of the last ended quarter (reports.selectors.missing_uploads), open
complaints and pending extension requests; a provincial reviewer's lists the province's lagging cities and the
extension requests it decides. Each is the existing read, never a second count of the same thing. A section with
nothing is left out and a digest with nothing at all is not sent.

Weekly sending claims one `Digest` row per officer and ISO week before sending (as review/reminders.py claims
reminders): the database's constraint holds the week, so a second run sends nothing, and a run after a crash sends
what is still pending and claims the rest.

`chasing_activity(user, year, province)` is 催报情况: per city of a province, reminders sent, contacts logged, last
chasing activity and completeness (filings.progress) against the province's; a city lagging by at least
LAG_MARGIN_POINTS within LAG_WARNING_DAYS before the deadline is flagged 落后.
"""
import datetime
import logging
from dataclasses import dataclass, field
from fractions import Fraction

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts import permissions
from accounts.scoping import visible_to
from config.jobs import MAIL_FAULTS, send_task
from config.refusals import DomainRefusal
from filings.progress import filing_progress_by_city, progress_label, progress_totals
from filings.selectors import current_year, days_left, pending_extension_requests
from institutions.models import Institution
from reports.quarters import recent_quarters
from reports.selectors import missing_uploads, open_complaints

from . import selectors
from .models import ChasingRecord, Digest, DigestPreference, Reminder
from .reminders import is_transient

log = logging.getLogger(__name__)

ROWS_SHOWN = 20  # rows of a section in the digest; its page lists them all
ON_DEMAND_GAP_SECONDS = 60  # 发送到我的邮箱 once a minute: a double click sends one e-mail


class DigestRefused(DomainRefusal):
    """A digest that is not sent on demand (nothing in it, no e-mail address, sent a moment ago)."""


@dataclass(frozen=True)
class Line:
    name: str
    detail: str = ""
    url: str = ""


@dataclass
class Section:
    key: str
    title: str
    count: int
    lines: list
    url: str
    link_label: str

    @property
    def more(self) -> int:
        return self.count - len(self.lines)


@dataclass
class DigestContent:
    scope: str
    sections: list = field(default_factory=list)
    warning: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.sections


def iso_week(day) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _section(key, title, rows, url, link_label, line) -> Section | None:
    count = rows.count()
    if not count:
        return None
    return Section(key, title, count, [line(row) for row in rows[:ROWS_SHOWN]], url, link_label)


def _late_filers(user, year) -> Section | None:
    left = days_left(year)
    when = "" if left is None else (f"（距截止 {left} 天）" if left >= 0 else "（已截止）")

    def line(row):
        deadline = timezone.localtime(selectors.late_filer_deadline(row, year).at)
        chased = f"，最近催报 {row.last_chased:%m月%d日}" if row.last_chased else "，尚未催报"
        return Line(row.name, f"{progress_label(row.filing_status)}，截止 {deadline:%Y年%m月%d日}{chased}",
                    reverse("review:chasing", args=[row.pk]))

    return _section("late_filers", f"{year}未提交的机构{when}", selectors.late_filers(user, year),
                    reverse("review:late_filers"), "未提交机构", line)


def _missing_uploads(user) -> Section | None:
    quarter = recent_quarters(1)[0]

    def line(row):
        reminded = f"已于{timezone.localtime(row.reminded_at):%m月%d日}提醒" if row.reminded_at else "尚未提醒"
        return Line(row.name, reminded)

    return _section("missing_uploads", f"{quarter.label}报告编号未上传（应于{quarter.due_by:%Y年%m月%d日}前上传）",
                    missing_uploads(user, quarter), f"{reverse('reports:missing')}?quarter={quarter.code}",
                    "报告编号上传情况", line)


def _complaints(user) -> Section | None:
    def line(complaint):
        return Line(complaint.institution_text, f"报告编号 {complaint.report_number}，"
                    f"{timezone.localtime(complaint.created_at):%m月%d日}提交",
                    reverse("reports:complaint", args=[complaint.pk]))

    return _section("complaints", "待处理的报告编号投诉", open_complaints(user), reverse("reports:complaints"),
                    "编号投诉", line)


def _extension_requests(user) -> Section | None:
    def line(request):
        return Line(request.filing.institution.name,
                    f"申请延期至 {timezone.localtime(request.requested_until):%Y年%m月%d日}"
                    + ("，已提出意见" if request.officer_comment_by_id else ""))

    return _section("extension_requests", "待处理的延期申请", pending_extension_requests(user),
                    reverse("filings:extension_requests"), "延期申请", line)


def _lagging_cities(user, year) -> tuple[Section | None, str]:
    activity = chasing_activity(user, year, user.region)
    lagging = [row for row in activity.rows if row["lagging"]]
    if not lagging:
        return None, ""
    lines = [Line(row["city"], f"提交率 {row['completion']:.1f}%，低于全省 {row['gap']:.1f} 个百分点；"
                  f"本年度已发催报邮件 {row['reminders_sent']} 封，记录联系 {row['contacts']} 次") for row in lagging]
    section = Section("lagging_cities", f"提交率落后于全省的市州（全省 {activity.province_completion:.1f}%）",
                      len(lagging), lines, reverse("review:chasing_activity"), "催报情况")
    return section, activity.warning


def build_digest(user, *, now=None) -> DigestContent:
    """The user's 待办摘要: the sections that have something in them, each with its count and first rows."""
    if not permissions.can_view_digest(user):
        raise PermissionDenied("只有市州局人员和省局审核人员有待办摘要。")
    year = current_year(now)
    digest = DigestContent(scope=user.region.name)
    sections = []
    if permissions.can_view_city_digest(user):
        if year is not None:
            sections.append(_late_filers(user, year))
        sections += [_missing_uploads(user), _complaints(user)]
    if permissions.can_view_province_digest(user) and year is not None:
        lagging, digest.warning = _lagging_cities(user, year)
        sections.append(lagging)
    if permissions.can_handle_extension_requests(user):
        sections.append(_extension_requests(user))
    digest.sections = [section for section in sections if section is not None]
    return digest


# --- 催报情况 -----------------------------------------------------------------------------------------------------

@dataclass
class ChasingActivity:
    rows: list
    province_completion: float
    in_window: bool
    warning: str


def lag_window_open(year, now=None) -> bool:
    """Whether the lag warning applies: from LAG_WARNING_DAYS days before the window's close (filings.selectors.
    days_left) to its last day."""
    left = days_left(year, now)
    return left is not None and 0 <= left <= settings.LAG_WARNING_DAYS


def _rate(handed_in, total) -> Fraction:
    return Fraction(handed_in, total) if total else Fraction(0)


def is_lagging(city_row, province_totals) -> bool:
    """A city lags when its handed-in rate is at least LAG_MARGIN_POINTS below the province's (exact fractions: 15
    points is 15, not 14.999…)."""
    province = _rate(province_totals["handed_in"], province_totals["total"])
    return (province - _rate(city_row["handed_in"], city_row["total"])) * 100 >= settings.LAG_MARGIN_POINTS


def chasing_activity(user, year, province, *, now=None) -> ChasingActivity:
    """Per city of `province` in the user's scope: completeness (filings.progress), the year's filing reminders sent
    (by hand and automatic), contacts logged other than those e-mails, the last chasing activity, and whether it lags
    the province. Three grouped queries whatever the number of cities."""
    institutions = visible_to(user, Institution).filter(city__parent=province)
    rows = filing_progress_by_city(institutions, year)
    province_totals = progress_totals(rows)
    filing_reminders = Q(reason__in=[Reminder.Reason.CHASE, Reminder.Reason.DEADLINE]) & (
        Q(key=str(year.year)) | Q(key__startswith=f"{year.year}/")
    )
    reminders = {
        row["institution__city_id"]: row for row in
        visible_to(user, Reminder).filter(filing_reminders, status=Reminder.Status.SENT,
                                          institution__city__parent=province)
        .values("institution__city_id").order_by().annotate(sent=Count("pk"), last=Max("sent_at"))
    }
    contacts = {
        row["institution__city_id"]: row for row in
        visible_to(user, ChasingRecord).filter(year=year.year, institution__city__parent=province)
        .values("institution__city_id").order_by()
        .annotate(logged=Count("pk", filter=~Q(channel=ChasingRecord.Channel.EMAIL)), last=Max("contacted_on"))
    }
    in_window = lag_window_open(year, now)
    province_completion = (province_totals["handed_in_rate"] or 0) * 100
    for row in rows:
        sent = reminders.get(row["city_id"], {})
        logged = contacts.get(row["city_id"], {})
        last = [day for day in (sent.get("last") and timezone.localtime(sent["last"]).date(), logged.get("last"))
                if day]
        row.update(
            reminders_sent=sent.get("sent", 0), contacts=logged.get("logged", 0),
            last_activity=max(last) if last else None, completion=(row["handed_in_rate"] or 0) * 100,
        )
        row["gap"] = province_completion - row["completion"]
        row["lagging"] = in_window and is_lagging(row, province_totals)
    warning = ""
    lagging = [row["city"] for row in rows if row["lagging"]]
    if lagging:
        left = days_left(year, now)
        warning = (f"距{year}填报截止还有 {left} 天，{'、'.join(lagging)}的提交率落后全省"
                   f" {settings.LAG_MARGIN_POINTS} 个百分点以上，请督促加快催报。")
    return ChasingActivity(rows, province_completion, in_window, warning)


# --- sending -------------------------------------------------------------------------------------------------------

def _letter(user, digest: DigestContent) -> tuple[str, str]:
    subject = f"【质检统计直报】{digest.scope}待办摘要：{sum(section.count for section in digest.sections)} 项待处理"
    body = render_to_string("review/email/digest.txt", {"user": user, "digest": digest, "site_name": "质检统计直报"})
    return subject[:200], body


def is_subscribed(user) -> bool:
    preference = DigestPreference.objects.filter(user=user).first()
    return preference is None or preference.weekly


def set_subscription(user, *, weekly: bool) -> DigestPreference:
    """Opt out of the weekly digest, or back in (the page and the on-demand e-mail stay)."""
    if not permissions.can_view_digest(user):
        raise PermissionDenied("只有市州局人员和省局审核人员有待办摘要。")
    preference, _ = DigestPreference.objects.update_or_create(
        user=user, defaults={"weekly": weekly, "changed_at": timezone.now()}
    )
    return preference


def send_now(user) -> Digest:
    """发送到我的邮箱: the digest as it stands, to the user's own address, sent once the claim commits."""
    if not permissions.can_view_digest(user):
        raise PermissionDenied("只有市州局人员和省局审核人员有待办摘要。")
    if not user.email:
        raise DigestRefused("您的账号未登记电子邮箱，无法发送；请联系管理员补充。")
    digest = build_digest(user)
    if digest.is_empty:
        raise DigestRefused("目前没有需要您处理的事项，未发送邮件。")
    now = timezone.now()
    with transaction.atomic():
        # The lock on the user's row orders two presses at once: the second sees the first's row.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        recent = Digest.objects.filter(user=user, kind=Digest.Kind.ON_DEMAND,
                                       created_at__gt=now - datetime.timedelta(seconds=ON_DEMAND_GAP_SECONDS))
        if recent.exists():
            raise DigestRefused("刚刚已发送过待办摘要，请稍后查收邮件。")
        subject, body = _letter(user, digest)
        row = Digest.objects.create(user=user, kind=Digest.Kind.ON_DEMAND, week=iso_week(timezone.localdate()),
                                    email=user.email, subject=subject, body=body, created_at=now)
        _send_on_commit(row.pk)
    return row


def _send_on_commit(pk):
    from .tasks import send_digest  # tasks.py imports this module

    transaction.on_commit(lambda: send_task(send_digest, pk))


def send_weekly(today=None) -> list[int]:
    """The weekly run (beat): claim this ISO week's digest of every officer who has not opted out, and send the
    claimed ones on commit; the ids of the rows queued. A week already claimed is left alone, unless its e-mail is
    still pending (a run that crashed before sending it), which is queued again; the send sends a row once."""
    today = today or timezone.localdate()
    week = iso_week(today)
    opted_out = DigestPreference.objects.filter(weekly=False).values("user_id")
    recipients = (get_user_model().objects.filter(permissions.digest_recipients_q()).exclude(pk__in=opted_out)
                  .exclude(email="").select_related("region").order_by("pk"))
    claimed = dict(Digest.objects.filter(kind=Digest.Kind.WEEKLY, week=week).values_list("user_id", "status"))
    queued = []
    for user in recipients:
        status = claimed.get(user.pk)
        if status == Digest.Status.PENDING:
            queued += Digest.objects.filter(user=user, kind=Digest.Kind.WEEKLY, week=week).values_list("pk", flat=True)
            continue
        if status is not None:
            continue
        row = _claim_week(user, week)
        if row is not None and row.status == Digest.Status.PENDING:
            queued.append(row.pk)
    for pk in queued:
        _send_on_commit(pk)
    return queued


def _claim_week(user, week) -> Digest | None:
    """The user's digest of `week`, claimed now (pending, or empty when nothing needs them); None when another run
    claimed it first."""
    digest = build_digest(user)
    fields = {"status": Digest.Status.EMPTY}
    if not digest.is_empty:
        subject, body = _letter(user, digest)
        fields = {"status": Digest.Status.PENDING, "email": user.email, "subject": subject, "body": body}
    try:
        with transaction.atomic():
            return Digest.objects.create(user=user, kind=Digest.Kind.WEEKLY, week=week, **fields)
    except IntegrityError:
        return None


def send(digest_id: int, *, last_attempt: bool = False) -> Digest:
    """Send one claimed digest and mark it sent once the mail server accepted it; a row no longer pending is left
    alone (a duplicate task sends nothing). A transient fault is raised for the task to retry unless `last_attempt`;
    a permanent one, or the last attempt, marks it failed."""
    try:
        with transaction.atomic():
            row = Digest.objects.select_for_update().get(pk=digest_id)
            if row.status != Digest.Status.PENDING:
                return row
            EmailMultiAlternatives(subject=row.subject, body=row.body, from_email=settings.DEFAULT_FROM_EMAIL,
                                   to=[row.email]).send(fail_silently=False)
            row.status, row.sent_at, row.error = Digest.Status.SENT, timezone.now(), ""
            row.save(update_fields=["status", "sent_at", "error"])
            return row
    except MAIL_FAULTS as exc:
        if is_transient(exc) and not last_attempt:
            raise
        log.warning("digest %s not sent: %s: %s", digest_id, exc.__class__.__name__, exc)
        Digest.objects.filter(pk=digest_id, status=Digest.Status.PENDING).update(
            status=Digest.Status.FAILED, error=f"{exc.__class__.__name__}: {exc}"[:500]
        )
        return Digest.objects.get(pk=digest_id)
