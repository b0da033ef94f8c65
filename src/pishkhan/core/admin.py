from django import forms
from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .forms import JalaliDateField
from .models import AuditEvent, Closure
from .ratelimit import client_address
from .services import closure_audit
from .templatetags.pishkhan import format_jalali


class ClosureForm(forms.ModelForm):
    """The closed day typed and shown in the Jalali calendar, as staff read dates."""

    date = JalaliDateField(label=gettext_lazy("date"), help_text=gettext_lazy("e.g. 1404/02/21"))

    class Meta:
        model = Closure
        fields = ["date", "reason"]


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    """Closures as the province announces them. Every change is written to the audit log with the
    change itself. The open deadlines follow on their own: the database gives the calendar a new
    token (migration 0003) and the deadline sweep, which sees the token it last applied differ,
    recomputes them (cases.sweep.deadlines_behind) — in the worker, not in this request."""

    form = ClosureForm
    list_display = ["jalali_date", "reason", "created_at"]
    search_fields = ["reason"]
    ordering = ["-date"]

    @admin.display(description=gettext_lazy("date"), ordering="date")
    def jalali_date(self, closure: Closure) -> str:
        return format_jalali(closure.date, "short")

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            self._audit(request, "closure.changed" if change else "closure.added", obj)
        self._deadlines_follow(request)

    def delete_model(self, request, obj):
        with transaction.atomic():
            self._audit(request, "closure.removed", obj)
            super().delete_model(request, obj)
        self._deadlines_follow(request)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for closure in queryset:
                self._audit(request, "closure.removed", closure)
            super().delete_queryset(request, queryset)
        self._deadlines_follow(request)

    @staticmethod
    def _audit(request, action: str, closure: Closure) -> None:
        closure_audit(action=action, closure=closure, by=request.user, address=client_address(request))

    def _deadlines_follow(self, request) -> None:
        self.message_user(
            request,
            _("The deadline sweep recomputes the open deadlines with this calendar within minutes."),
        )


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
