"""Admin pages for the registry of e-service offices. An office's status is read-only here:
suspending and reinstating go through offices.services (the oversight page), so each change is
audited with its reason."""

from django import forms
from django.contrib import admin

from pishkhan.core.text import to_ascii_digits

from .models import Office, OfficeOperator


class OfficeForm(forms.ModelForm):
    class Meta:
        model = Office
        fields = ["licence_number", "licence_expires_on", "name", "district", "address", "phone", "hours"]

    def clean_phone(self):
        # Typed as it is written on the office's card: Persian digits welcome.
        return to_ascii_digits(self.cleaned_data["phone"]).strip()


class OfficeOperatorInline(admin.TabularInline):
    model = OfficeOperator
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    form = OfficeForm
    list_display = ["licence_number", "name", "district", "phone", "status", "licence_expires_on"]
    list_filter = ["status", "district"]
    search_fields = ["licence_number", "name", "address"]
    # New offices start active; a change of standing must leave an audit trail (offices.services).
    readonly_fields = ["status"]
    inlines = [OfficeOperatorInline]


@admin.register(OfficeOperator)
class OfficeOperatorAdmin(admin.ModelAdmin):
    list_display = ["user", "office", "is_manager"]
    list_filter = ["is_manager"]
    search_fields = ["user__username", "office__name", "office__licence_number"]
    autocomplete_fields = ["user", "office"]
