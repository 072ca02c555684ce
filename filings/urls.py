from django.urls import path

from . import views

app_name = "filings"
urlpatterns = [
    path("", views.filing_home, name="home"),
    path("<int:pk>/", views.overview, name="overview"),
    path("<int:pk>/statistics/", views.statistics, name="statistics"),
    path("<int:pk>/statistics/offline.xlsx", views.offline_template, name="offline_template"),
    path("<int:pk>/statistics/offline/", views.offline_upload, name="offline_upload"),
    path("<int:pk>/annual-report/", views.annual_report, name="annual_report"),
    path("<int:pk>/centres/<int:centre_id>/", views.sr_report, name="sr_report"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/pdf/<str:kind>/", views.print_pdf, name="pdf"),
    path("<int:pk>/pdf/<str:kind>/<int:centre_id>/", views.print_pdf, name="pdf_centre"),
    path("<int:pk>/extension/", views.request_extension, name="request_extension"),
    path("extension-requests/", views.extension_requests, name="extension_requests"),
    path("extension-requests/<int:pk>/withdraw/", views.withdraw_extension_request, name="extension_request_withdraw"),
    path("extension-requests/<int:pk>/comment/", views.comment_extension_request, name="extension_request_comment"),
    path("extension-requests/<int:pk>/grant/", views.grant_extension_request, name="extension_request_grant"),
    path("extension-requests/<int:pk>/refuse/", views.refuse_extension_request, name="extension_request_refuse"),
]
