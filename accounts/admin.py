from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import AccountAction, RegistrationRequest, User


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    list_display = ("username", "last_name", "first_name", "role", "institution", "region", "is_active")
    list_filter = ("role", "is_active", "region")
    search_fields = ("username", "first_name", "last_name", "email", "institution__name")
    autocomplete_fields = ("institution",)
    fieldsets = (*UserAdmin.fieldsets,
                 ("角色与范围", {"fields": ("role", "institution", "region", "phone", "is_main_account")}))
    add_fieldsets = (*UserAdmin.add_fieldsets, ("角色与范围", {"fields": ("role", "institution", "region")}))


@admin.register(RegistrationRequest)
class RegistrationRequestAdmin(admin.ModelAdmin):
    """机构注册申请 are decided by the city officers on their pages; the admin site shows them (a proposed new
    institution's request among them) without changing them."""

    list_display = ("display_name", "credit_code", "city", "username", "status", "is_new_institution", "created_at")
    list_filter = ("status", "is_new_institution")
    search_fields = ("credit_code", "username", "institution_name", "institution__name", "email")
    exclude = ("password_hash",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AccountAction)
class AccountActionAdmin(admin.ModelAdmin):
    list_display = ("at", "institution", "actor", "action", "target")
    list_filter = ("action",)
    search_fields = ("institution__name", "target__username", "actor__username")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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
