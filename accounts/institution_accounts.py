"""本机构账号: an institution's main account invites, disables and enables the institution's other filers; every
action is recorded (AccountAction). New accounts — invited filers, imported officers — are created inactive without
a password and become active when their owner sets one from the e-mailed link (Django's password-reset token, which
a later change of the password, or of its unusable placeholder, invalidates)."""
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from config.jobs import send_task
from config.refusals import DomainRefusal, NotFoundRefusal

from . import permissions
from .models import AccountAction, User
from .validators import validate_new_username


class AccountRefused(DomainRefusal):
    """An action on an institution's accounts that the portal refuses."""


def _require_manager(actor, institution) -> None:
    if not permissions.can_manage_institution_accounts(actor, institution):
        raise NotFoundRefusal("没有找到该机构的账号。")


def _record(institution, action, *, actor, target) -> None:
    AccountAction.objects.create(institution=institution, action=action, actor=actor, target=target)


def send_invitation_on_commit(user_id: int, base_url: str) -> None:
    from .tasks import send_invitation

    transaction.on_commit(lambda: send_task(send_invitation, user_id, base_url))


def invite_filer(institution, *, actor, username: str, full_name: str, email: str, phone: str = "",
                 base_url: str) -> User:
    """A new filer of the institution, inactive until they set a password from the e-mailed link."""
    _require_manager(actor, institution)
    validate_new_username(username)
    with transaction.atomic():
        user = User.objects.new_filer(username=username, first_name=full_name, email=email, phone=phone,
                                      institution=institution, is_active=False)
        user.set_unusable_password()
        user.save()
        _record(institution, AccountAction.Action.INVITED, actor=actor, target=user)
        send_invitation_on_commit(user.pk, base_url)
    return user


def set_account_active(target, *, actor, active: bool, base_url: str) -> User:
    """Disable or enable one filer of the actor's institution. Never the actor's own account, never the last active
    main account. An account that never set its password is not enabled but invited again (a new link)."""
    institution = target.institution
    if institution is None:
        raise NotFoundRefusal("没有找到该机构的账号。")
    _require_manager(actor, institution)
    with transaction.atomic():
        target = User.objects.select_for_update().get(pk=target.pk)
        if target.pk == actor.pk:
            raise AccountRefused("不能停用或启用自己的账号。")
        if not active:
            mains = (institution.users.select_for_update().filter(is_main_account=True, is_active=True)
                     .exclude(pk=target.pk))
            if target.is_main_account and not mains.exists():
                raise AccountRefused("不能停用本机构最后一个有效的主账号。")
            target.is_active = False
            if not target.has_usable_password():
                target.set_unusable_password()  # the pending invitation link stops working
            target.save(update_fields=["is_active", "password"])
            _record(institution, AccountAction.Action.DISABLED, actor=actor, target=target)
        elif not target.has_usable_password():
            target.set_unusable_password()  # an earlier link stops working; the new one is the only one
            target.save(update_fields=["password"])
            _record(institution, AccountAction.Action.REINVITED, actor=actor, target=target)
            send_invitation_on_commit(target.pk, base_url)
        elif not target.is_active:
            target.is_active = True
            target.save(update_fields=["is_active"])
            _record(institution, AccountAction.Action.ENABLED, actor=actor, target=target)
    return target


def activate_account(user) -> None:
    """The owner set the password from the invitation link: the account becomes active (recorded for filers)."""
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])
        if user.institution_id:
            _record(user.institution, AccountAction.Action.ACTIVATED, actor=user, target=user)


def send_invitation_mail(user_id: int, base_url: str) -> bool:
    """E-mail a new account its set-password link (valid PASSWORD_RESET_TIMEOUT seconds)."""
    user = User.objects.filter(pk=user_id, is_active=False).exclude(email="").select_related(
        "institution", "region").first()
    if user is None or user.has_usable_password():
        return False
    path = reverse("account_welcome", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user)})
    context = {"user": user, "link": base_url.rstrip("/") + path,
               "valid_hours": settings.PASSWORD_RESET_TIMEOUT / 3600}
    send_mail("【质检统计直报】账号开通：请设置登录密码", render_to_string("accounts/mail/invitation.txt", context),
              None, [user.email])
    return True
