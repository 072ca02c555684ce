from django import forms
from django.contrib import admin

from .models import Extension, ExtensionRequest, Filing, FilingTransition, ReportingYear


class ReportingYearForm(forms.ModelForm):
    """The three dates may be left blank: they then take the default window (ReportingYear.apply_defaults)."""

    class Meta:
        model = ReportingYear
        fields = ["year", "opens_at", "closes_at", "review_closes_at"]
        help_texts = {
            "opens_at": "留空则为次年1月1日 00:00（北京时间）。",
            "closes_at": "留空则为次年4月30日 23:59:59（北京时间）。",
            "review_closes_at": "留空则与填报截止相同（通知要求4月底前完成提交并通过审核）；可延后，不能早于填报截止。",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("opens_at", "closes_at", "review_closes_at"):
            self.fields[name].required = False


@admin.register(ReportingYear)
class ReportingYearAdmin(admin.ModelAdmin):
    form = ReportingYearForm
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


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(admin.ModelAdmin):
    """Read-only: requests are asked, commented and decided on the portal's pages (filings.extensions)."""

    list_display = ("filing", "requested_until", "status", "granted_until", "requested_at", "decided_at")
    list_filter = ("status", "filing__year")
    search_fields = ("filing__institution__name",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
