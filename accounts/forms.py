from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.cache import cache
from django.db import transaction

from .tasks import send_password_reset


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码错误。请注意区分大小写；连续多次失败将暂时锁定登录。",
        "inactive": "该账号已停用，请联系系统管理员。",
    }


class PasswordResetRequestForm(PasswordResetForm):
    """Django's 忘记密码 form. The page answers the same whether or not the address is registered (Django's rule);
    the e-mail goes out from a task on commit, so the answer also takes as long either way, and an account gets at
    most one e-mail per PASSWORD_RESET_GAP seconds however often its address is entered."""

    email = forms.EmailField(
        label="电子邮箱", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="填写账号登记的电子邮箱。", error_messages={"invalid": "请输入有效的电子邮箱地址。"},
    )

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        user_id, domain, protocol = context["user"].pk, context["domain"], context["protocol"]
        if cache.add(f"password-reset:{user_id}", 1, settings.PASSWORD_RESET_GAP):
            transaction.on_commit(lambda: send_password_reset.delay(user_id, domain, protocol))
