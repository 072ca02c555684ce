"""机构注册 and the officer import, named without a namespace like the accounts app's pages (included at the root)."""
from django.urls import path

from . import registration_views as views

urlpatterns = [
    path("accounts/register/", views.registration, name="registration"),
    path("accounts/register/sent/", views.registration_sent, name="registration_sent"),
    path("accounts/registrations/<int:pk>/", views.registration_decide, name="registration_decide"),
    path("accounts/officers/import/", views.officer_import, name="officer_import"),
    path("accounts/officers/import/template/", views.officer_import_template, name="officer_import_template"),
]
