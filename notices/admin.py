from django.contrib import admin

from .models import Notice, NoticeAttachment


class AttachmentInline(admin.TabularInline):
    model = NoticeAttachment
    fields = ["original_name", "kind", "size", "uploaded_at"]
    readonly_fields = fields
    extra = 0


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    """For looking up only: notices are published, edited and withdrawn in the portal (通知公告 → 通知管理), whose
    services check the publisher's scope and every attachment."""

    list_display = ["title", "region", "published_at", "pinned", "public", "withdrawn_at", "author"]
    list_filter = ["region", "pinned", "public"]
    search_fields = ["title"]
    inlines = [AttachmentInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
