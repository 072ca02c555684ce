from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.cache import cache
from django.db import transaction

from config.widgets import FileInput
from institutions.codes import normalise_cma_number, normalise_credit_code
from institutions.imports import PHONE
from institutions.models import Region, validate_credit_code

from .models import User
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
            transaction.on_commit(lambda: send_password_reset.delay(user_id, domain, protocol))


class RegistrationForm(forms.Form):
    """机构注册 (public). The credit code is checked for its form only and the certificate number for its digits; the
    service says whether they are a pair of the register, in one message whatever the reason."""

    credit_code = forms.CharField(label="统一社会信用代码", max_length=30)
    cma_number = forms.CharField(
        label="资质认定证书编号", max_length=30, help_text="本机构名下任意一张有效证书的编号（12位数字）。",
    )
    new_institution = forms.BooleanField(
        label="本机构尚未登记在机构名录中，申请登记新机构", required=False,
        help_text="勾选后请填写下面的机构名称、所在市州和注册地址，由所在市州局审核后登记。",
    )
    institution_name = forms.CharField(label="机构名称（新机构）", max_length=200, required=False)
    city = forms.ModelChoiceField(
        label="所在市州（新机构）", required=False, empty_label="请选择",
        queryset=Region.objects.current().filter(level=Region.Level.CITY).select_related("parent").order_by("code"),
    )
    institution_address = forms.CharField(label="注册地址（新机构）", max_length=300, required=False)
    full_name = forms.CharField(label="姓名", max_length=150)
    phone = forms.CharField(label="联系电话", max_length=30)
    email = forms.EmailField(label="电子邮箱", help_text="系统将向该邮箱发送确认链接，确认后申请才提交市州局审核。",
                             error_messages={"invalid": "请输入有效的电子邮箱地址。"})
    username = forms.CharField(label="登录用户名", max_length=150, help_text=f"只能使用{USERNAME_CHARS}。")
    password1 = forms.CharField(label="密码", strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                help_text=password_validation.password_validators_help_text_html())
    password2 = forms.CharField(label="确认密码", strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean_credit_code(self):
        code = normalise_credit_code(self.cleaned_data["credit_code"])
        validate_credit_code(code)
        return code

    def clean_cma_number(self):
        number = normalise_cma_number(self.cleaned_data["cma_number"])
        if len(number) != 12 or not number.isascii() or not number.isdigit():
            raise forms.ValidationError("资质认定证书编号应为12位数字。")
        return number

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if not PHONE.match(phone):
            raise forms.ValidationError("请填写有效的联系电话（数字，可含 - 和括号）。")
        return phone

    def clean_username(self):
        username = self.cleaned_data["username"]
        check_username_free(username)
        return username

    def clean(self):
        data = super().clean()
        if data.get("new_institution"):
            for name in ("institution_name", "city", "institution_address"):
                if not data.get(name):
                    self.add_error(name, "申请登记新机构时必填。")
        password = data.get("password1")
        if password and data.get("password2") != password:
            self.add_error("password2", "两次输入的密码不一致。")
        elif password:
            candidate = User(username=data.get("username", ""), email=data.get("email", ""),
                             first_name=data.get("full_name", ""))
            try:
                password_validation.validate_password(password, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data

    def new_institution_data(self) -> dict | None:
        data = self.cleaned_data
        if not data["new_institution"]:
            return None
        return {"name": data["institution_name"].strip(), "city": data["city"],
                "address": data["institution_address"].strip()}


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


class OfficerImportForm(forms.Form):
    file = forms.FileField(label="账号文件", help_text="XLSX，使用下载的模板。", widget=FileInput)
