"""机构注册: a filer registers for an institution of the register (or proposes a new one), confirms the e-mail address
by a signed link, and the city officer approves (the account is created) or refuses (with a reason).

The page never tells whether a credit code is registered or which certificates it holds: a code and a certificate
number that are not a pair of the register get one message whatever the reason. Mails go out from tasks on commit.
"""
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from config.refusals import DomainRefusal, NotFoundRefusal
from institutions.models import CmaCertificate, Institution

from . import permissions
from .models import AccountAction, RegistrationRequest, User
from .validators import validate_new_username

CONFIRM_SALT = "accounts.registration.confirm"
NO_SUCH_PAIR = ("统一社会信用代码与资质认定证书编号不是名录中同一机构的登记信息，请核对后重新填写；"
                "机构尚未登记在名录中的，请选择“申请登记新机构”。")


class RegistrationRefused(DomainRefusal):
    """A registration request, confirmation or decision the portal refuses."""


def confirm_max_age() -> int:
    return settings.REGISTRATION_CONFIRM_HOURS * 3600


def check_username_free(username: str) -> None:
    """A new account's user name: well-formed, no existing user's, and no open request's (ValidationError)."""
    validate_new_username(username)
    recent = timezone.now() - timezone.timedelta(seconds=confirm_max_age())
    open_requests = RegistrationRequest.objects.filter(username__iexact=username).filter(
        status=RegistrationRequest.Status.PENDING
    ) | RegistrationRequest.objects.filter(
        username__iexact=username, status=RegistrationRequest.Status.EMAIL, created_at__gte=recent
    )
    if open_requests.exists():
        raise ValidationError("该用户名已被使用，请换一个。", code="username_taken")


def submit_registration(*, credit_code: str, cma_number: str, full_name: str, phone: str, email: str, username: str,
                        password: str, base_url: str, new_institution: dict | None = None) -> RegistrationRequest:
    """Record a request (待确认邮箱) and e-mail the confirmation link. `new_institution` (name, city, address)
    proposes an institution not yet in the register; otherwise the code and the certificate must be a pair of it."""
    fields = {"credit_code": credit_code, "cma_number": cma_number, "full_name": full_name, "phone": phone,
              "email": email, "username": username, "password_hash": make_password(password)}
    if new_institution:
        request = RegistrationRequest(
            is_new_institution=True, city=new_institution["city"], institution_name=new_institution["name"],
            institution_address=new_institution["address"], **fields,
        )
    else:
        certificate = (CmaCertificate.objects.filter(number=cma_number, institution__credit_code=credit_code)
                       .select_related("institution").first())
        if certificate is None:
            raise RegistrationRefused(NO_SUCH_PAIR)
        institution = certificate.institution
        request = RegistrationRequest(institution=institution, city_id=institution.city_id, **fields)
    with transaction.atomic():
        request.save()
        from .tasks import send_registration_confirmation

        transaction.on_commit(lambda: send_registration_confirmation.delay(request.pk, base_url))
    return request


def confirmation_token(request: RegistrationRequest) -> str:
    return signing.dumps([request.pk, request.email], salt=CONFIRM_SALT)


def request_for_token(token: str) -> RegistrationRequest:
    """The request a confirmation link names, or a refusal for a link that was forged, altered or has expired."""
    try:
        pk, email = signing.loads(token, salt=CONFIRM_SALT, max_age=confirm_max_age())
    except signing.SignatureExpired:
        raise RegistrationRefused(
            f"确认链接已过期（有效期 {settings.REGISTRATION_CONFIRM_HOURS} 小时），请重新提交注册申请。"
        ) from None
    except (signing.BadSignature, ValueError, TypeError):
        raise RegistrationRefused("确认链接无效，请打开邮件中的完整链接。") from None
    request = RegistrationRequest.objects.filter(pk=pk, email=email).first()
    if request is None:
        raise RegistrationRefused("确认链接无效，请打开邮件中的完整链接。")
    return request


def confirm_email(token: str) -> RegistrationRequest:
    """待确认邮箱 → 待审核. A link used again changes nothing and says so."""
    with transaction.atomic():
        request = RegistrationRequest.objects.select_for_update().get(pk=request_for_token(token).pk)
        if request.status != RegistrationRequest.Status.EMAIL:
            raise RegistrationRefused(f"该申请的邮箱已经确认过，当前状态：{request.get_status_display()}。")
        request.status = RegistrationRequest.Status.PENDING
        request.email_confirmed_at = timezone.now()
        request.save(update_fields=["status", "email_confirmed_at"])
    return request


def decide_registration(request, *, actor, approve: bool, reason: str = "", base_url: str) -> RegistrationRequest:
    """The city officer approves (the filer account is created, the institution's main account if it has none; a
    proposed institution is added to the register first) or refuses with a reason; the applicant is e-mailed."""
    if not permissions.can_decide_registration(actor, request):
        raise NotFoundRefusal("没有找到该注册申请。")
    reason = reason.strip()
    if not approve and not reason:
        raise RegistrationRefused("拒绝申请必须填写原因。")
    with transaction.atomic():
        request = RegistrationRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != RegistrationRequest.Status.PENDING:
            raise RegistrationRefused(f"该申请已不在待审核状态（当前：{request.get_status_display()}），无需重复处理。")
        if approve:
            _create_account(request, actor=actor)
            request.status = RegistrationRequest.Status.APPROVED
        else:
            request.status = RegistrationRequest.Status.REFUSED
            request.reason = reason
        request.decided_by, request.decided_at = actor, timezone.now()
        request.save()
        from .tasks import send_registration_decision

        transaction.on_commit(lambda: send_registration_decision.delay(request.pk, base_url))
    return request


def _create_account(request, *, actor) -> None:
    if User.objects.filter(username__iexact=request.username).exists():
        raise RegistrationRefused(
            f"用户名“{request.username}”已被其他账号使用，请拒绝本申请并告知申请人换一个用户名重新注册。"
        )
    if request.is_new_institution:
        request.institution = _register_institution(request, actor=actor)
    has_main = request.institution.users.filter(is_main_account=True, is_active=True).exists()
    user = User.objects.new_filer(
        username=request.username, first_name=request.full_name, email=request.email, phone=request.phone,
        password=request.password_hash, institution=request.institution, is_main_account=not has_main,
    )
    user.save()
    request.user = user
    AccountAction.objects.create(institution=request.institution, action=AccountAction.Action.REGISTERED,
                                 actor=actor, target=user)


def _register_institution(request, *, actor) -> Institution:
    """A proposed institution enters the register through the register import's own writer (history "名录导入"),
    with its name, city, address and the applicant as contact; the certificate is then entered by its main account
    on 本单位信息 (its dates and scope are not part of the request)."""
    from institutions.imports import CheckedRow
    from institutions.register_import import apply_rows

    if Institution.objects.filter(credit_code=request.credit_code).exists():
        raise RegistrationRefused("该统一社会信用代码已在机构名录中：请拒绝本申请，并告知申请人按已登记机构重新注册。")
    row = CheckedRow(
        number=1, credit_code=request.credit_code, city=request.city, site_address=request.institution_address,
        institution={"name": request.institution_name, "registered_address": request.institution_address,
                     "contact_person": request.full_name, "contact_phone": request.phone,
                     "contact_email": request.email},
    )
    apply_rows([row], actor=actor)
    return Institution.objects.get(credit_code=request.credit_code)


# --- mails (called by the tasks) ------------------------------------------------------------------------------------

def send_confirmation_mail(request_id: int, base_url: str) -> bool:
    request = RegistrationRequest.objects.filter(pk=request_id, status=RegistrationRequest.Status.EMAIL).first()
    if request is None:
        return False
    link = base_url.rstrip("/") + reverse("registration_confirm", kwargs={"token": confirmation_token(request)})
    context = {"request": request, "link": link, "valid_hours": settings.REGISTRATION_CONFIRM_HOURS}
    send_mail("【质检统计直报】请确认机构注册邮箱", render_to_string("accounts/mail/registration_confirm.txt", context),
              None, [request.email])
    return True


def send_decision_mail(request_id: int, base_url: str) -> bool:
    request = (RegistrationRequest.objects.filter(pk=request_id).exclude(status__in=[
        RegistrationRequest.Status.EMAIL, RegistrationRequest.Status.PENDING]).select_related("institution").first())
    if request is None:
        return False
    context = {"request": request, "login": base_url.rstrip("/") + reverse("login")}
    subject = f"【质检统计直报】机构注册申请{request.get_status_display()}"
    send_mail(subject, render_to_string("accounts/mail/registration_decision.txt", context), None, [request.email])
    return True
