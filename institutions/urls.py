from django.urls import path

from . import views

app_name = "institutions"
urlpatterns = [
    path("", views.institution_list, name="list"),
    path("mine/", views.my_institution, name="mine"),
    path("<int:pk>/", views.institution_detail, name="detail"),
]
