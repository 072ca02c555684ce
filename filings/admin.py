from django.contrib import admin

from .models import Extension, Filing, FilingTransition, ReportingYear


@admin.register(ReportingYear)
class ReportingYearAdmin(admin.ModelAdmin):
    list_display = ("year", "opens_at", "closes_at", "review_closes_at")


@admin.register(Extension)
class ExtensionAdmin(admin.ModelAdmin):
    list_display = ("institution", "year", "until", "granted_by", "granted_at")
    readonly_fields = ("granted_by", "granted_at")
    autocomplete_fields = ("institution",)

    def save_model(self, request, obj, form, change):
        obj.granted_by = request.user
        super().save_model(request, obj, form, change)


class TransitionInline(admin.TabularInline):
    model = FilingTransition
    extra = 0
    can_delete = False
    readonly_fields = ("action", "from_status", "to_status", "actor", "at", "comment", "due")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Filing)
class FilingAdmin(admin.ModelAdmin):
    """Read-only: a filing's status changes only through the state machine (filings.workflow)."""

    list_display = ("institution", "year", "status", "submitted_at", "decided_at")
    list_filter = ("year", "status")
    search_fields = ("institution__name", "institution__credit_code")
    inlines = [TransitionInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
