from django.contrib import admin

from .models import ChasingRecord, DecisionNotice, Digest, FieldComment, Reminder


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


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    """Reminders are claimed and sent by review/reminders.py only; the admin reads them."""

    list_display = ["institution", "reason", "key", "day", "status", "email", "sent_by", "sent_at"]
    list_filter = ["reason", "status", "day"]
    search_fields = ["institution__name", "email", "key"]
    raw_id_fields = ["institution", "sent_by"]
    readonly_fields = [field.name for field in Reminder._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(DecisionNotice)
class DecisionNoticeAdmin(admin.ModelAdmin):
    list_display = ["transition", "recipients", "sent_at"]
    raw_id_fields = ["transition"]


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    """待办摘要 e-mails are claimed and sent by review/digests.py only; the admin reads them."""

    list_display = ["user", "kind", "week", "status", "email", "sent_at"]
    list_filter = ["kind", "status", "week"]
    search_fields = ["user__username", "email"]
    raw_id_fields = ["user"]
    readonly_fields = [field.name for field in Digest._meta.fields]

    def has_add_permission(self, request):
        return False
