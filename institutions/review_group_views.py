"""评审组 pages for SAMR reviewers and admins (accounts.permissions.can_manage_review_groups): the list of groups,
one group with its members and institutions, assigning by register search or by pasted credit codes."""
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from config.refusals import refusal_as_message

from . import review_groups, selectors
from .models import Institution, ReviewGroup
from .review_group_forms import BulkAssignForm, MemberForm, ReviewGroupForm


def review_group_list(request):
    review_groups.require_manager(request.user)
    form = ReviewGroupForm(request.POST or None, prefix="group")
    if request.method == "POST" and form.is_valid():
        with refusal_as_message(request):
            group = review_groups.create_review_group(actor=request.user, name=form.cleaned_data["name"])
            messages.success(request, f"评审组“{group.name}”已设立，请添加成员后指定机构。")
            return redirect("institutions:review_group", group.pk)
    return render(request, "institutions/review_groups.html", {"form": form, "groups": selectors.review_groups()})


def _group(request, pk) -> ReviewGroup:
    review_groups.require_manager(request.user)
    return get_object_or_404(ReviewGroup, pk=pk)


def review_group_detail(request, pk):
    group = _group(request, pk)
    form = ReviewGroupForm.for_group(group, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        with refusal_as_message(request):
            group = review_groups.update_review_group(group, actor=request.user, **form.cleaned_data)
            messages.success(request, f"评审组“{group.name}”已保存。")
            return redirect("institutions:review_group", group.pk)
    query = request.GET.get("q", "").strip()
    return render(request, "institutions/review_group_detail.html", {
        "group": group, "form": form, "member_form": MemberForm(), "bulk_form": BulkAssignForm(),
        "members": group.members.order_by("username"),
        "institutions": selectors.review_group_institutions(group),
        "query": query, "found": selectors.institutions_to_assign(query),
    })


@require_POST
def review_group_add_member(request, pk):
    group = _group(request, pk)
    form = MemberForm(request.POST)
    if form.is_valid():
        with refusal_as_message(request):
            user = review_groups.add_member(group, actor=request.user, username=form.cleaned_data["username"])
            messages.success(request, f"已将“{user.username}”加入评审组。")
    else:
        messages.error(request, "请填写成员的用户名。")
    return redirect("institutions:review_group", group.pk)


@require_POST
def review_group_remove_member(request, pk, user_id):
    group = _group(request, pk)
    with refusal_as_message(request):
        review_groups.remove_member(group, actor=request.user, user_id=user_id)
        messages.success(request, "已移出该成员，其审核权限即时失效。")
    return redirect("institutions:review_group", group.pk)


@require_POST
def review_group_assign(request, pk, institution_id):
    group = _group(request, pk)
    institution = get_object_or_404(Institution, pk=institution_id)
    with refusal_as_message(request):
        review_groups.assign_institution(group, institution, actor=request.user)
        messages.success(request, f"已指定{institution.name}由评审组“{group.name}”审核。")
    return redirect("institutions:review_group", group.pk)


@require_POST
def review_group_unassign(request, pk, institution_id):
    group = _group(request, pk)
    institution = get_object_or_404(group.institutions, pk=institution_id)
    with refusal_as_message(request):
        institution = review_groups.unassign_institution(institution, actor=request.user)
        messages.success(request, f"{institution.name}已移出评审组，恢复由{institution.reviewing_authority_name}审核。")
    return redirect("institutions:review_group", group.pk)


@require_POST
def review_group_bulk_assign(request, pk):
    group = _group(request, pk)
    form = BulkAssignForm(request.POST)
    result = None
    if not form.is_valid():
        messages.error(request, "请粘贴统一社会信用代码，每行一个。")
    else:
        with refusal_as_message(request):
            result = review_groups.bulk_assign(group, form.cleaned_data["codes"], actor=request.user)
    if result is not None and not result.errors:
        messages.success(request, f"已指定 {len(result.assigned)} 家机构由评审组“{group.name}”审核。")
        return redirect("institutions:review_group", group.pk)
    if result is not None:
        messages.error(request, f"有 {len(result.errors)} 行未通过校验，本次未指定任何机构；请按提示修改后重新提交。")
    return render(request, "institutions/review_group_detail.html", {
        "group": group, "form": ReviewGroupForm.for_group(group), "member_form": MemberForm(), "bulk_form": form,
        "members": group.members.order_by("username"), "institutions": selectors.review_group_institutions(group),
        "query": "", "found": [], "bulk_errors": result.errors if result else [],
    }, status=400)
