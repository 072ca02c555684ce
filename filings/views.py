from io import BytesIO

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, prefetch_related_objects
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts import permissions
from config.refusals import refusal_as_message
from institutions.models import CmaCertificate

from . import extensions, offline, pdf, selectors, services, workflow
from .checks import run_checks
from .forms import (
    AnnualReportForm,
    ExplanationForm,
    ExtensionCommentForm,
    ExtensionDecisionForm,
    ExtensionRequestForm,
    SocialResponsibilityForm,
    StatisticsForm,
)
from .models import ExtensionRequest, Filing, SocialResponsibilityReport
from .workflow import TransitionRefused

EDITABLE = (Filing.Status.DRAFT, Filing.Status.RETURNED)


def _filing(request, pk) -> Filing:
    try:
        return selectors.filing_for(request.user, pk)
    except Filing.DoesNotExist:
        raise Http404("填报不存在或不在您的查看范围内。") from None


def _editable(request, filing) -> bool:
    return (
        filing.status in EDITABLE
        and permissions.can_edit_filing(request.user, filing)
        and workflow.filer_window_refusal(filing, timezone.now()) is None
    )


def _steps(filing):
    steps = [("statistics", "统计调查数据", reverse("filings:statistics", args=[filing.pk])),
             ("annual-report", "年度报告", reverse("filings:annual_report", args=[filing.pk]))]
    for centre, _ in selectors.sr_reports_in_force(filing):
        steps.append((f"sr-{centre.pk}", f"社会责任报告：{centre.name}",
                      reverse("filings:sr_report", args=[filing.pk, centre.pk])))
    steps.append(("submit", "校验与提交", reverse("filings:submit", args=[filing.pk])))
    return steps


def _review_comments(filing):
    """The open return (general comment) and its field comments, shown to the filer while the filing is returned."""
    return selectors.open_review_comments(filing)


def _context(request, filing, step, **extra):
    steps = _steps(filing)
    review_return, field_comments = _review_comments(filing)
    keys = [key for key, _, _ in steps]
    index = keys.index(step) if step in keys else -1
    return {
        "filing": filing, "steps": steps, "step": step, "step_index": index,
        "next_url": steps[index + 1][2] if 0 <= index < len(steps) - 1 else None,
        "editable": _editable(request, filing),
        "window_refusal": workflow.filer_window_refusal(filing, timezone.now()),
        "deadline": selectors.filing_deadline(filing), "days_left": selectors.days_left(filing),
        "review_return": review_return, "field_comments": [c for cs in field_comments.values() for c in cs],
        **extra,
    }


def filing_home(request):
    """Filers land on this year's filing (created on first open); regulators see the filings in their scope."""
    year = selectors.current_year()
    if permissions.has_own_institution(request.user):
        if year is None:
            messages.info(request, "管理员尚未设置统计年度。")
            return redirect("home")
        try:
            filing = services.open_filing(request.user.institution, year, actor=request.user)
        except TransitionRefused as refusal:
            return render(request, "filings/not_open.html", {"year": year, "refusal": refusal})
        return redirect("filings:overview", filing.pk)
    filings = selectors.filings_visible_to(request.user).filter(year=year).order_by("institution__name")[:200]
    return render(request, "filings/filing_list.html", {"filings": filings, "year": year})


def overview(request, pk):
    filing = _filing(request, pk)
    transitions = selectors.timeline(filing)
    snapshot = filing.snapshots.first()
    return render(request, "filings/overview.html", _context(
        request, filing, "overview", transitions=transitions, snapshot=snapshot,
        actions=workflow.allowed_transitions(filing, request.user),
        sr_not_required=selectors.sr_reports_no_longer_required(filing),
        extension_request=selectors.latest_extension_request(filing),
        extension_form=ExtensionRequestForm(),
        may_request_extension=permissions.can_request_extension(request.user, filing),
        needs_extension=filing.status not in extensions.NEEDS_NO_EXTENSION,
    ))


def _edit_part(request, filing, part, form_class, step, template, findings_prefix, *, show_findings=True,
               page_context=None, **form_kwargs):
    findings = [f for f in run_checks(filing) if f.field.startswith(findings_prefix)] if show_findings else []
    form_kwargs["review_comments"] = {
        key.removeprefix(findings_prefix): [c.text for c in comments]
        for key, comments in _review_comments(filing)[1].items() if key.startswith(findings_prefix)
    }
    editable = _editable(request, filing)
    if request.method == "POST" and not editable:
        reason = None
        if permissions.can_edit_filing(request.user, filing):
            reason = workflow.filer_window_refusal(filing, timezone.now())
        messages.error(request, reason or f"填报当前为“{filing.get_status_display()}”，您不能修改。")
        return redirect(request.path)
    if request.method == "POST":
        form = form_class(request.POST, request.FILES, instance=part, editable=editable, **form_kwargs)
        if form.is_valid():
            data = form.part_data() if hasattr(form, "part_data") else {
                k: v for k, v in form.cleaned_data.items() if k != "version"
            }
            with refusal_as_message(request):
                services.save_part(filing, part, actor=request.user, expected_version=form.cleaned_data["version"],
                                   data=data)
                messages.success(request, "已保存草稿。")
                next_url = _context(request, filing, step)["next_url"]
                if "save_next" in request.POST and next_url:
                    return redirect(next_url)
                return redirect(request.path)
        else:
            messages.error(request, "有填写错误，请按提示修改后再保存；本次内容未保存。")
    else:
        form = form_class(instance=part, initial={"version": filing.version}, findings=findings, editable=editable,
                          **form_kwargs)
    return render(request, template, _context(request, filing, step, form=form, findings=findings,
                                              **(page_context or {})))


def statistics(request, pk):
    filing = _filing(request, pk)
    # The page confirms the registry's certificates (with their issuer), sites and qualifications.
    prefetch_related_objects(
        [filing.institution], Prefetch("cma_certificates", CmaCertificate.objects.select_related("issuer")),
        "sites", "other_qualifications",
    )
    # No check is shown as an error before the form's first save; last year's approved figures stand beside the inputs.
    return _edit_part(request, filing, filing.statistics, StatisticsForm, "statistics", "filings/statistics.html",
                      "statistics.", show_findings=filing.statistics_saved_at is not None,
                      page_context=_offline_context(request, filing),
                      nature=filing.institution.nature, previous=selectors.previous_approved_statistics(filing))


# --- 离线填报 (filings.offline) ---------------------------------------------------------------------------------------

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_SHOWN_PROBLEMS = 200


def _problems_key(filing) -> str:
    return f"offline_problems_{filing.pk}"


def _offline_context(request, filing) -> dict:
    """The 离线填报 card: offered to the filing's own filers; the last upload's problems are shown once."""
    return {"offline_offered": permissions.can_edit_filing(request.user, filing),
            "offline_problems": request.session.pop(_problems_key(filing), None) if request.method == "GET" else None}


def offline_template(request, pk):
    filing = _filing(request, pk)
    content = offline.build_template(filing, actor=request.user)
    return FileResponse(BytesIO(content), as_attachment=True, content_type=XLSX_TYPE,
                        filename=offline.template_filename(filing))


@require_POST
def offline_upload(request, pk):
    filing = _filing(request, pk)
    if not permissions.can_edit_filing(request.user, filing):
        raise PermissionDenied("只有本机构的填报人可以上传离线填报文件。")
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择填好的离线填报模板（.xlsx）后再上传。")
        return redirect("filings:statistics", filing.pk)
    with refusal_as_message(request, prefix="上传未保存："):
        outcome = offline.import_statistics(filing, upload, actor=request.user)
        if outcome.problems:
            request.session[_problems_key(filing)] = [
                {"cell": p.cell, "field": p.field, "message": p.message} for p in outcome.problems[:MAX_SHOWN_PROBLEMS]
            ]
            messages.error(request, f"文件中有 {len(outcome.problems)} 处问题，本次上传未保存任何内容；"
                                    "请按“离线填报”中的列表逐格修改后重新上传。")
        else:
            messages.success(request, "已按上传的文件保存草稿（与网页保存相同）。")
            if outcome.warnings:
                codes = "；".join(f"【{f.code}】{f.message}" for f in outcome.warnings)
                messages.warning(
                    request, f"有 {len(outcome.warnings)} 条预警，提交前须在“校验与提交”页填写说明：{codes}"
                )
    return redirect("filings:statistics", filing.pk)


def annual_report(request, pk):
    filing = _filing(request, pk)
    return _edit_part(request, filing, filing.annual_report, AnnualReportForm, "annual-report",
                      "filings/part_form.html", "annual_report.")


def sr_report(request, pk, centre_id):
    filing = _filing(request, pk)
    centre, report = next(((c, r) for c, r in selectors.sr_reports_in_force(filing) if c.pk == centre_id), (None, None))
    if centre is None:
        raise Http404("本填报没有该国家质检中心的社会责任报告。")
    if report is None:
        # A centre the entity leads whose part was never saved (e.g. registered after the filing was opened): the
        # form starts blank and the first save creates the part.
        report = SocialResponsibilityReport(filing=filing, centre=centre)
    return _edit_part(request, filing, report, SocialResponsibilityForm, f"sr-{centre_id}", "filings/part_form.html",
                      f"sr.{centre_id}.")


def submit(request, pk):
    filing = _filing(request, pk)
    findings = run_checks(filing)
    warnings = [f for f in findings if not f.is_error]
    explanations = dict(filing.explanations.values_list("code", "text"))
    editable = _editable(request, filing)
    form = ExplanationForm(request.POST or None, warnings=warnings, explanations=explanations, editable=editable,
                           initial={"version": filing.version})
    if request.method == "POST" and form.is_valid():
        with refusal_as_message(request):
            filing = services.save_explanations(filing, actor=request.user,
                                                expected_version=form.cleaned_data["version"],
                                                explanations=form.explanations())
            if "submit" in request.POST:
                services.submit_filing(filing, actor=request.user, expected_version=filing.version)
                messages.success(request, "已提交。可下载提交回执；审核部门开始审核前，您可以撤回修改。")
                return redirect("filings:overview", filing.pk)
            messages.success(request, "预警说明已保存。")
        return redirect("filings:submit", filing.pk)
    return render(request, "filings/submit.html", _context(
        request, filing, "submit", form=form, errors=[f for f in findings if f.is_error], warnings=warnings,
        explained=set(explanations),
    ))


@require_POST
def withdraw(request, pk):
    filing = _filing(request, pk)
    try:
        version = int(request.POST.get("version", 0))
    except ValueError:
        messages.error(request, "请求无效。")
        return redirect("filings:overview", filing.pk)
    with refusal_as_message(request):
        services.withdraw_filing(filing, actor=request.user, expected_version=version)
        messages.success(request, "已撤回，填报回到草稿状态。修改后请重新提交。")
    return redirect("filings:overview", filing.pk)


def print_pdf(request, pk, kind, centre_id=None):
    filing = _filing(request, pk)
    snapshot = filing.snapshots.first()
    if snapshot is None or kind not in pdf.TEMPLATES:
        raise Http404("尚未提交，没有可打印的版本。")
    centre_name = ""
    if kind == "sr-report":
        report = next((r for r in snapshot.data["sr_reports"] if r["centre_id"] == centre_id), None)
        if report is None:
            raise Http404("该版本没有此国家质检中心的社会责任报告。")
        centre_name = report["centre"]
    content = pdf.render_pdf(snapshot, kind, centre_id=centre_id)
    return FileResponse(BytesIO(content), as_attachment=True, content_type="application/pdf",
                        filename=pdf.filename(snapshot, kind, centre_name=centre_name))


# --- 延期申请 -------------------------------------------------------------------------------------------------------

def _form_errors(form) -> str:
    return "；".join(error for errors in form.errors.values() for error in errors)


def _extension_request(request, pk) -> ExtensionRequest:
    try:
        return selectors.extension_request_for(request.user, pk)
    except ExtensionRequest.DoesNotExist:
        raise Http404("延期申请不存在或不在您的查看范围内。") from None


@require_POST
def request_extension(request, pk):
    filing = _filing(request, pk)
    if not permissions.can_request_extension(request.user, filing):
        raise PermissionDenied("只有本机构的填报人可以申请延期。")
    form = ExtensionRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, "延期申请未提交：" + _form_errors(form))
        return redirect("filings:overview", filing.pk)
    with refusal_as_message(request, prefix="延期申请未提交："):
        extensions.request_extension(filing, actor=request.user, until=form.cleaned_data["until"],
                                     reason=form.cleaned_data["reason"])
        messages.success(request, "延期申请已提交，请等待审核部门审批；结果将以邮件通知。")
    return redirect("filings:overview", filing.pk)


@require_POST
def withdraw_extension_request(request, pk):
    extension_request = _extension_request(request, pk)
    with refusal_as_message(request):
        extensions.withdraw_extension_request(extension_request, actor=request.user)
        messages.success(request, "延期申请已撤回。")
    return redirect("filings:overview", extension_request.filing_id)


def extension_requests(request):
    """Pending extension requests of the user's area: city officers comment, the reviewing authority decides."""
    if not permissions.can_handle_extension_requests(request.user):
        raise PermissionDenied("只有市州局人员和审核人员可以查看延期申请。")
    rows = selectors.pending_extension_requests(request.user)
    return render(request, "filings/extension_requests.html", {
        "rows": rows, "comment_form": ExtensionCommentForm(), "decision_form": ExtensionDecisionForm(),
    })


@require_POST
def comment_extension_request(request, pk):
    extension_request = _extension_request(request, pk)
    form = ExtensionCommentForm(request.POST)
    if not form.is_valid():
        if not permissions.can_comment_extension_request(request.user, extension_request.filing):
            raise PermissionDenied("只有该机构所在市州的市场监管局人员可以填写意见。")
        messages.error(request, "意见未保存：" + _form_errors(form))
        return redirect("filings:extension_requests")
    with refusal_as_message(request, prefix="意见未保存："):
        extensions.comment_extension_request(extension_request, actor=request.user,
                                             comment=form.cleaned_data["comment"])
        messages.success(request, f"已保存对“{extension_request.filing.institution.name}”延期申请的意见。")
    return redirect("filings:extension_requests")


def _decide(request, pk, decide, done):
    extension_request = _extension_request(request, pk)
    if not permissions.can_decide_extension_request(request.user, extension_request.filing):
        raise PermissionDenied("只有该机构的审核部门可以审批延期申请。")
    form = ExtensionDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "未审批：" + _form_errors(form))
        return redirect("filings:extension_requests")
    with refusal_as_message(request, prefix="未审批："):
        decided = decide(extension_request, form.cleaned_data)
        messages.success(request, f"“{extension_request.filing.institution.name}”的延期申请{done(decided)}。")
    return redirect("filings:extension_requests")


@require_POST
def grant_extension_request(request, pk):
    return _decide(
        request, pk,
        lambda extension_request, data: extensions.grant_extension_request(
            extension_request, actor=request.user, until=data["until"], comment=data["comment"]),
        lambda decided: f"已批准，延期至{timezone.localtime(decided.granted_until):%Y年%m月%d日 %H:%M}",
    )


@require_POST
def refuse_extension_request(request, pk):
    return _decide(
        request, pk,
        lambda extension_request, data: extensions.refuse_extension_request(
            extension_request, actor=request.user, comment=data["comment"]),
        lambda decided: "已拒绝",
    )
