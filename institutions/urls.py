from django.urls import path

from jobs.views import job_status

from . import review_group_views, views

app_name = "institutions"
urlpatterns = [
    path("", views.institution_list, name="list"),
    path("mine/", views.my_institution, name="mine"),
    path("<int:pk>/", views.institution_detail, name="detail"),
    path("<int:pk>/edit/", views.edit_profile, name="edit"),
    path("<int:pk>/edit/<slug:section>/", views.edit_section, name="edit_section"),
    path("<int:pk>/authority/", views.choose_authority, name="choose_authority"),
    path("<int:pk>/identity-change/", views.identity_change, name="identity_change"),
    path("identity-changes/", views.identity_changes, name="identity_changes"),
    path("identity-changes/<int:pk>/decide/", views.identity_change_decide, name="identity_change_decide"),
    path("identity-changes/<int:pk>/cancel/", views.identity_change_cancel, name="identity_change_cancel"),
    path("cma-number/", views.decode_cma, name="decode_cma"),
    path("imports/", views.import_list, name="imports"),
    path("imports/template.xlsx", views.import_template, name="import_template"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/status/", job_status, {"find": views._job_for, "extra": views.import_status_fields},
         name="import_status"),
    path("imports/<int:pk>/confirm/", views.import_confirm, name="import_confirm"),
    path("imports/<int:pk>/retry/", views.import_retry, name="import_retry"),
    # 评审组 (SAMR)
    path("review-groups/", review_group_views.review_group_list, name="review_groups"),
    path("review-groups/<int:pk>/", review_group_views.review_group_detail, name="review_group"),
    path("review-groups/<int:pk>/members/", review_group_views.review_group_add_member,
         name="review_group_add_member"),
    path("review-groups/<int:pk>/members/<int:user_id>/remove/", review_group_views.review_group_remove_member,
         name="review_group_remove_member"),
    path("review-groups/<int:pk>/assign/<int:institution_id>/", review_group_views.review_group_assign,
         name="review_group_assign"),
    path("review-groups/<int:pk>/unassign/<int:institution_id>/", review_group_views.review_group_unassign,
         name="review_group_unassign"),
    path("review-groups/<int:pk>/bulk-assign/", review_group_views.review_group_bulk_assign,
         name="review_group_bulk_assign"),
]
