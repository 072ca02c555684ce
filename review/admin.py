from django.contrib import admin

from .models import AutoReminder, ChasingRecord, DecisionNotice, FieldComment


@admin.register(ChasingRecord)
class ChasingRecordAdmin(admin.ModelAdmin):
    list_display = ["institution", "year", "contacted_on", "channel", "recorded_by"]
    list_filter = ["year", "channel"]
    search_fields = ["institution__name", "note"]
    raw_id_fields = ["institution", "recorded_by"]


@admin.register(FieldComment)
class FieldCommentAdmin(admin.ModelAdmin):
    list_display = ["filing", "label", "created_by", "created_at"]
    raw_id_fields = ["filing", "transition", "created_by"]
    readonly_fields = ["created_at"]


@admin.register(AutoReminder)
class AutoReminderAdmin(admin.ModelAdmin):
    list_display = ["institution", "year", "days_before", "sent_at", "outcome"]
    list_filter = ["year", "days_before"]
    raw_id_fields = ["institution"]


@admin.register(DecisionNotice)
class DecisionNoticeAdmin(admin.ModelAdmin):
    list_display = ["transition", "recipients", "sent_at"]
    raw_id_fields = ["transition"]
