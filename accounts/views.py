from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

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

