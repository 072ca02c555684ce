from django.contrib import admin

from .models import ApiToken, Complaint, ReportNumberBatch


@admin.register(ReportNumberBatch)
class ReportNumberBatchAdmin(admin.ModelAdmin):
    list_display = ["institution", "year", "quarter", "source", "status", "is_late", "accepted", "duplicate_in_file",
                    "duplicate_existing", "rejected", "created_at"]
    list_filter = ["status", "source", "is_late", "year", "quarter"]
    search_fields = ["institution__name", "institution__credit_code", "original_name"]
    raw_id_fields = ["institution", "uploaded_by", "token"]
    readonly_fields = [field.name for field in ReportNumberBatch._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["institution", "name", "hint", "created_at", "expires_at", "revoked_at", "last_used_at"]
    search_fields = ["institution__name", "name"]
    exclude = ["token_hash"]
    readonly_fields = ["institution", "name", "hint", "created_by", "created_at", "expires_at", "revoked_at",
                       "revoked_by", "last_used_at"]

    def has_add_permission(self, request):
        return False


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = ["report_number", "institution_text", "city", "status", "created_at", "handled_at"]
    list_filter = ["status", "city"]
    search_fields = ["report_number", "institution_text"]
    raw_id_fields = ["institution", "handled_by"]
