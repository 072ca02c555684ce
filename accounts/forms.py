from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码错误。请注意区分大小写；连续多次失败将暂时锁定登录。",
        "inactive": "该账号已停用，请联系系统管理员。",
    }
