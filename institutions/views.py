from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts import permissions
from accounts.scoping import visible_to
from config.refusals import refusal_as_message

from . import register_import, selectors, services
from .authority import derive_reviewing_authority
from .codes import decode_cma_number
from .forms import (
    AuthorityChoiceForm,
    CertificateFormSet,
    IdentityChangeForm,
    IdentityDecisionForm,
    ImportUploadForm,
    OtherQualificationFormSet,
    ProfileForm,
    SiteFormSet,
)
from .imports import COLUMNS, template_workbook
from .models import IdentityChangeRequest, ImportJob

PAGE_SIZE = 50

SECTIONS = {
    "sites": ("检验检测场所", SiteFormSet),
    "certificates": ("资质认定证书", CertificateFormSet),
    "qualifications": ("其他法定资质", OtherQualificationFormSet),
}


def institution_list(request):
    if permissions.has_own_institution(request.user):
        return redirect("institutions:mine")
    institution_filter, institutions = selectors.institution_list(request.user, request.GET)
    page = Paginator(institutions, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = selectors.with_certificate_counts(page.object_list)
    return render(request, "institutions/institution_list.html", {
        "filter": institution_filter, "page": page, "can_import": permissions.can_import_register(request.user),
    })


def institution_detail(request, pk):
    institution = selectors.profile(request.user, pk)
    if institution is None:
        raise Http404("没有找到该机构，或您无权查看。")
    derivation = derive_reviewing_authority(institution)
    today = timezone.localdate()
    year_start = today.replace(month=1, day=1)
    return render(request, "institutions/institution_detail.html", {
        "institution": institution,
        "derivation": derivation,
        "proposed_authority": institution.authority_name(derivation.authority),
        "can_edit": permissions.can_edit_institution(request.user, institution),
        "authority_form": AuthorityChoiceForm(
            initial={"authority": institution.reviewing_authority}, institution=institution
        ),
        "authority_freeze": selectors.authority_freeze(institution.pk),
        "identity_changes": selectors.identity_changes_of(request.user, institution)[:5],
        "history": selectors.change_history(institution),
        "blockers": selectors.filing_blockers(institution, year_start, today),
        "today": today,
    })


def my_institution(request):
    if not permissions.has_own_institution(request.user):
        raise Http404("只有机构填报人有“本单位”。")
    return institution_detail(request, request.user.institution_id)


def edit_profile(request, pk):
    institution = services.institution_for_editing(request.user, pk)
    form = ProfileForm(request.POST or None, instance=institution)
    # A POST carries the version its page was opened at; one without it is refused by the service.
    version = request.POST.get("version", "") if request.method == "POST" else services.version_of(institution)
    if request.method == "POST":
        if form.is_valid():
            with refusal_as_message(request):
                services.save_profile(institution, actor=request.user, version=version, data=form.cleaned_data)
                messages.success(request, "机构基本信息已保存。")
                return redirect("institutions:detail", pk)
        else:
            messages.error(request, "有填写错误，请按提示修改；本次修改尚未保存。")
    return render(
        request, "institutions/edit_profile.html", {"institution": institution, "form": form, "version": version}
    )


def edit_section(request, pk, section):
    if section not in SECTIONS:
        raise Http404("没有这一栏。")
    institution = services.institution_for_editing(request.user, pk)
    title, formset_class = SECTIONS[section]
    formset = formset_class(request.POST or None, instance=institution, prefix=section)
    version = request.POST.get("version", "") if request.method == "POST" else services.version_of(institution)
    if request.method == "POST":
        if formset.is_valid():
            with refusal_as_message(request):
                services.save_related(institution, actor=request.user, version=version, section=section,
                                      **formset.changes())
                messages.success(request, f"{title}已保存。")
                return redirect("institutions:detail", pk)
        else:
            messages.error(request, "有填写错误，请按提示修改；本次修改尚未保存。")
    return render(request, "institutions/edit_section.html", {
        "institution": institution, "formset": formset, "title": title, "section": section, "version": version,
    })


@require_POST
def choose_authority(request, pk):
    institution = services.institution_for_editing(request.user, pk)
    form = AuthorityChoiceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择省局或总局作为审核单位。")
    else:
        try:
            institution = services.choose_reviewing_authority(
                institution, actor=request.user, authority=form.cleaned_data["authority"]
            )
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(request, f"审核单位已设为{institution.reviewing_authority_name}。")
    return redirect("institutions:detail", pk)


# --- identity changes (信息变更申请) ----------------------------------------------------------------------------

def identity_change(request, pk):
    """The filer's form: propose a new name, legal representative, credit code or city, with the reason."""
    institution = services.institution_for_editing(request.user, pk)
    if not permissions.can_request_identity_change(request.user, institution):
        raise PermissionDenied("信息变更申请由本机构的填报人提出；系统管理员请在系统管理中直接更正。")
    initial = {"name": institution.name, "legal_representative": institution.legal_representative,
               "credit_code": institution.credit_code, "city": institution.city_id}
    form = IdentityChangeForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            with refusal_as_message(request):
                services.request_identity_change(institution, actor=request.user, **form.cleaned_data)
                messages.success(request, "信息变更申请已提交，审核部门确认后登记信息才会更新。")
                return redirect("institutions:detail", pk)
        else:
            messages.error(request, "有填写错误，请按提示修改；申请尚未提交。")
    return render(request, "institutions/identity_change.html", {
        "institution": institution, "form": form,
        "requests": selectors.identity_changes_of(request.user, institution)[:10],
    })


@require_POST
def identity_change_cancel(request, pk):
    change = get_object_or_404(visible_to(request.user, IdentityChangeRequest), pk=pk)
    with refusal_as_message(request):
        services.cancel_identity_change(change, actor=request.user)
        messages.success(request, "已撤回信息变更申请。")
    return redirect("institutions:detail", change.institution_id)


def _require_identity_decider(user):
    if not permissions.can_decide_identity_changes(user):
        raise PermissionDenied("只有审核人员可以处理信息变更申请。")


def identity_changes(request):
    """The reviewer's list: the requests their authority decides, pending first."""
    _require_identity_decider(request.user)
    page = Paginator(selectors.identity_changes_to_decide(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "institutions/identity_changes.html", {"page": page, "form": IdentityDecisionForm()})


@require_POST
def identity_change_decide(request, pk):
    _require_identity_decider(request.user)
    change = get_object_or_404(visible_to(request.user, IdentityChangeRequest), pk=pk)
    form = IdentityDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
        return redirect("institutions:identity_changes")
    confirm = form.cleaned_data["decision"] == "confirm"
    name = change.institution.name  # the registered name the reviewer saw
    with refusal_as_message(request, prefix="未处理："):
        services.decide_identity_change(change, actor=request.user, confirm=confirm,
                                        comment=form.cleaned_data["comment"])
        messages.success(request, f"已{'确认' if confirm else '不予确认'}“{name}”的信息变更申请。")
    return redirect("institutions:identity_changes")


@require_GET
def decode_cma(request):
    """What a CMA number means, for the certificate form; the server stays the authority when it is saved."""
    try:
        decoded = decode_cma_number(request.GET.get("number", "")[:30])
    except ValidationError as error:
        return JsonResponse({"ok": False, "error": error.messages[0]})
    return JsonResponse({"ok": True, **decoded.as_json()})


# --- register import ----------------------------------------------------------------------------------------------

def _require_importer(user):
    if not permissions.can_import_register(user):
        raise PermissionDenied("只有系统管理员和省局审核人员可以导入机构名录。")


def import_list(request):
    _require_importer(request.user)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = register_import.start_import(actor=request.user, upload=form.cleaned_data["file"])
        messages.info(request, "文件已上传，正在逐行校验；校验通过后请确认导入。")
        return redirect("institutions:import_detail", job.pk)
    jobs = visible_to(request.user, ImportJob).filter(created_by=request.user).select_related("region")
    page = Paginator(jobs, 20).get_page(request.GET.get("page"))
    return render(request, "institutions/import_list.html", {"form": form, "page": page, "columns": COLUMNS})


def _job_for(request, pk):
    _require_importer(request.user)
    return get_object_or_404(
        visible_to(request.user, ImportJob).filter(created_by=request.user).select_related("region"), pk=pk
    )


def import_detail(request, pk):
    job = _job_for(request, pk)
    return render(request, "institutions/import_detail.html", {"job": job})


def import_status_fields(job):
    """What the status view (jobs.views.job_status) adds for a register import: the page that shows its outcome."""
    return {"url": reverse("institutions:import_detail", args=[job.pk])}


@require_POST
def import_confirm(request, pk):
    job = _job_for(request, pk)
    with refusal_as_message(request):
        register_import.confirm_import(job, actor=request.user)
        messages.info(request, "已开始导入，完成前请勿重复上传。")
    return redirect("institutions:import_detail", pk)


@require_POST
def import_retry(request, pk):
    job = _job_for(request, pk)
    with refusal_as_message(request):
        register_import.retry_import(job, actor=request.user)
        messages.info(request, "已重新开始校验；校验通过后请再次确认导入。")
    return redirect("institutions:import_detail", pk)


def import_template(request):
    _require_importer(request.user)
    response = HttpResponse(content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = (
        "attachment; filename*=UTF-8''"
        "%E6%9C%BA%E6%9E%84%E5%90%8D%E5%BD%95%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"
    )
    template_workbook().save(response)
    return response
