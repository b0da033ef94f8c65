"""The outbox in Django's admin, to look at and to put failed messages back in the queue. Rows
are written by notify_case_event and changed by the worker only; the one action goes through
services.outbox_retry_failed."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import OutboxMessage
from .services import outbox_retry_failed


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "to", "case", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["status", "channel"]
    search_fields = ["to", "case__tracking_code", "dedupe_key"]
    date_hierarchy = "created_at"
    list_select_related = ["case"]
    actions = ["retry_failed"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send the selected failed messages again"), permissions=["change"])
    def retry_failed(self, request, queryset):
        count = outbox_retry_failed(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext(
                "%(count)d failed message is queued again.",
                "%(count)d failed messages are queued again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
