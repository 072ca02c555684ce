from django.urls import path

from jobs.views import job_status

from . import views

app_name = "summaries"
urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("exports/", views.export_list, name="exports"),
    path("exports/<int:pk>/status/", job_status, {"find": views._job_for, "extra": views.export_status_fields},
         name="status"),
    path("exports/<int:pk>/download/", views.export_download, name="download"),
    path("exports/<int:pk>/retry/", views.export_retry, name="retry"),
]
