from django.urls import path

from . import views

app_name = "summaries"
urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("exports/", views.export_list, name="exports"),
    path("exports/<int:pk>/status/", views.export_status, name="status"),
    path("exports/<int:pk>/download/", views.export_download, name="download"),
    path("exports/<int:pk>/retry/", views.export_retry, name="retry"),
]
