"""The forms of 机构注册 (public) and of the officer import; the city officer's decision form is the accounts app's."""
from django import forms
from django.contrib.auth import password_validation

from accounts.models import User
from accounts.registration import check_username_free
from accounts.validators import USERNAME_CHARS
from config.widgets import FileInput

from .codes import normalise_cma_number, normalise_credit_code
from .fields import CityChoiceField
from .imports import PHONE
from .models import validate_credit_code


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
    city = CityChoiceField(label="所在市州（新机构）", required=False)
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


class OfficerImportForm(forms.Form):
    file = forms.FileField(label="账号文件", help_text="XLSX，使用下载的模板。", widget=FileInput)
