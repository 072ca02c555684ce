"""The project's URLs plus the lookup benchmark's baseline: the one indexed lookup through a raw cursor, tiny JSON.
The baseline is mounted just before the reports app, so that resolving it costs what resolving a reports page does."""
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns
from reports.selectors import LOOKUP_SQL


@login_not_required
def raw_lookup(request):
    with connection.cursor() as cursor:
        cursor.execute(LOOKUP_SQL + " ORDER BY r.year DESC, r.quarter DESC LIMIT 5", [request.GET.get("number", "")])
        rows = cursor.fetchall()
    return JsonResponse({"found": bool(rows), "rows": rows})


_reports = next(i for i, p in enumerate(project_urlpatterns) if str(p.pattern) == "reports/")
urlpatterns = [
    *project_urlpatterns[:_reports],
    path("reports/bench-raw-lookup/", raw_lookup),
    *project_urlpatterns[_reports:],
]
