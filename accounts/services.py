"""Account actions outside the login itself: the password-reset e-mail (忘记密码)."""
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .models import User

RESET_SUBJECT = "registration/password_reset_subject.txt"
RESET_BODY = "registration/password_reset_email.html"  # plain text, Django's name for it


def send_password_reset(user_id: int, *, domain: str, protocol: str) -> bool:
    """E-mail the user a link to set a new password (Django's token, valid PASSWORD_RESET_TIMEOUT seconds from now).

    Nothing is sent to an account that was deactivated, lost its e-mail address or has no usable password since the
    request. A mail-server fault propagates, for the task to retry."""
    user = User.objects.filter(pk=user_id, is_active=True).exclude(email="").first()
    if user is None or not user.has_usable_password():
        return False
    context = {
        "email": user.email, "domain": domain, "protocol": protocol, "site_name": "质检统计直报", "user": user,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user),
        "valid_hours": settings.PASSWORD_RESET_TIMEOUT / 3600,
    }
    subject = "".join(render_to_string(RESET_SUBJECT, context).splitlines())
    send_mail(subject, render_to_string(RESET_BODY, context), None, [user.email])
    return True
