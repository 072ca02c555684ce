"""The project's URLs plus the lookup benchmark's baseline: the one indexed lookup through a raw cursor, tiny JSON."""
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.urls import include, path

from reports.selectors import LOOKUP_SQL


@login_not_required
def raw_lookup(request):
    with connection.cursor() as cursor:
        cursor.execute(LOOKUP_SQL + " ORDER BY r.year DESC, r.quarter DESC LIMIT 5", [request.GET.get("number", "")])
        rows = cursor.fetchall()
    return JsonResponse({"found": bool(rows), "rows": rows})


urlpatterns = [
    path("bench/raw-lookup/", raw_lookup),
    path("", include("config.urls")),
]
