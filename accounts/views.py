
from axes.utils import reset as reset_login_failures
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from config.refusals import refusal_as_message

from . import institution_accounts as account_services, permissions, ratelimit, registration as registration_services
from .forms import InviteFilerForm, PasswordResetRequestForm
from .models import RegistrationRequest
from .permissions import home_page
from .selectors import (
    ACCOUNT_STATES,
    account_state,
    home_context,
    institution_accounts_context,
    pending_registrations,
)

HOME_TEMPLATES = {
    "institution": "accounts/home_filer.html",
    "city": "accounts/home_city_officer.html",
    "review": "accounts/home_reviewer.html",
    "admin": "accounts/home_admin.html",
}


def home(request):
    template = HOME_TEMPLATES[home_page(request.user)]
    return render(request, template, home_context(request.user))


@login_not_required
@never_cache
def healthz(request):
    """Liveness for load balancers and docker-compose: the database and the cache answer."""
    status = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        status["database"] = "ok"
    except Exception as exc:  # the point is to report, not to crash
        status["database"] = f"error: {exc.__class__.__name__}"
    try:
        cache.set("healthz", "1", 5)
        status["cache"] = "ok" if cache.get("healthz") == "1" else "error"
    except Exception as exc:
        status["cache"] = f"error: {exc.__class__.__name__}"
    healthy = all(value == "ok" for value in status.values())
    return JsonResponse(status, status=200 if healthy else 503)



class PasswordResetView(auth_views.PasswordResetView):
    """忘记密码 (public, like all of Django's reset views): Django's view with our form; requests are limited per
    client address (PASSWORD_RESETS_PER_HOUR, then HTTP 429), whatever address they name."""

    form_class = PasswordResetRequestForm

    def post(self, request, *args, **kwargs):
        if not ratelimit.hit("password-reset", request, limit=settings.PASSWORD_RESETS_PER_HOUR, window=3600):
            context = self.get_context_data(form=self.get_form(), rate_limited=True)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Setting a new password from the e-mailed link also lifts a login lockout of that user name (django-axes)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        reset_login_failures(username=form.user.get_username())
        return response


def _base_url(request) -> str:
    return request.build_absolute_uri("/")


# --- 机构注册 (public) -----------------------------------------------------------------------------------------------

@login_not_required
def registration_confirm(request, token):
    """The e-mailed link opens a page with a button: the address is confirmed by the POST, never by the GET."""
    context = {}
    try:
        if request.method == "POST":
            context["confirmed"] = registration_services.confirm_email(token)
        else:
            context["request_to_confirm"] = registration_services.request_for_token(token)
    except registration_services.RegistrationRefused as refusal:
        context["refusal"] = refusal.message
    return render(request, "accounts/registration_confirm.html", context)


# --- the city officer's decisions -------------------------------------------------------------------------------------

def registrations(request):
    if not permissions.can_decide_registrations(request.user):
        raise PermissionDenied("只有市州局人员可以审核机构注册申请。")
    status = request.GET.get("status") or RegistrationRequest.Status.PENDING
    if status not in RegistrationRequest.Status.values:
        status = RegistrationRequest.Status.PENDING
    rows = pending_registrations(request.user, status=status)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/registrations.html",
                  {"page_obj": page, "status": status, "statuses": RegistrationRequest.Status.choices})


# --- 本机构账号 (the main account) ------------------------------------------------------------------------------------

def _managed_institution(user):
    if not permissions.is_main_account(user):
        raise PermissionDenied("只有本机构的主账号可以管理机构账号。")
    return user.institution


def institution_accounts(request):
    institution = _managed_institution(request.user)
    form = InviteFilerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_as_message(request) as outcome:
            account_services.invite_filer(
                institution, actor=request.user, username=data["username"], full_name=data["full_name"],
                email=data["email"], phone=data["phone"], base_url=_base_url(request),
            )
        if outcome.refusal is None:
            messages.success(request, f"已邀请 {data['username']}，设置密码的链接已发到 {data['email']}。")
            return redirect("institution_accounts")
    return render(request, "accounts/institution_accounts.html",
                  {**institution_accounts_context(request.user, institution), "form": form},
                  status=400 if form.errors else 200)


@require_POST
def institution_account_toggle(request, pk):
    institution = _managed_institution(request.user)
    target = get_object_or_404(institution.users, pk=pk)
    with refusal_as_message(request) as outcome:
        target = account_services.set_account_active(
            target, actor=request.user, active=request.POST.get("action") != "disable", base_url=_base_url(request)
        )
    if outcome.refusal is None:
        messages.success(request, f"账号 {target.username}：{ACCOUNT_STATES[account_state(target)]}。")
    return redirect("institution_accounts")


class WelcomeView(auth_views.PasswordResetConfirmView):
    """账号开通 (public): an invited filer or imported officer sets the password from the e-mailed link, and the
    account becomes active."""

    template_name = "accounts/welcome.html"
    success_url = reverse_lazy("login")
    reset_url_token = "set-password"

    def form_valid(self, form):
        response = super().form_valid(form)
        account_services.activate_account(form.user)
        messages.success(self.request, "密码已设置，账号已启用，请登录。")
        return response
