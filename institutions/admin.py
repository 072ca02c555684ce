from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from . import selectors, services
from .models import (
    CmaCertificate,
    CmaField,
    CmaIssuer,
    IdentityChangeRequest,
    ImportJob,
    Institution,
    NationalCentre,
    OtherQualification,
    ProfessionalField,
    Region,
    ReviewGroup,
    Site,
    SupervisingDepartment,
)


@admin.register(Region)
class RegionAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "level", "parent", "is_current", "contact_name", "contact_phone", "contact_email")
    list_filter = ("level", "is_current")
    search_fields = ("code", "name")
    # The divisions themselves change only through manage.py update_divisions (ADR 0022), which keeps history.
    readonly_fields = ("code", "name", "level", "parent", "is_current", "successor")
    fieldsets = [
        (None, {"fields": ("code", "name", "level", "parent", "is_current", "successor")}),
        ("联系方式（系统帮助中公开显示）", {"fields": ("contact_name", "contact_phone", "contact_email")}),
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SiteInline(admin.TabularInline):
    model = Site
    extra = 0


class CertificateInline(admin.TabularInline):
    model = CmaCertificate
    extra = 0
    fields = ("number", "level", "issuer", "cma_field", "supervising_department", "issue_date", "expiry_date",
              "capability_items")
    readonly_fields = ("level", "issuer", "cma_field", "supervising_department")


class OtherQualificationInline(admin.TabularInline):
    model = OtherQualification
    extra = 0


class InstitutionAdminForm(forms.ModelForm):
    class Meta:
        model = Institution
        fields = "__all__"  # noqa: DJ007 -- the admin edits every field, including ones added later

    def clean_city(self):
        # Moving to another province would hand a filing under review to another authority.
        city = self.cleaned_data.get("city")
        old = self.instance
        if old.pk and city and old.city_id != city.pk and old.city.parent_id != city.parent_id:
            freeze = selectors.authority_freeze(old.pk)
            if freeze is not None:
                raise forms.ValidationError(
                    f"该机构{freeze.year}填报当前为“{freeze.get_status_display()}”，审核决定作出前不能迁往其他省份。"
                )
        return city


@admin.register(ReviewGroup)
class ReviewGroupAdmin(SimpleHistoryAdmin):
    """Members and names may be corrected here; institutions are assigned on the 评审组 pages (they check the
    freeze of filings under review)."""

    list_display = ("name", "is_active", "created_by", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name",)
    filter_horizontal = ("members",)
    readonly_fields = ("created_by", "created_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    form = InstitutionAdminForm
    list_display = ("name", "credit_code", "city", "nature", "reviewing_authority")
    list_filter = ("city", "nature", "reviewing_authority")
    search_fields = ("name", "credit_code")
    list_select_related = ("city",)
    autocomplete_fields = ("parent",)
    filter_horizontal = ("professional_fields",)
    # The authority follows the certificates; a review group is assigned on SAMR's 评审组 pages (their checks).
    readonly_fields = ("credit_code_override_by", "reviewing_authority", "reviewing_authority_chosen",
                       "reviewing_authority_chosen_by", "reviewing_authority_chosen_at", "review_group")
    inlines = [SiteInline, CertificateInline, OtherQualificationInline]

    def save_model(self, request, obj, form, change):
        # Who accepted a credit code with a bad check character is recorded with the reason.
        if "credit_code_override_reason" in form.changed_data:
            obj.credit_code_override_by = request.user if obj.credit_code_override_reason else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.refresh_reviewing_authority(Institution.objects.get(pk=form.instance.pk), actor=request.user)


@admin.register(NationalCentre)
class NationalCentreAdmin(admin.ModelAdmin):
    list_display = ("name", "lead_institution", "approval_number")
    search_fields = ("name", "lead_institution__name")
    autocomplete_fields = ("lead_institution", "co_builders")


@admin.register(ProfessionalField)
class ProfessionalFieldAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "category", "order")
    list_editable = ("order",)


@admin.register(CmaField, SupervisingDepartment)
class CodeListAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(CmaIssuer)
class CmaIssuerAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "province")


@admin.register(IdentityChangeRequest)
class IdentityChangeRequestAdmin(admin.ModelAdmin):
    """A record only: requests are made by filers and decided on the portal's 信息变更申请 page."""

    list_display = ("institution", "status", "requested_by", "requested_at", "decided_by", "decided_at")
    list_filter = ("status",)
    search_fields = ("institution__name", "name", "credit_code")
    readonly_fields = [f.name for f in IdentityChangeRequest._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("original_name", "created_by", "region", "created_at", "status", "total_rows", "error_count")
    list_filter = ("status",)
    readonly_fields = [f.name for f in ImportJob._meta.fields]

    def has_add_permission(self, request):
        return False
