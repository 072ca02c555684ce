"""Changes to the register: self-service edits, the reviewing-authority choice, register imports.

Every function here runs in one transaction and keeps `Institution.reviewing_authority` in step with the
certificates (filings.workflow reads that field to decide who reviews).
"""
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import permissions
from accounts.scoping import visible_to
from config.refusals import DomainRefusal, NotFoundRefusal
from config.uploads import visible

from . import selectors
from .authority import derive_reviewing_authority
from .models import (
    CHOOSABLE_AUTHORITIES,
    CmaCertificate,
    IdentityChangeRequest,
    Institution,
    OtherQualification,
    Region,
    Site,
    institution_name_key,
    validate_credit_code,
)

log = logging.getLogger(__name__)


def require_edit(user, institution) -> None:
    if not permissions.can_edit_institution(user, institution):
        raise PermissionDenied("只有本机构的填报人可以修改机构信息。")


def refresh_reviewing_authority(institution, *, certificates=None, actor=None, frozen=None) -> bool:
    """Set the stored authority from the certificates; an institution's own choice stands while it holds both levels.
    While a filing is submitted, in review or returned nothing changes (`frozen`, when the caller knows it; the
    workflow settles the authority again when the filing is approved or withdrawn).
    Returns True when the stored values changed (and saves them, with a history record)."""
    if institution.review_group_id:
        return False  # SAMR's assignment to a review group stands whatever the certificates say
    if frozen is None:
        frozen = selectors.authority_freeze(institution.pk) is not None
    if frozen:
        return False
    derivation = derive_reviewing_authority(institution, certificates)
    keep_choice = institution.reviewing_authority_chosen and derivation.holds_both_levels
    authority = institution.reviewing_authority if keep_choice else derivation.authority
    chosen = keep_choice
    if authority == institution.reviewing_authority and chosen == institution.reviewing_authority_chosen:
        return False
    institution.reviewing_authority, institution.reviewing_authority_chosen = authority, chosen
    if not chosen:
        institution.reviewing_authority_chosen_by, institution.reviewing_authority_chosen_at = None, None
    if actor is not None:
        institution._history_user = actor
    institution.save(update_fields=[
        "reviewing_authority", "reviewing_authority_chosen", "reviewing_authority_chosen_by",
        "reviewing_authority_chosen_at", "updated_at",
    ])
    return True


def hold_reviewing_authority(institution) -> None:
    """Lock the institution row inside a submission, as choose_reviewing_authority and save_related do: whichever
    comes second sees the other (a choice made after the submission sees the filing submitted and is refused)."""
    Institution.objects.select_for_update().filter(pk=institution.pk).values_list("pk", flat=True).first()


@transaction.atomic
def settle_reviewing_authority(institution, *, actor) -> bool:
    """Called by the filing workflow when an approval or a withdrawal lifts the freeze: the stored authority follows
    the certificates (and a standing choice) again, so changes made while it was frozen apply now.
    The institution row is locked, so a concurrent choice or certificate edit is either before or after."""
    locked = Institution.objects.select_for_update().get(pk=institution.pk)
    changed = refresh_reviewing_authority(locked, actor=actor)
    if changed:
        institution.reviewing_authority = locked.reviewing_authority
        institution.reviewing_authority_chosen = locked.reviewing_authority_chosen
    return changed


@transaction.atomic
def choose_reviewing_authority(institution, *, actor, authority: str) -> Institution:
    """An institution holding both levels picks its reviewing authority; picking the proposal clears the choice.
    Refused from submission until the decision (the row lock orders it against a submission)."""
    require_edit(actor, institution)
    institution = (Institution.objects.select_for_update(of=("self",)).select_related("review_group")
                   .get(pk=institution.pk))
    if institution.review_group_id:
        raise ValidationError(f"国家市场监督管理总局已指定本单位由“{institution.reviewing_authority_name}”审核，"
                              "不能自选审核单位。")
    if authority not in CHOOSABLE_AUTHORITIES:
        raise ValidationError("请选择省局或总局作为审核单位。")
    if (freeze := selectors.authority_freeze(institution.pk)) is not None:
        raise ValidationError(selectors.freeze_message(freeze))
    derivation = derive_reviewing_authority(institution)
    if not derivation.holds_both_levels:
        raise ValidationError("只有同时持有国家级和省级有效资质认定证书的机构可以自选审核单位。")
    chosen = authority != derivation.authority
    institution.reviewing_authority = authority
    institution.reviewing_authority_chosen = chosen
    institution.reviewing_authority_chosen_by = actor if chosen else None
    institution.reviewing_authority_chosen_at = timezone.now() if chosen else None
    institution._history_user = actor
    institution._change_reason = "机构自选审核单位" if chosen else "恢复系统建议的审核单位"
    institution.save()
    return institution


class StaleEdit(DomainRefusal):
    """Someone saved the institution after this form was opened; the message is for the user."""

    status = 409


def version_of(institution) -> str:
    """The token a form carries so that two tabs cannot silently overwrite each other."""
    return institution.updated_at.isoformat()


def _lock(institution, version):
    """Lock the row and refuse a form that does not carry the version it was opened at (a POST without one too)."""
    current = Institution.objects.select_for_update().get(pk=institution.pk)
    if not isinstance(version, str) or not version:
        raise StaleEdit("页面缺少版本信息（可能已过期或不完整），您的修改未保存；请刷新页面后重新填写。")
    if version != version_of(current):
        when = timezone.localtime(current.updated_at)
        raise StaleEdit(f"本机构信息已于 {when:%Y-%m-%d %H:%M} 被他人修改，您的修改未保存；请刷新页面后重新填写。")
    return current


@transaction.atomic
def save_profile(institution, *, actor, version: str, data: dict) -> Institution:
    """Save checked profile values (a valid ProfileForm's cleaned_data: field name → value, a many-to-many field's
    value being its objects) of an institution the actor may edit."""
    require_edit(actor, institution)
    current = _lock(institution, version)
    many = {}
    for name, value in data.items():
        if Institution._meta.get_field(name).many_to_many:
            many[name] = value
        else:
            setattr(current, name, value)
    current._history_user = actor
    current.save()
    for name, value in many.items():
        getattr(current, name).set(value)
    return current


RELATED_MODELS = {"sites": Site, "certificates": CmaCertificate, "qualifications": OtherQualification}


@transaction.atomic
def save_related(institution, *, actor, version: str, section: str, rows: list[dict], deleted_ids: list[int]) -> None:
    """Save one section of the entity (sites, certificates or other qualifications), already checked: `rows` are
    the changed and new rows' values ("id" None for a new row), `deleted_ids` the rows to delete; then re-derive
    the authority. The model's own derivation runs again on each row (a certificate's number decodes its issuer)."""
    model = RELATED_MODELS[section]
    require_edit(actor, institution)
    _lock(institution, version)
    # A new version for every change to the entity, without a history row of its own.
    Institution.objects.filter(pk=institution.pk).update(updated_at=timezone.now())
    own = model.objects.filter(institution_id=institution.pk)
    for values in rows:
        values = dict(values)
        pk = values.pop("id", None)
        obj = own.get(pk=pk) if pk else model(institution_id=institution.pk)
        for name, value in values.items():
            setattr(obj, name, value)
        obj.clean()
        obj._history_user = actor
        obj.save()
    for obj in own.filter(pk__in=deleted_ids):
        obj._history_user = actor
        obj.delete()
    refresh_reviewing_authority(Institution.objects.get(pk=institution.pk), actor=actor)


def institution_for_editing(user, pk) -> Institution:
    """The institution, if the user may see it; PermissionDenied if they may see but not edit it."""
    institution = visible_to(user, Institution).filter(pk=pk).first()
    if institution is None:
        raise NotFoundRefusal("没有找到该机构，或您无权查看。")
    require_edit(user, institution)
    return institution


# --- identity changes (信息变更申请) ----------------------------------------------------------------------------

class IdentityChangeRefused(DomainRefusal):
    """A change request that cannot be made or decided now; the message is for the user."""


def registered_identity(institution) -> dict:
    return {"name": institution.name, "legal_representative": institution.legal_representative,
            "credit_code": institution.credit_code, "city": institution.city.name}


def _identity_conflicts(institution, *, name, credit_code, city) -> None:
    """Refuse a credit code or name another institution is registered under, and a move to another province while a
    filing is under review (its reviewer would change)."""
    if credit_code != institution.credit_code:
        other = Institution.objects.filter(credit_code=credit_code).exclude(pk=institution.pk).only("name").first()
        if other:
            raise IdentityChangeRefused(f"统一社会信用代码 {credit_code} 已登记为“{other.name}”，不能变更为该代码。")
    if name != institution.name:
        # A look-alike (full-width brackets, spaces, zero-width characters) impersonates as well as the same name.
        key = institution_name_key(name)
        others = Institution.objects.exclude(pk=institution.pk).values_list("name", flat=True)
        if other := next((other for other in others.iterator() if institution_name_key(other) == key), None):
            raise IdentityChangeRefused(
                f"“{visible(name)}”与其他机构的登记名称“{other}”相同或仅写法不同，不能变更为该名称。"
            )
    if city.pk != institution.city_id and city.parent_id != institution.city.parent_id:
        if (freeze := selectors.authority_freeze(institution.pk)) is not None:
            raise IdentityChangeRefused(
                f"本单位{freeze.year}填报当前为“{freeze.get_status_display()}”，审核决定作出前不能迁往其他省份。"
            )


def request_identity_change(institution, *, actor, name: str, legal_representative: str, credit_code: str, city,
                            reason: str):
    """A filer of the institution proposes new identity values (the form has checked their format); nothing in the
    register changes until the reviewing authority confirms."""
    if not permissions.can_request_identity_change(actor, institution):
        raise PermissionDenied("只有本机构的填报人可以申请变更本单位信息。")
    name, legal_representative = " ".join(name.split()), " ".join(legal_representative.split())
    credit_code, reason = credit_code.strip().upper(), reason.strip()
    if not reason:
        raise IdentityChangeRefused("请填写变更原因（如营业执照变更情况）。")
    if visible(name) != name or visible(legal_representative) != legal_representative:
        raise IdentityChangeRefused("机构名称和法定代表人不能含有控制字符或不可见字符（如零宽空格）。")
    if city is None or city.level != Region.Level.CITY:
        raise IdentityChangeRefused("所在市州必须是市州一级的行政区划。")
    try:
        with transaction.atomic():
            current = Institution.objects.select_for_update().select_related("city").get(pk=institution.pk)
            if current.identity_change_requests.filter(status=IdentityChangeRequest.Status.PENDING).exists():
                raise IdentityChangeRefused("本单位已有一份待确认的信息变更申请，请等待审核部门处理，或先撤回该申请。")
            previous = registered_identity(current)
            proposed = {"name": name, "legal_representative": legal_representative, "credit_code": credit_code,
                        "city": city.name}
            if proposed == previous and city.pk == current.city_id:
                raise IdentityChangeRefused("申请的信息与当前登记信息相同，无需变更。")
            if credit_code != current.credit_code:
                try:
                    validate_credit_code(credit_code)
                except ValidationError as error:
                    raise IdentityChangeRefused(error.messages[0]) from None
            _identity_conflicts(current, name=name, credit_code=credit_code, city=city)
            return IdentityChangeRequest.objects.create(
                institution=current, name=name, legal_representative=legal_representative, credit_code=credit_code,
                city=city, previous=previous, reason=reason[:1000], requested_by=actor,
            )
    except IntegrityError:  # a second request from another tab at the same moment
        raise IdentityChangeRefused(
            "本单位已有一份待确认的信息变更申请，请等待审核部门处理，或先撤回该申请。"
        ) from None


def cancel_identity_change(change, *, actor):
    """The filer withdraws a pending request."""
    with transaction.atomic():
        locked = IdentityChangeRequest.objects.select_for_update().get(pk=change.pk)
        if not permissions.can_request_identity_change(actor, locked.institution_id):
            raise PermissionDenied("只能撤回本单位的信息变更申请。")
        if locked.status != IdentityChangeRequest.Status.PENDING:
            raise IdentityChangeRefused(f"该申请已{locked.get_status_display()}，不能撤回。")
        locked.status = IdentityChangeRequest.Status.CANCELLED
        locked.decided_by, locked.decided_at = actor, timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
    return locked


def decide_identity_change(change, *, actor, confirm: bool, comment: str = ""):
    """Confirm (the values are written to the register, with history) or refuse (a comment is required)."""
    comment = (comment or "").strip()[:1000]
    with transaction.atomic():
        locked = IdentityChangeRequest.objects.select_for_update().select_related("city").get(pk=change.pk)
        institution = Institution.objects.select_for_update().select_related("city").get(pk=locked.institution_id)
        if not (visible_to(actor, Institution).filter(pk=institution.pk).exists()
                and permissions.can_decide_identity_change(actor, institution)):
            raise PermissionDenied("该机构的信息变更由其审核单位确认，您无权处理。")
        if locked.status != IdentityChangeRequest.Status.PENDING:
            raise IdentityChangeRefused(f"该申请已{locked.get_status_display()}，不能再处理。")
        if not confirm:
            if not comment:
                raise IdentityChangeRefused("不予确认时请填写意见，说明原因。")
            locked.status = IdentityChangeRequest.Status.REFUSED
        else:
            _identity_conflicts(institution, name=locked.name, credit_code=locked.credit_code, city=locked.city)
            reason = f"信息变更申请确认（{_who(locked.requested_by)}申请，{_who(actor)}确认）"
            if locked.credit_code != institution.credit_code:
                # An accepted bad check character belonged to the old code.
                institution.credit_code_override_reason, institution.credit_code_override_by = "", None
            if locked.city_id != institution.city_id and institution.division_code[:4] != locked.city.code[:4]:
                institution.division_code = ""
            institution.name, institution.legal_representative = locked.name, locked.legal_representative
            institution.credit_code, institution.city = locked.credit_code, locked.city
            try:
                institution.validate_unique()
            except ValidationError as error:
                raise IdentityChangeRefused(error.messages[0]) from None
            institution._history_user, institution._change_reason = actor, reason
            institution.save()
            locked.status = IdentityChangeRequest.Status.CONFIRMED
        locked.decided_by, locked.decided_at, locked.decision_comment = actor, timezone.now(), comment
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
    return locked


def _who(user):
    return user.get_full_name() or user.username
