from django.contrib import admin

from .models import Institution, Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ("name", "credit_code", "city")
    list_filter = ("city",)
    search_fields = ("name", "credit_code")
    list_select_related = ("city",)
