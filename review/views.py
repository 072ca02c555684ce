from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts import permissions
from accounts.scoping import visible_to
from config.refusals import refusal_as_message
from filings import services as filing_services, workflow
from filings.models import Extension, Filing, ReportingYear
from filings.progress import PROGRESS_LABELS, PROGRESS_STATES, RULE_TEXT
from filings.selectors import current_year, days_left, deadline_of, filing_deadline, latest_extension
from institutions.models import Institution, Region

from . import digests, exports, selectors, services
from .diff import field_choices
from .forms import ChasingForm, DecisionForm, ExtensionForm, QueueFilter, ReturnForm

PAGE_SIZE = 30


def _require(allowed, message):
    if not allowed:
        raise PermissionDenied(message)


def _require_reviewer(user):
    _require(permissions.can_review(user), "只有审核人员可以使用审核功能。")


def _require_progress_viewer(user):
    _require(permissions.can_view_progress(user), "只有监管人员可以查看填报进度。")


def _year(request, params=None):
    params = request.GET if params is None else params
    year = None
    if params.get("year", "").isdigit():
        year = ReportingYear.objects.filter(year=int(params["year"])).first()
    return year or current_year()


def _local_url(value, fallback):
    """`value` if it is a path on this site (no scheme, no host: a redirect never leaves the portal), else fallback."""
    if value and value.startswith("/") and url_has_allowed_host_and_scheme(value, allowed_hosts=None):
        return value
    return fallback


# --- review queue and screen -------------------------------------------------------------------------------------

def _queue(request, params):
    """The reviewer's queue for the year and filters in `params`: (year, filter, rows, whether the filters were
    valid). Rows come from selectors.review_queue, scoped by visible_to."""
    year = _year(request, params)
    filings = selectors.review_queue(request.user, year)
    filterset = QueueFilter(params or None, queryset=filings, cities=selectors.queue_cities(request.user))
    if filterset.is_bound and not filterset.is_valid():
        return year, filterset, filings, False
    return year, filterset, filterset.qs, True


def _queue_url(params) -> str:
    """The queue's address with these filters (without the marker of a decision just taken)."""
    query = params.copy()
    query.pop("after", None)
    return reverse("review:queue") + (f"?{query.urlencode()}" if query else "")


def _back(request) -> str:
    """Where 返回审核队列 leads: the filtered queue the reviewer came from (`next`, only a path on this site)."""
    return _local_url(request.POST.get("next") or request.GET.get("next"), reverse("review:queue"))


def _queue_params(back) -> QueryDict:
    """The filters of the queue address `back` (none for any other address)."""
    parts = urlsplit(back)
    return QueryDict(parts.query) if parts.path == reverse("review:queue") else QueryDict()


def _after_decision(back, pk) -> str:
    """Back to the same filtered queue, told which filing was just decided (its 下一份 is the one after it)."""
    parts = urlsplit(back)
    query = QueryDict(parts.query, mutable=True)
    query["after"] = str(pk)
    return urlunsplit(("", "", parts.path, query.urlencode(), ""))


def queue(request):
    _require_reviewer(request.user)
    year, filterset, rows, valid = _queue(request, request.GET)
    if not valid:
        messages.error(request, "筛选条件有误，已显示全部待审核填报。")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    flags = selectors.peer_flags(Filing.objects.filter(pk__in=[f.pk for f in page]))
    for f in page:
        f.peer_flag = flags.get(f.pk, "")
    after = request.GET.get("after", "")
    decided = selectors.reviewable_filings(request.user).filter(pk=int(after)).first() if after.isdigit() else None
    may_bulk = permissions.can_decide_filings(request.user)
    return render(request, "review/queue.html", {
        "page": page, "filter": filterset, "year": year, "years": selectors.progress_years(),
        "back": _queue_url(request.GET),
        "next_filing": selectors.next_in_queue(rows, decided) if decided else None,
        "may_bulk": may_bulk, "bulk_limit": services.BULK_LIMIT,
        "all_count": selectors.bulk_approvable(rows).count() if may_bulk and valid else None,
    })


def _bulk_selection(request, back):
    """What 批量审核通过 was asked for: ({filing id: the version the reviewer saw}, how many 全部 stood for when
    confirmed, or None for ticked rows); None for input the queue page never sends. 全部 is the queue's own rows under
    the filters of `back` (the queue address the reviewer came from), less those with an unexplained warning."""
    if request.POST.get("all") == "1":
        confirmed = request.POST.get("count", "")
        rows, valid = _queue(request, _queue_params(back))[2:]
        if not valid or not confirmed.isdigit():
            return None
        return dict(selectors.bulk_approvable(rows).values_list("pk", "version")), int(confirmed)
    seen = {}
    for value in request.POST.getlist("filing"):
        pk, _, version = value.partition(":")
        if not (pk.isdigit() and version.isdigit()):
            return None
        seen[int(pk)] = int(version)
    return seen, None


@require_POST
def bulk_approve(request):
    """批量审核通过 from the queue: each filing approved on its own (services.approve_in_bulk), and the reviewer told
    exactly what happened to how many."""
    _require(permissions.can_decide_filings(request.user), "只有审核人员可以审核通过填报。")
    back = _back(request)
    selection = _bulk_selection(request, back)
    if selection is None:
        messages.error(request, "提交内容有误，未作任何改动，请刷新页面后重试。")
        return redirect(back)
    with refusal_as_message(request):
        outcome = services.approve_in_bulk(selection[0], actor=request.user, confirmed=selection[1])
        (messages.success if outcome.approved else messages.error)(request, outcome.message)
    return redirect(back)


def _filing_or_403(request, pk) -> Filing:
    """The filing if it is in the reviewer's region; a filing outside it (or none) is refused with 403."""
    _require_reviewer(request.user)
    filing = selectors.reviewable_filings(request.user).filter(pk=pk).first()
    if filing is None:
        raise PermissionDenied("该填报不在您的审核范围内。")
    return filing


def _field_choices(context):
    snapshot = context.get("snapshot")
    return field_choices(snapshot.data) if snapshot else []


def _render_detail(request, filing, *, decision_form=None, return_form=None, extension_form=None, status=200):
    context = selectors.review_screen(filing)
    back = _back(request)
    queue_rows = _queue(request, _queue_params(back))[2]
    actions = {t.name for t in workflow.allowed_transitions(filing, request.user)}
    initial = {"version": filing.version}
    choices = _field_choices(context)
    extension = latest_extension(filing.institution_id, filing.year_id)
    context.update({
        "filing": filing,
        "actions": actions,
        "may_decide": (permissions.can_decide(request.user, filing)
                       or permissions.can_quality_return(request.user, filing)),
        "review_refusal": workflow.review_window_refusal(filing, timezone.now()),
        "decision_form": decision_form or DecisionForm(initial=initial),
        "return_form": return_form or ReturnForm(initial=dict(initial), field_choices=choices),
        "extension_form": extension_form or ExtensionForm(),
        "may_extend": permissions.can_grant_extensions(request.user),
        "extension": extension,
        "back": back,
        "next_filing": selectors.next_in_queue(queue_rows, filing),
        "deadline": filing_deadline(filing),
    })
    return render(request, "review/detail.html", context, status=status)


def detail(request, pk):
    """Shows the filing; opening it changes nothing (a link from outside must not stop the filer's withdrawal)."""
    filing = _filing_or_403(request, pk)
    return _render_detail(request, filing)


@require_POST
def start_review(request, pk):
    """开始审核: the reviewer takes the filing into review; from now on the filer can no longer withdraw it."""
    filing = _filing_or_403(request, pk)
    with refusal_as_message(request):
        services.start_review(filing, actor=request.user)
        messages.success(request, "已开始审核，填报单位不能再撤回本次提交。")
    detail, back = reverse("review:detail", args=[pk]), _back(request)
    return redirect(detail if back == reverse("review:queue") else f"{detail}?{urlencode({'next': back})}")


@require_POST
def approve(request, pk):
    filing = _filing_or_403(request, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "提交内容有误，请刷新页面后重试。")
        return _render_detail(request, filing, decision_form=form, status=400)
    with refusal_as_message(request) as outcome:
        services.approve(filing, actor=request.user, expected_version=form.cleaned_data["version"],
                         comment=form.cleaned_data["comment"])
    if outcome.refusal:
        return _render_detail(request, _filing_or_403(request, pk), decision_form=form, status=409)
    messages.success(request, f"已审核通过“{filing.institution.name}”的填报，并已通知填报单位。")
    return redirect(_after_decision(_back(request), pk))


def _return(request, pk, service, done):
    filing = _filing_or_403(request, pk)
    choices = _field_choices(selectors.review_screen(filing))
    form = ReturnForm(request.POST, field_choices=choices)
    if not form.is_valid():
        messages.error(request, "退回未完成：请按提示修改后再提交。")
        return _render_detail(request, filing, return_form=form, status=400)
    with refusal_as_message(request) as outcome:
        service(
            filing, actor=request.user, expected_version=form.cleaned_data["version"],
            comment=form.cleaned_data["comment"], due=form.cleaned_data["due"],
            field_comments=form.field_comments(), field_labels=form.field_labels,
        )
    if outcome.refusal:
        return _render_detail(request, _filing_or_403(request, pk), return_form=form, status=409)
    messages.success(request, f"已{done}“{filing.institution.name}”的填报，并已通知填报单位。")
    return redirect(_after_decision(_back(request), pk))


@require_POST
def return_filing(request, pk):
    return _return(request, pk, services.return_for_correction, "退回")


@require_POST
def quality_return(request, pk):
    return _return(request, pk, services.quality_return, "质量审查退回")


def _safe_next(request, fallback):
    return _local_url(request.POST.get("next", ""), fallback)


@require_POST
def grant_extension(request, pk, year):
    """Grant an institution an extension (from the review screen or the institution's chasing page)."""
    _require(permissions.can_grant_extensions(request.user), "只有审核人员可以批准延期。")
    institution = visible_to(request.user, Institution).filter(pk=pk).first()
    reporting_year = ReportingYear.objects.filter(year=year).first()
    if institution is None:
        raise PermissionDenied("该机构不在您的管辖范围内。")
    back = _safe_next(request, reverse("review:chasing", args=[pk]))
    if reporting_year is None:
        messages.error(request, "统计年度不存在。")
        return redirect(back)
    form = ExtensionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "延期未批准：" + "；".join(e for errors in form.errors.values() for e in errors))
        return redirect(back)
    with refusal_as_message(request, prefix="延期未批准："):
        extension = filing_services.grant_extension(
            institution, reporting_year, actor=request.user, until=form.cleaned_data["until"],
            reason=form.cleaned_data["reason"],
        )
        messages.success(
            request, f"已批准“{institution.name}”延期至{timezone.localtime(extension.until):%Y年%m月%d日 %H:%M}。"
        )
    return redirect(back)


# --- progress, late filers, chasing ------------------------------------------------------------------------------

def _province(request):
    """SAMR reviewers and admins may narrow the progress pages to one province."""
    if not permissions.can_view_nation(request.user):
        return None
    code = request.GET.get("province", "")
    return Region.objects.filter(level=Region.Level.PROVINCE, code=code).first() if code else None


def progress(request):
    _require_progress_viewer(request.user)
    year = _year(request)
    if year is None:
        messages.info(request, "管理员尚未设置统计年度。")
        return redirect("home")
    province = _province(request)
    nation = permissions.can_view_nation(request.user)
    by_province = nation and province is None  # the nation per province; a province per city
    rows, ranked = selectors.progress_cities(request.user, year, province, by_province=by_province)
    provinces = Region.objects.current().filter(level=Region.Level.PROVINCE).order_by("code") if nation else None
    return render(request, "review/progress.html", {
        "year": year, "years": selectors.progress_years(), "rows": rows, "ranked": ranked,
        "totals": selectors.totals(rows), "days_left": days_left(year), "province": province,
        "provinces": provinces, "by_province": by_province,
        "show_ranking": permissions.can_view_city_ranking(request.user),
        "state_labels": [PROGRESS_LABELS[state] for state in PROGRESS_STATES], "rule": RULE_TEXT,
    })


def _late_city(request):
    code = request.GET.get("city", "")
    if not code:
        return None
    return selectors.queue_cities(request.user).filter(code=code).first()


def late_filers(request):
    _require_progress_viewer(request.user)
    year = _year(request)
    if year is None:
        messages.info(request, "管理员尚未设置统计年度。")
        return redirect("home")
    city = _late_city(request)
    rows = selectors.late_filers(request.user, year, city)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    for row in page:
        row.deadline = selectors.late_filer_deadline(row, year)
    return render(request, "review/late_filers.html", {
        "year": year, "years": selectors.progress_years(), "page": page, "city": city,
        "scope": selectors.late_filers_scope(request.user, city),
        "cities": selectors.queue_cities(request.user), "days_left": days_left(year),
        "may_remind": permissions.can_send_reminders(request.user),
    })


def late_filers_export(request):
    _require_progress_viewer(request.user)
    year = _year(request)
    if year is None:
        raise PermissionDenied("尚未设置统计年度。")
    city = _late_city(request)
    scope = selectors.late_filers_scope(request.user, city)
    content = exports.late_filers_workbook(selectors.late_filers(request.user, year, city), year, scope)
    # Named as its page is: 2023年度未提交机构-长沙市.xlsx
    return HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": content_disposition_header(
                            as_attachment=True, filename=f"{year.year}年度未提交机构-{scope}.xlsx")})


@require_POST
def remind(request):
    _require(permissions.can_send_reminders(request.user), "您的角色不能发送催报邮件。")
    year = _year(request) if not request.POST.get("year", "").isdigit() else (
        ReportingYear.objects.filter(year=int(request.POST["year"])).first()
    )
    back = _safe_next(request, reverse("review:late_filers"))
    if year is not None and request.POST.get("all") == "1":
        # 全部: every late filer under the page's filter, from the page's own selector (scoped by visible_to).
        city = selectors.queue_cities(request.user).filter(code=request.POST.get("city", "")).first()
        if request.POST.get("city") and city is None:
            messages.error(request, "所选市州不在您的管辖范围内，未发送。")
            return redirect(back)
        institutions = list(selectors.late_filers(request.user, year, city)[:services.BULK_LIMIT + 1])
        ids = [institution.pk for institution in institutions]
    else:
        ids = [int(v) for v in request.POST.getlist("institution") if v.isdigit()]
        institutions = list(selectors.with_year_filing(
            visible_to(request.user, Institution).filter(pk__in=ids), year).select_related("city")) if year else []
    if year is None or not ids:
        messages.error(request, "请先勾选要催报的机构。")
        return redirect(back)
    if len(institutions) != len(set(ids)):
        raise PermissionDenied("所选机构中有不在您管辖范围内的机构。")
    if len(institutions) > services.BULK_LIMIT:
        messages.error(request, f"一次最多向 {services.BULK_LIMIT} 家机构发送催报邮件，请按市州分批发送。未发送。")
        return redirect(back)
    deadlines = {
        i.pk: timezone.localtime(selectors.late_filer_deadline(i, year).at).date() for i in institutions
    }
    result = services.request_reminders(
        institutions, actor=request.user, year=year.year, deadline=timezone.localtime(year.closes_at).date(),
        deadlines=deadlines,
    )
    (messages.success if result["queued"] else messages.warning)(request, _reminder_counts(result))
    if result["without_email"]:
        messages.warning(request, f"以下机构未登记电子邮箱，未发送：{_names(result['without_email'])}。"
                                  "请电话联系并记录催报情况。")
    if result["already_today"]:
        messages.info(request, f"以下机构今天已发送过催报邮件，未重复发送：{_names(result['already_today'])}。")
    return redirect(back)


def _reminder_counts(result) -> str:
    """已发送 N 封；M 家今日已提醒，未重复发送；K 家未登记电子邮箱 (the counts that are not zero); each e-mail is
    recorded in 催报记录 once the mail server accepts it."""
    parts = [f"已发送 {len(result['queued'])} 封催报邮件"] if result["queued"] else []
    if result["already_today"]:
        parts.append(f"{len(result['already_today'])} 家今日已提醒，未重复发送")
    if result["without_email"]:
        parts.append(f"{len(result['without_email'])} 家未登记电子邮箱")
    return "；".join(parts) + "。"


def _names(institutions, shown=10) -> str:
    more = f"等 {len(institutions)} 家" if len(institutions) > shown else ""
    return "、".join(institution.name for institution in institutions[:shown]) + more


def _institution_deadline(institution, year, filing):
    """The deadline stated for an institution's year: its filing's (none once approved), else the window's or its
    extension's."""
    if year is None:
        return None
    if filing is not None:
        return filing_deadline(filing)
    extension = latest_extension(institution.pk, year.pk)
    return deadline_of(year, extension_until=extension and extension.until)


def chasing(request, pk):
    """An institution's chasing log (催报记录): view, and add a record (city officers, the province, admins)."""
    _require_progress_viewer(request.user)
    institution = get_object_or_404(visible_to(request.user, Institution).select_related("city"), pk=pk)
    year = _year(request)
    may_record = permissions.can_log_chasing(request.user)
    form = ChasingForm(request.POST or None)
    if request.method == "POST":
        if not may_record:
            raise PermissionDenied("您的角色不能记录催报情况。")
        if year is None:
            messages.error(request, "尚未设置统计年度。")
        elif form.is_valid():
            services.log_chasing(institution, actor=request.user, year=year.year, **form.cleaned_data)
            messages.success(request, "已记录催报情况。")
            return redirect(f"{reverse('review:chasing', args=[pk])}?year={year.year}")
        else:
            messages.error(request, "催报记录未保存，请按提示修改。")
    filing = Filing.objects.filter(institution=institution, year=year).first() if year else None
    return render(request, "review/chasing.html", {
        "institution": institution, "year": year, "years": selectors.progress_years(), "filing": filing,
        "records": selectors.chasing_records(request.user, institution, year.year if year else None),
        "form": form, "may_record": may_record,
        "may_extend": permissions.can_grant_extensions(request.user),
        "extension_form": ExtensionForm(),
        "extensions": visible_to(request.user, Extension).filter(institution=institution, year=year).select_related(
            "granted_by") if year else [],
        "deadline": _institution_deadline(institution, year, filing),
    })


# --- 待办摘要 and 催报情况 ---------------------------------------------------------------------------------------

def _require_digest_reader(user):
    _require(permissions.can_view_digest(user), "只有市州局人员和省局审核人员有待办摘要。")


def digest(request):
    _require_digest_reader(request.user)
    return render(request, "review/digest.html", {
        "digest": digests.build_digest(request.user), "subscribed": digests.is_subscribed(request.user),
    })


@require_POST
def digest_send(request):
    _require_digest_reader(request.user)
    with refusal_as_message(request):
        row = digests.send_now(request.user)
        messages.success(request, f"待办摘要已发送至 {row.email}。")
    return redirect("review:digest")


@require_POST
def digest_subscription(request):
    _require_digest_reader(request.user)
    weekly = request.POST.get("weekly") == "1"
    digests.set_subscription(request.user, weekly=weekly)
    messages.success(request, "已恢复每周接收待办摘要邮件。" if weekly
                     else "已退订每周待办摘要邮件，仍可随时在本页查看或手动发送。")
    return redirect("review:digest")


def chasing_activity(request):
    _require(permissions.can_view_chasing_activity(request.user), "只有省局及以上审核人员可以查看各市州催报情况。")
    year = _year(request)
    if year is None:
        messages.info(request, "管理员尚未设置统计年度。")
        return redirect("home")
    nation = permissions.can_view_nation(request.user)
    province = _province(request) if nation else request.user.region
    provinces = Region.objects.current().filter(level=Region.Level.PROVINCE).order_by("code") if nation else None
    activity = digests.chasing_activity(request.user, year, province) if province is not None else None
    return render(request, "review/chasing_activity.html", {
        "year": year, "years": selectors.progress_years(), "province": province, "provinces": provinces,
        "activity": activity, "days_left": days_left(year), "margin": settings.LAG_MARGIN_POINTS,
        "window_days": settings.LAG_WARNING_DAYS,
    })
