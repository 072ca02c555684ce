from axes.utils import reset as reset_login_failures
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from . import ratelimit
from .forms import PasswordResetRequestForm
from .permissions import home_page
from .selectors import home_context

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
