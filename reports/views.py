import functools

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from accounts import permissions, ratelimit
from accounts.clientip import client_ip
from accounts.scoping import visible_to
from config.refusals import refusal_as_message
from config.replica import reads_from_replica
from institutions.models import Institution
from jobs.views import status_data

from . import selectors, upload_reminders, uploads
from .complaints import ComplaintRefused, file_complaint, handle_complaint
from .forms import (
    ComplaintForm,
    HandleComplaintForm,
    MissingQuarterForm,
    TokenForm,
    UploadForm,
    verify_input_error,
)
from .ingest import MAX_LENGTH
from .models import ApiToken, Complaint
from .quarters import Quarter, recent_quarters
from .tokens import TokenRefused, create_token, revoke_token


def _require_filer(user):
    if not permissions.has_own_institution(user):
        raise PermissionDenied("只有机构填报人可以上传报告编号。")
    return get_object_or_404(visible_to(user, Institution).select_related("city"), pk=user.institution_id)


def _require_regulator(user):
    if not permissions.can_view_report_numbers(user):
        raise PermissionDenied("只有监管部门人员可以查看。")


# --- filers: upload, batches, tokens ----------------------------------------------------------------------------

def upload(request):
    institution = _require_filer(request.user)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        try:
            batch = uploads.start_upload(
                institution=institution, quarter=form.cleaned_data["quarter"], source=upload_file,
                name=upload_file.name, actor=request.user,
            )
        except uploads.UploadRefused as refusal:
            form.add_error("file", str(refusal))
        else:
            return redirect("reports:batch", pk=batch.pk)
    batches = selectors.batches_visible_to(request.user)
    page = Paginator(batches, 20).get_page(request.GET.get("page"))
    status = selectors.institution_quarter_status(institution, recent_quarters(8))
    return render(
        request, "reports/upload.html", {"form": form, "page": page, "status": status, "institution": institution}
    )


def _batch_for(request, pk):
    return get_object_or_404(selectors.batches_visible_to(request.user), pk=pk)


def batch_detail(request, pk):
    batch = _batch_for(request, pk)
    return render(request, "reports/batch_detail.html", {"batch": batch})


@require_POST
def batch_retry(request, pk):
    batch = _batch_for(request, pk)
    with refusal_as_message(request):
        uploads.retry_upload(batch, actor=request.user)
        messages.success(request, "已重新开始处理。")
    return redirect("reports:batch", pk=batch.pk)


def _batch_counts(batch):
    return {
        "id": batch.pk,
        "quarter": batch.quarter_obj.code,
        "is_late": batch.is_late,
        "encoding": batch.encoding,
        "lines": batch.lines,
        "accepted": batch.accepted,
        "duplicate_in_file": batch.duplicate_in_file,
        "duplicate_existing": batch.duplicate_existing,
        "rejected": batch.rejected,
    }


def _batch_json(batch):
    """A batch as the LIMS API reports it: the status every job reports, and its counts."""
    return {**status_data(batch), **_batch_counts(batch)}


def batch_status_fields(batch):
    """What the status view (jobs.views.job_status) adds for an upload: its counts and the rejects' link."""
    rejects_url = reverse("reports:rejects", args=[batch.pk]) if batch.rejects_file else ""
    return {**_batch_counts(batch), "rejects_url": rejects_url}


def batch_rejects(request, pk):
    batch = _batch_for(request, pk)
    with refusal_as_message(request):
        handle = uploads.open_rejects(batch, actor=request.user)
        name = f"不合格行-{batch.quarter_obj.code}-{batch.pk}.csv"
        return FileResponse(handle, as_attachment=True, filename=name, content_type="text/csv; charset=utf-8")
    return redirect("reports:batch", pk=batch.pk)


def tokens(request):
    institution = _require_filer(request.user)
    form = TokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = create_token(
                actor=request.user, institution=institution, name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
            )
        except TokenRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            created = {"token": token, "raw": raw}
            form = TokenForm()
    response = render(request, "reports/tokens.html", {
        "form": form, "created": created, "tokens": selectors.tokens_of(request.user, institution),
        "institution": institution,
        "api_url": request.build_absolute_uri(reverse("reports:api_upload")),
    })
    if created:
        response["Cache-Control"] = "no-store"
    return response


@require_POST
def token_revoke(request, pk):
    _require_filer(request.user)
    token = get_object_or_404(visible_to(request.user, ApiToken).select_related("institution"), pk=pk)
    revoke_token(token, actor=request.user)
    messages.success(request, f"已吊销令牌“{token.name}”，使用该令牌的系统将无法再上传。")
    return redirect("reports:tokens")


# --- regulators: missing uploads, reminders, complaints ---------------------------------------------------------

def missing(request):
    _require_regulator(request.user)
    form = MissingQuarterForm(request.GET or None)
    quarter = (form.is_valid() and form.cleaned_data.get("quarter")) or recent_quarters(1)[0]
    institutions = selectors.missing_uploads(request.user, quarter)
    page = Paginator(institutions, 50).get_page(request.GET.get("page"))
    summary = selectors.upload_status_by_quarter(visible_to(request.user, Institution), quarter.year)
    return render(request, "reports/missing.html", {
        "form": form, "quarter": quarter, "page": page, "summary": summary,
        "can_remind": permissions.can_send_reminders(request.user),
    })


@require_POST
def remind(request):
    _require_regulator(request.user)
    try:
        quarter = Quarter.parse(request.POST.get("quarter", ""))
    except ValueError as error:
        messages.error(request, str(error))
        return redirect("reports:missing")
    ids = [value for value in request.POST.getlist("institution") if value.isdigit()][:200]
    targets = list(selectors.missing_uploads(request.user, quarter).filter(pk__in=ids))
    back = f"{reverse('reports:missing')}?quarter={quarter.code}"
    if not targets:
        messages.error(request, "请勾选需要提醒且尚未上传的机构。")
        return redirect(back)
    with refusal_as_message(request):
        result = upload_reminders.remind_missing(targets, actor=request.user, quarter=quarter)
        text = f"已向 {len(result['sent'])} 家机构发送{quarter.label}报告编号上传提醒邮件。"
        if result["without_email"]:
            names = "、".join(i.name for i in result["without_email"][:5])
            text += f" {len(result['without_email'])} 家未登记电子邮箱（{names}等），已记录，请电话联系。"
        if result["already_today"]:
            text += f" {len(result['already_today'])} 家今天已提醒过，未重复发送。"
        messages.success(request, text)
    return redirect(back)


def complaints(request):
    _require_regulator(request.user)
    status = request.GET.get("status", "open")
    rows = selectors.complaints_visible_to(request.user)
    if status in Complaint.Status.values:
        rows = rows.filter(status=status)
    page = Paginator(rows, 30).get_page(request.GET.get("page"))
    return render(request, "reports/complaint_list.html", {"page": page, "status": status})


def complaint_detail(request, pk):
    _require_regulator(request.user)
    complaint = get_object_or_404(selectors.complaints_visible_to(request.user), pk=pk)
    form = HandleComplaintForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal_as_message(request):
            handle_complaint(complaint, actor=request.user, note=form.cleaned_data["note"])
            messages.success(request, "已标记为已处理。")
            return redirect("reports:complaints")
    can_handle = permissions.can_handle_complaints(request.user) and complaint.status == Complaint.Status.OPEN
    return render(
        request, "reports/complaint_detail.html", {"complaint": complaint, "form": form, "can_handle": can_handle}
    )


# --- the public: verification and complaints --------------------------------------------------------------------

def _too_many(request, template, context):
    context["rate_limited"] = True
    return render(request, template, context, status=429)


_SHELL_MARK = "\x00content\x00"


@functools.cache
def _public_shell(title: str) -> tuple[str, str]:
    """The public page layout around its content, rendered once per process (it holds no per-request data)."""
    page = render_to_string("reports/public_base.html", {"shell_title": title, "shell_content": mark_safe(_SHELL_MARK)})
    before, after = page.split(_SHELL_MARK)
    return before, after


@functools.cache
def _complain_url() -> str:
    return reverse("reports:complain")


@login_not_required
@reads_from_replica
def verify(request):
    """报告编号查询: exact number (optionally with the institution's name or credit code), nothing else revealed.
    The busiest page of the system: its body is rendered without context processors into the cached shell."""
    context = {"number": "", "institution": "", "complain_url": _complain_url()}
    status = 200
    if "number" in request.GET:
        number, institution = request.GET.get("number", "").strip(), request.GET.get("institution", "").strip()
        context.update(searched=True, number=number[:200], institution=institution[:200])
        if not ratelimit.hit("verify", request, limit=settings.REPORTS_VERIFY_PER_MINUTE, window=60):
            context["rate_limited"], status = True, 429
        elif error := verify_input_error(number, institution):
            context["number_error"] = error
        else:
            context["results"] = selectors.lookup_report_number(number, institution)
    before, after = _public_shell("报告编号查询")
    body = render_to_string("reports/_verify_body.html", context)
    return HttpResponse(before + body + after, status=status)


@login_not_required
def complain(request):
    initial = {
        "report_number": request.GET.get("number", "")[:MAX_LENGTH],
        "institution": request.GET.get("institution", "")[:200],
    }
    form = ComplaintForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not ratelimit.hit("complaint", request, limit=settings.REPORTS_COMPLAINTS_PER_HOUR, window=3600):
            return _too_many(request, "reports/complain.html", {"form": form})
        if form.is_valid():
            data = form.cleaned_data
            try:
                complaint = file_complaint(
                    report_number=data["report_number"], institution_text=data["institution"],
                    description=data["description"], contact=data["contact"], city=data["city"],
                    client_address=client_ip(request),
                )
            except ComplaintRefused as refusal:
                form.add_error("institution", str(refusal))
            else:
                return render(request, "reports/complain.html", {"done": complaint})
    return render(request, "reports/complain.html", {"form": form})
