from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import path

from . import views
from .forms import LoginForm

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        login_not_required(
            auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True)
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # 忘记密码: Django's reset views (public), the link e-mailed valid for PASSWORD_RESET_TIMEOUT seconds.
    path("accounts/password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password/reset/sent/", auth_views.PasswordResetDoneView.as_view(
        extra_context={"valid_hours": settings.PASSWORD_RESET_TIMEOUT / 3600}), name="password_reset_done"),
    path("accounts/password/reset/complete/", auth_views.PasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
    path("accounts/password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("healthz/", views.healthz, name="healthz"),
    # 机构注册: the e-mailed confirmation link (public) and the city officers' list (the form and the decision:
    # institutions/registration_urls.py)
    path("accounts/register/confirm/<str:token>/", views.registration_confirm, name="registration_confirm"),
    path("accounts/registrations/", views.registrations, name="registrations"),
    # 本机构账号 (the institution's main account); 账号开通 (public: the set-password link of a new account)
    path("accounts/institution/", views.institution_accounts, name="institution_accounts"),
    path("accounts/institution/<int:pk>/active/", views.institution_account_toggle,
         name="institution_account_toggle"),
    path("accounts/welcome/<uidb64>/<token>/", login_not_required(views.WelcomeView.as_view()),
         name="account_welcome"),
]
