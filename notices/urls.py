from django.urls import path

from . import views

app_name = "notices"

urlpatterns = [
    path("", views.notice_list, name="list"),
    path("<int:pk>/", views.notice_detail, name="detail"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    # For the login page: public notices and their attachments, without logging in.
    path("public/<int:pk>/", views.public_detail, name="public_detail"),
    path("public/attachments/<int:pk>/", views.public_attachment, name="public_attachment"),
    path("manage/", views.manage, name="manage"),
    path("new/", views.create, name="create"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/receipts/", views.receipts, name="receipts"),
]
