from django.urls import path

from . import views

app_name = "help"
urlpatterns = [
    path("", views.index, name="index"),
    path("guides/<slug:slug>/", views.guide, name="guide"),
    path("checks/", views.checks, name="checks"),
    path("notice/", views.notice, name="notice"),
    path("report-numbers/", views.report_numbers, name="report_numbers"),
    path("contacts/", views.contacts, name="contacts"),
]
