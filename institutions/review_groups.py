"""评审组 (issue 14 §8, ADR 0029): SAMR sets up review groups, keeps their members and assigns institutions to them.

Each function runs in one transaction, asks `accounts.permissions.can_manage_review_groups` first, refuses with
`ReviewGroupRefused` (a Chinese message) and leaves a history record (django-simple-history) of what it changed.
An institution's group moves only while no filing of it is handed in and undecided (the freeze of ADR 0014): the
authority that opened a filing decides it.
"""
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from stdnum.cn import uscc

from accounts import permissions
from config.refusals import DomainRefusal, NotFoundRefusal

from . import selectors
from .authority import derive_reviewing_authority
from .models import Institution, ReviewGroup, ReviewingAuthority

BULK_ASSIGN_LIMIT = 2000  # credit codes in one paste


class ReviewGroupRefused(DomainRefusal):
    """A review group change that is not allowed (a bureau-like name, an inactive or empty group, a member who is not
    a group reviewer, an institution whose filing is under review); nothing changed."""


def require_manager(actor) -> None:
    if not permissions.can_manage_review_groups(actor):
        raise PermissionDenied("只有总局审核人员和系统管理员可以管理评审组。")


def _refusal(error: ValidationError) -> ReviewGroupRefused:
    return ReviewGroupRefused("；".join(error.messages))


def _save(group, *, actor, reason):
    try:
        group.full_clean()
    except ValidationError as error:
        raise _refusal(error) from None
    group._history_user = actor
    group._change_reason = reason
    group.save()
    return group


@transaction.atomic
def create_review_group(*, actor, name: str) -> ReviewGroup:
    require_manager(actor)
    return _save(ReviewGroup(name=name.strip(), created_by=actor), actor=actor, reason="设立评审组")


@transaction.atomic
def update_review_group(group, *, actor, name: str, is_active: bool) -> ReviewGroup:
    """Rename or (de)activate a group. A rename leaves earlier decisions with the name they were made under (they
    read the group's history); a group that still has institutions cannot be deactivated (ReviewGroup.clean)."""
    require_manager(actor)
    group = ReviewGroup.objects.select_for_update().get(pk=group.pk)
    group.name, group.is_active = name.strip(), is_active
    return _save(group, actor=actor, reason="修改评审组")


@transaction.atomic
def add_member(group, *, actor, username: str):
    """Add a group reviewer account (评审组审核人员) by user name; any other account is refused."""
    require_manager(actor)
    user = get_user_model().objects.filter(username=username.strip()).first()
    if user is None:
        raise ReviewGroupRefused(f"没有用户名为“{username.strip()}”的账号。")
    if not get_user_model().objects.group_reviewers().filter(pk=user.pk).exists():
        raise ReviewGroupRefused(f"“{user.username}”不是启用的评审组审核人员账号，不能加入评审组。")
    group = ReviewGroup.objects.select_for_update().get(pk=group.pk)
    if group.members.filter(pk=user.pk).exists():
        raise ReviewGroupRefused(f"“{user.username}”已是该评审组成员。")
    group._history_user = actor
    group.members.add(user)
    return user


@transaction.atomic
def remove_member(group, *, actor, user_id: int) -> None:
    """Takes effect at once: every predicate and the scoping helper read membership on each request."""
    require_manager(actor)
    group = ReviewGroup.objects.select_for_update().get(pk=group.pk)
    user = group.members.filter(pk=user_id).first()
    if user is None:
        raise NotFoundRefusal("该账号不是本评审组成员。")
    group._history_user = actor
    group.members.remove(user)


def _check_assignable(group) -> None:
    if not group.is_active:
        raise ReviewGroupRefused(f"评审组“{group.name}”已停用，不能指定机构。")
    if not group.members.exists():
        raise ReviewGroupRefused(f"评审组“{group.name}”尚无成员，请先添加评审组审核人员再指定机构。")


def _frozen_message(institution, freeze) -> str:
    return (f"{institution.name}：{freeze.year}填报当前为“{freeze.get_status_display()}”，审核决定作出前不能"
            "改变其审核单位（含指定或移出评审组）。")


def _set_group(institution, group, *, actor, reason) -> None:
    institution.review_group = group
    if group is None:
        institution.reviewing_authority = derive_reviewing_authority(institution).authority
    else:
        institution.reviewing_authority = ReviewingAuthority.GROUP
    institution.reviewing_authority_chosen = False
    institution.reviewing_authority_chosen_by, institution.reviewing_authority_chosen_at = None, None
    institution._history_user = actor
    institution._change_reason = reason
    institution.save(update_fields=[
        "review_group", "reviewing_authority", "reviewing_authority_chosen", "reviewing_authority_chosen_by",
        "reviewing_authority_chosen_at", "updated_at",
    ])


@transaction.atomic
def assign_institution(group, institution, *, actor) -> Institution:
    """Make the group the institution's reviewing authority (also from another group). The row lock orders it
    against a submission (filings.workflow holds the same row)."""
    require_manager(actor)
    group = ReviewGroup.objects.select_for_update().get(pk=group.pk)
    _check_assignable(group)
    institution = Institution.objects.select_for_update().get(pk=institution.pk)
    if institution.review_group_id == group.pk:
        raise ReviewGroupRefused(f"{institution.name}已由该评审组审核。")
    if (freeze := selectors.authority_freeze(institution.pk)) is not None:
        raise ReviewGroupRefused(_frozen_message(institution, freeze))
    _set_group(institution, group, actor=actor, reason=f"总局指定评审组：{group.name}")
    return institution


@transaction.atomic
def unassign_institution(institution, *, actor) -> Institution:
    """Give the institution back to the authority its certificates give it (province or SAMR)."""
    require_manager(actor)
    institution = Institution.objects.select_for_update().get(pk=institution.pk)
    if institution.review_group_id is None:
        raise ReviewGroupRefused(f"{institution.name}未指定评审组。")
    if (freeze := selectors.authority_freeze(institution.pk)) is not None:
        raise ReviewGroupRefused(_frozen_message(institution, freeze))
    _set_group(institution, None, actor=actor, reason="总局取消评审组指定")
    return institution


@dataclass
class BulkAssignment:
    """The outcome of one paste: the institutions assigned, or the lines refused (then nothing was assigned)."""

    assigned: list = field(default_factory=list)
    errors: list = field(default_factory=list)  # (line number, the line as pasted, message)


@transaction.atomic
def bulk_assign(group, text: str, *, actor) -> BulkAssignment:
    """Assign the institutions whose credit codes are pasted one a line; all or nothing: any line refused (unknown
    or malformed code, a filing under review, already in this group, twice in the paste) assigns none."""
    require_manager(actor)
    group = ReviewGroup.objects.select_for_update().get(pk=group.pk)
    _check_assignable(group)
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise ReviewGroupRefused("请粘贴统一社会信用代码，每行一个。")
    if len(lines) > BULK_ASSIGN_LIMIT:
        raise ReviewGroupRefused(f"一次最多指定 {BULK_ASSIGN_LIMIT} 家机构，请分批粘贴。")
    codes = {number: uscc.compact(line).upper() for number, line in lines}
    found = {inst.credit_code: inst for inst in
             Institution.objects.select_for_update().filter(credit_code__in=set(codes.values()))}
    frozen = selectors.frozen_institution_ids([inst.pk for inst in found.values()])
    result, seen = BulkAssignment(), set()
    for number, line in lines:
        institution = found.get(codes[number])
        if institution is None:
            message = "机构名录中没有该统一社会信用代码的机构。"
        elif institution.pk in seen:
            message = "与前面的行重复。"
        elif institution.review_group_id == group.pk:
            message = f"{institution.name}已由该评审组审核。"
        elif institution.pk in frozen:
            message = f"{institution.name}的填报已提交、审核中或已退回，审核决定作出前不能改变审核单位。"
        else:
            seen.add(institution.pk)
            result.assigned.append(institution)
            continue
        result.errors.append((number, line, message))
    if result.errors:
        result.assigned = []
        return result
    for institution in result.assigned:
        _set_group(institution, group, actor=actor, reason=f"总局指定评审组：{group.name}")
    return result
