from django.urls import path

from jobs.views import job_status

from . import api, views

app_name = "reports"
urlpatterns = [
    # Public: no login. First, so that the busiest page resolves quickly.
    path("verify/", views.verify, name="verify"),
    path("verify/complain/", views.complain, name="complain"),
    path("upload/", views.upload, name="upload"),
    path("batches/<int:pk>/", views.batch_detail, name="batch"),
    path("batches/<int:pk>/status/", job_status, {"find": views._batch_for, "extra": views.batch_status_fields},
         name="batch_status"),
    path("batches/<int:pk>/rejects/", views.batch_rejects, name="rejects"),
    path("batches/<int:pk>/retry/", views.batch_retry, name="batch_retry"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("missing/", views.missing, name="missing"),
    path("missing/remind/", views.remind, name="remind"),
    path("complaints/", views.complaints, name="complaints"),
    path("complaints/<int:pk>/", views.complaint_detail, name="complaint"),
    # LIMS API: token authentication.
    path("api/v1/numbers/", api.upload_numbers, name="api_upload"),
    path("api/v1/batches/<int:pk>/", api.batch_status, name="api_batch"),
]
