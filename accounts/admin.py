from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    list_display = ("username", "last_name", "first_name", "role", "institution", "region", "is_active")
    list_filter = ("role", "is_active", "region")
    search_fields = ("username", "first_name", "last_name", "email", "institution__name")
    autocomplete_fields = ("institution",)
    fieldsets = (*UserAdmin.fieldsets, ("角色与范围", {"fields": ("role", "institution", "region", "phone")}))
    add_fieldsets = (*UserAdmin.add_fieldsets, ("角色与范围", {"fields": ("role", "institution", "region")}))


if admin.site.is_registered(AccessAttempt):
    # django-axes' list columns "status" and "expiration" have no translatable label; the rest is in locale/zh_Hans.
    admin.site.unregister(AccessAttempt)

    @admin.register(AccessAttempt)
    class LoginAttemptAdmin(AccessAttemptAdmin):
        @admin.display(description="失效时间")
        def expiration(self, obj):
            return super().expiration(obj)

        @admin.display(description="状态")
        def status(self, obj):
            remaining = settings.AXES_FAILURE_LIMIT - obj.failures_since_start
            return f"还可尝试 {remaining} 次" if remaining > 0 else "已锁定"
