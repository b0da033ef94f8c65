"""Admin pages for people, roles and districts.

Two things here are not plain Django admin:
- role bindings are written through `role_grant` / `role_revoke`, so every change is audited;
- opening a citizen who has a national ID records a `national_id.read` audit event, because the
  change page shows it to a staff member.
The admin's own login page, which checks only a password, is replaced by a redirect to the staff
sign-in, so nobody reaches the admin without the authenticator code."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from pishkhan.core.ratelimit import client_address
from pishkhan.core.validators import normalize_mobile, normalize_national_id

from . import services
from .models import Department, District, Role, RoleBinding, User, UserKind


def _admin_login(request, extra_context=None):
    """Send the admin's login to the staff sign-in (password, then authenticator). Someone already
    signed in reaches this only without admin rights, which signing in again would not change."""
    if request.user.is_authenticated:
        raise PermissionDenied
    destination = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
    return redirect(f"{reverse('accounts:staff_signin')}?{urlencode({'next': destination})}")


admin.site.login = _admin_login


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ("number", "code", "name_fa", "name_en")
    search_fields = ("code", "name_fa", "name_en")


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name_fa", "name_en")
    search_fields = ("code", "name_fa", "name_en")


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("code", "name_fa", "name_en")
    search_fields = ("code", "name_fa", "name_en")


@admin.register(RoleBinding)
class RoleBindingAdmin(admin.ModelAdmin):
    """Bindings are granted and revoked, never edited: to change one, revoke it and grant a new
    one, so the audit log shows both facts."""

    list_display = ("user", "role", "district", "department", "created_at")
    list_filter = ("role", "district", "department")
    search_fields = ("user__username", "user__first_name", "user__last_name", "role__code")
    list_select_related = ("user", "role", "district", "department")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ("user", "role", "district", "department", "created_at")
        return ("created_at",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = User.objects.exclude(kind=UserKind.CITIZEN).order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            return  # every field is read-only once granted
        # The form has already refused citizens (not offered) and duplicates (the model's unique
        # constraints), so role_grant's own refusals cannot happen here short of a race.
        binding = services.role_grant(
            user=obj.user, role=obj.role, district=obj.district, department=obj.department, by=request.user
        )
        # The admin goes on to log and redirect to `obj`: make it the row the service created.
        obj.pk, obj.created_at, obj._state = binding.pk, binding.created_at, binding._state

    def delete_model(self, request, obj):
        services.role_revoke(binding=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for binding in queryset.select_related("role", "district", "department"):
            services.role_revoke(binding=binding, by=request.user)


class PishkhanUserChangeForm(UserChangeForm):
    """Normalises mobile and national ID as every other form does, so the admin cannot store
    `۰۹۱۲…` or a national ID with a wrong check digit."""

    class Meta(UserChangeForm.Meta):
        model = User

    def clean_mobile(self):
        value = self.cleaned_data.get("mobile")
        return normalize_mobile(value) if value else None

    def clean_national_id(self):
        value = self.cleaned_data.get("national_id")
        return normalize_national_id(value) if value else None


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = PishkhanUserChangeForm
    # The national ID is deliberately absent from the list and the search: only the change page
    # shows it, and that page records who looked.
    list_display = ("username", "kind", "mobile", "first_name", "last_name", "is_active", "is_staff")
    list_filter = ("kind", "is_active", "is_staff", "is_superuser")
    search_fields = ("username", "first_name", "last_name", "email", "mobile")
    readonly_fields = ("totp_confirmed", "failed_signins", "locked_until", "last_login", "date_joined")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            _("Pishkhan"),
            {"fields": ("kind", "mobile", "national_id", "totp_confirmed", "failed_signins", "locked_until")},
        ),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Pishkhan"), {"fields": ("kind",)}),
    )
    actions = ["reset_authenticator", "unlock_signin"]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        citizen = self.get_object(request, unquote(object_id))
        if (
            citizen is not None
            and citizen.kind == UserKind.CITIZEN
            and citizen.national_id
            and self.has_view_or_change_permission(request, citizen)
        ):
            services.national_id_read_record(
                reader=request.user, citizen=citizen, address=client_address(request)
            )
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Reset the authenticator (the person enrols again at next sign-in)"))
    def reset_authenticator(self, request, queryset):
        count = 0
        for user in queryset.exclude(kind=UserKind.CITIZEN):
            services.staff_totp_reset(user=user, by=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d authenticator reset.", "%(count)d authenticators reset.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Lift the sign-in lockout"))
    def unlock_signin(self, request, queryset):
        count = 0
        for user in queryset:
            services.staff_unlock(user=user, by=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d account unlocked.", "%(count)d accounts unlocked.", count) % {"count": count},
            messages.SUCCESS,
        )
