"""机构注册 (public) and the city officer's decision, and the officer import: the pages whose services read or write the
register. The confirmation link, the officers' list of requests and 本机构账号 are the accounts app's pages."""
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from accounts import permissions, ratelimit
from accounts.forms import RegistrationDecisionForm
from accounts.models import RegistrationRequest
from accounts.scoping import visible_to
from config.refusals import refusal_as_message

from . import officer_import as officer_import_services, registration as registration_services
from .registration_forms import OfficerImportForm, RegistrationForm


def _base_url(request) -> str:
    return request.build_absolute_uri("/")


@login_not_required
def registration(request):
    """机构注册: the form; a valid request is recorded and its confirmation link e-mailed (rate-limited per client
    address, REGISTRATIONS_PER_HOUR, then HTTP 429)."""
    form = RegistrationForm(request.POST or None)
    if request.method == "POST":
        if not ratelimit.hit("registration", request, limit=settings.REGISTRATIONS_PER_HOUR, window=3600):
            return render(request, "accounts/registration_form.html", {"form": form, "rate_limited": True},
                          status=429)
        if form.is_valid():
            data = form.cleaned_data
            with refusal_as_message(request) as outcome:
                registration_services.submit_registration(
                    credit_code=data["credit_code"], cma_number=data["cma_number"], full_name=data["full_name"],
                    phone=data["phone"], email=data["email"], username=data["username"],
                    password=data["password1"], base_url=_base_url(request),
                    new_institution=form.new_institution_data(),
                )
            if outcome.refusal is None:
                return redirect("registration_sent")
    return render(request, "accounts/registration_form.html", {"form": form})


@login_not_required
def registration_sent(request):
    return render(request, "accounts/registration_sent.html",
                  {"valid_hours": settings.REGISTRATION_CONFIRM_HOURS})



def registration_decide(request, pk):
    registration_request = get_object_or_404(
        visible_to(request.user, RegistrationRequest).select_related("institution", "city", "decided_by"), pk=pk
    )
    if not permissions.can_decide_registration(request.user, registration_request):
        raise Http404
    form = RegistrationDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal_as_message(request) as outcome:
            registration_services.decide_registration(
                registration_request, actor=request.user, approve=form.cleaned_data["decision"] == "approve",
                reason=form.cleaned_data["reason"], base_url=_base_url(request),
            )
        if outcome.refusal is None:
            messages.success(request, "已处理该注册申请，并已邮件通知申请人。")
            return redirect("registrations")
    return render(request, "accounts/registration_decide.html",
                  {"registration": registration_request, "form": form}, status=400 if form.errors else 200)



# --- officer accounts in bulk ----------------------------------------------------------------------------------------

def _require_officer_importer(user):
    if not permissions.can_import_officers(user):
        raise PermissionDenied("只有系统管理员和省局审核人员可以导入监管人员账号。")


def officer_import(request):
    _require_officer_importer(request.user)
    form = OfficerImportForm(request.POST or None, request.FILES or None)
    outcome = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        outcome = officer_import_services.import_officers(
            upload, upload.name, actor=request.user, base_url=_base_url(request)
        )
        if not outcome.errors:
            messages.success(request, f"已导入 {len(outcome.created)} 个账号，设置密码的链接已发到各自的邮箱。")
            return redirect("officer_import")
    failed = bool(form.errors or (outcome and outcome.errors))
    return render(request, "accounts/officer_import.html", {"form": form, "outcome": outcome},
                  status=400 if failed else 200)


def officer_import_template(request):
    _require_officer_importer(request.user)
    response = HttpResponse(content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = "attachment; filename*=UTF-8''" + quote("监管人员账号导入模板.xlsx")
    officer_import_services.template_workbook().save(response)
    return response
