from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.cache import cache
from django.db import transaction

from config.jobs import send_task

from .registration import check_username_free
from .tasks import send_password_reset
from .validators import USERNAME_CHARS


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
            transaction.on_commit(lambda: send_task(send_password_reset, user_id, domain, protocol))


class RegistrationDecisionForm(forms.Form):
    decision = forms.ChoiceField(label="审核意见", choices=[("approve", "通过"), ("refuse", "拒绝")],
                                 widget=forms.RadioSelect)
    reason = forms.CharField(label="拒绝原因", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="拒绝时必填，将通过邮件告知申请人。")

    def clean(self):
        data = super().clean()
        if data.get("decision") == "refuse" and not data.get("reason", "").strip():
            self.add_error("reason", "拒绝申请必须填写原因。")
        return data


class InviteFilerForm(forms.Form):
    username = forms.CharField(label="登录用户名", max_length=150, help_text=f"只能使用{USERNAME_CHARS}。")
    full_name = forms.CharField(label="姓名", max_length=150)
    email = forms.EmailField(label="电子邮箱", help_text="设置密码的链接将发到该邮箱。",
                             error_messages={"invalid": "请输入有效的电子邮箱地址。"})
    phone = forms.CharField(label="联系电话", max_length=30, required=False)

    def clean_username(self):
        username = self.cleaned_data["username"]
        check_username_free(username)
        return username
