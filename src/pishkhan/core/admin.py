from django.contrib import admin

from .models import AuditEvent, Closure


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    list_display = ["date", "reason", "created_at"]
    search_fields = ["reason"]
    date_hierarchy = "date"


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log, to read: rows are written only by core.audit.audit_record and the database
    refuses to change them, so the admin offers no add, change or delete. AuditHead is not
    registered: it is bookkeeping for the chain, and editing it would only break verification."""

    list_display = ["seq", "at", "action", "actor_label", "subject", "address"]
    list_filter = ["action"]
    search_fields = ["subject", "actor_label"]
    ordering = ["-seq"]
    # Counting a log of millions of rows on every page view is slow and tells an auditor nothing.
    show_full_result_count = False
    fields = [
        "seq",
        "at",
        "action",
        "actor",
        "actor_label",
        "subject",
        "address",
        "data",
        "prev_hash",
        "hash",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
