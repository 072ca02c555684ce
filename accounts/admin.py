from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    list_display = ("username", "last_name", "first_name", "role", "institution", "region", "is_active")
    list_filter = ("role", "is_active", "region")
    search_fields = ("username", "first_name", "last_name", "email", "institution__name")
    autocomplete_fields = ("institution",)
    fieldsets = UserAdmin.fieldsets + (("角色与范围", {"fields": ("role", "institution", "region", "phone")}),)
    add_fieldsets = UserAdmin.add_fieldsets + (("角色与范围", {"fields": ("role", "institution", "region")}),)
