"""Admin pages for the process bank.

Every write goes through catalog.services, as everywhere else: a draft's body saved here is
validated and stored by version_update_draft, publishing is an action that calls version_publish
(so only process owners can, and it is audited), and a variant's patch is saved by variant_set.
Published and retired versions are shown read-only and cannot be deleted: they never change.
Services and versions are created by importing or loading definitions, not here."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from . import services
from .models import DistrictVariant, ProcessVersion, Service, VersionStatus


def _problems_text(error: services.CatalogError) -> str:
    details = "; ".join(p.message for p in error.problems[:5])
    return f"{error} {details}".strip()


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    """Services follow their published version: titles, department and search text are refreshed
    on each publication, so they are read-only here."""

    list_display = ("code", "title_fa", "title_en", "department", "category")
    list_filter = ("category", "department")
    search_fields = ("code", "title_fa", "title_en", "search_text")
    readonly_fields = ("code", "title_fa", "title_en", "department", "category", "search_text")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ProcessVersionForm(forms.ModelForm):
    class Meta:
        model = ProcessVersion
        fields = ("body", "note")

    def clean_body(self):
        from .validation import validate_definition

        body = self.cleaned_data["body"]
        if not isinstance(body, dict):
            raise forms.ValidationError(_("The definition must be a JSON object."))
        problems = validate_definition(body, filename=f"{self.instance.service.code} v{self.instance.number}")
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise forms.ValidationError([f"{p.path}: {p.message}" for p in errors])
        return body


@admin.register(ProcessVersion)
class ProcessVersionAdmin(admin.ModelAdmin):
    list_display = ("service", "number", "status", "created_at", "published_at", "published_by")
    list_filter = ("status",)
    search_fields = ("service__code", "service__title_fa", "note")
    ordering = ("service__code", "number")
    actions = ("publish_selected", "new_draft_from_selected")
    form = ProcessVersionForm
    frozen_fields = (
        "service",
        "number",
        "status",
        "body",
        "body_hash",
        "source_format",
        "source",
        "note",
        "created_at",
        "created_by",
        "published_at",
        "published_by",
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # A draft may be thrown away; what was published stays for the record and for its cases.
        return super().has_delete_permission(request, obj) and (
            obj is None or obj.status == VersionStatus.DRAFT
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == VersionStatus.DRAFT:
            return tuple(f for f in self.frozen_fields if f not in ("body", "note"))
        return self.frozen_fields

    def save_model(self, request, obj, form, change):
        if obj.status != VersionStatus.DRAFT:
            return  # read-only; nothing to save
        try:
            services.version_update_draft(
                version=obj, body=form.cleaned_data["body"], by=request.user, note=form.cleaned_data["note"]
            )
        except services.CatalogError as error:
            self.message_user(request, _problems_text(error), messages.ERROR)

    @admin.action(description=_("Publish the selected drafts"))
    def publish_selected(self, request, queryset):
        for version in queryset.select_related("service"):
            try:
                services.version_publish(version=version, by=request.user)
            except (PermissionDenied, services.CatalogError) as error:
                text = _problems_text(error) if isinstance(error, services.CatalogError) else str(error)
                self.message_user(request, f"{version}: {text}", messages.ERROR)
            else:
                self.message_user(
                    request, _("%(version)s is published.") % {"version": version}, messages.SUCCESS
                )

    @admin.action(description=_("Make a new draft from each selected version"))
    def new_draft_from_selected(self, request, queryset):
        for version in queryset.select_related("service"):
            draft = services.version_new_draft_from(version=version, by=request.user)
            self.message_user(request, _("%(version)s created.") % {"version": draft}, messages.SUCCESS)


class DistrictVariantForm(forms.ModelForm):
    class Meta:
        model = DistrictVariant
        fields = ("patch", "note")


@admin.register(DistrictVariant)
class DistrictVariantAdmin(admin.ModelAdmin):
    """A variant's patch is saved through variant_set, which validates it against its version and
    writes the change to the audit log."""

    list_display = ("version", "district", "created_at")
    list_filter = ("district",)
    search_fields = ("version__service__code", "note")
    form = DistrictVariantForm
    readonly_fields = ("version", "district", "source", "created_at")

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        try:
            services.variant_set(
                version=obj.version,
                district=obj.district,
                patch=form.cleaned_data["patch"],
                note=form.cleaned_data["note"],
                by=request.user,
            )
        except services.CatalogError as error:
            self.message_user(request, _problems_text(error), messages.ERROR)
