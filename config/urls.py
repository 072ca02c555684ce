from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "质检统计直报 · 系统管理"
admin.site.site_title = "质检统计直报"
admin.site.index_title = "系统管理"

urlpatterns = [
    path("", include("accounts.urls")),
    path("", include("institutions.registration_urls")),  # 机构注册 and the officer import (names without namespace)
    path("institutions/", include("institutions.urls")),
    path("filings/", include("filings.urls")),
    path("review/", include("review.urls")),
    path("reports/", include("reports.urls")),
    path("summaries/", include("summaries.urls")),
    path("help/", include("portalhelp.urls")),
    path("notices/", include("notices.urls")),
    # One login page for everyone: the admin's own login form sends to the portal's (throttled) one.
    path("admin/login/", login_not_required(RedirectView.as_view(pattern_name="login", query_string=True))),
    path("admin/", admin.site.urls),
]
