"""The cases in Django's admin, to look at: every change goes through cases.services (which
locks, checks and writes the event), so nothing here adds, changes or deletes."""

from django.contrib import admin

from .models import Case, CaseEvent, Position


class _ReadOnly(admin.ModelAdmin):
    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PositionInline(admin.TabularInline):
    model = Position
    extra = 0
    can_delete = False
    fields = ["step_id", "role", "state", "assignee", "assigned_at", "due_at", "alert"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(_ReadOnly):
    list_display = ["tracking_code", "service", "district", "status", "channel", "submitted_at", "due_at"]
    list_filter = ["status", "channel", "district"]
    search_fields = ["tracking_code"]
    date_hierarchy = "submitted_at"
    list_select_related = ["service", "district"]
    inlines = [PositionInline]


@admin.register(Position)
class PositionAdmin(_ReadOnly):
    list_display = ["case", "step_id", "role", "district", "state", "assignee", "due_at", "alert"]
    list_filter = ["state", "alert", "role", "district"]
    search_fields = ["case__tracking_code", "step_id"]
    list_select_related = ["case", "district", "assignee"]


@admin.register(CaseEvent)
class CaseEventAdmin(_ReadOnly):
    """The append-only event log: the database refuses changes, so the admin offers none."""

    list_display = ["case", "seq", "activity", "step_id", "outcome", "actor", "completed_at"]
    list_filter = ["activity"]
    search_fields = ["case__tracking_code", "step_id"]
    list_select_related = ["case", "actor"]
    ordering = ["-completed_at"]
    show_full_result_count = False
