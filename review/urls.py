from django.urls import path

from . import views

app_name = "review"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("approve/", views.bulk_approve, name="bulk_approve"),
    path("filings/<int:pk>/", views.detail, name="detail"),
    path("filings/<int:pk>/start/", views.start_review, name="start_review"),
    path("filings/<int:pk>/approve/", views.approve, name="approve"),
    path("filings/<int:pk>/return/", views.return_filing, name="return"),
    path("filings/<int:pk>/quality-return/", views.quality_return, name="quality_return"),
    path("progress/", views.progress, name="progress"),
    path("late/", views.late_filers, name="late_filers"),
    path("late/export/", views.late_filers_export, name="late_filers_export"),
    path("late/remind/", views.remind, name="remind"),
    path("institutions/<int:pk>/chasing/", views.chasing, name="chasing"),
    path("institutions/<int:pk>/<int:year>/extension/", views.grant_extension, name="extension"),
    path("digest/", views.digest, name="digest"),
    path("digest/send/", views.digest_send, name="digest_send"),
    path("digest/subscription/", views.digest_subscription, name="digest_subscription"),
    path("chasing/", views.chasing_activity, name="chasing_activity"),
]
