"""机构注册, the accounts' side: the user name an applicant may take, the signed link that confirms the e-mail
address (待确认邮箱 → 待审核), and the applicant's mails. Submitting and deciding a request read and write the
register, so they live in `institutions.registration`."""
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from config.refusals import DomainRefusal

from .models import RegistrationRequest
from .validators import validate_new_username

CONFIRM_SALT = "accounts.registration.confirm"


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
