"""Who may use the staff desk, and who may change a process.

- The desk is for municipal staff: a signed-in account of kind `staff` with at least one role
  binding. Anyone not signed in is sent to the staff sign-in (and brought back); a citizen, an
  office operator or a staff account with no role gets a 403 page saying why.
- Office closures (the days deadlines skip) are recorded by managers bound city-wide.
- Changing the process bank (editing a draft, making a new draft, importing, publishing) is for
  process owners: a `process_owner` binding city-wide, or in the department that owns the
  service. catalog.services.version_publish checks the same rule again; this module only decides
  what the pages offer and refuses early with a page instead of a traceback.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.db.models import Q
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from pishkhan.accounts.models import RoleBinding, UserKind

PROCESS_OWNER = "process_owner"
# Closures are announced for the whole city: a manager bound city-wide records them.
CLOSURE_ROLE = "manager"


def is_staff_member(user) -> bool:
    """A signed-in, active staff account holding at least one role."""
    return (
        user.is_authenticated
        and user.is_active
        and user.kind == UserKind.STAFF
        and RoleBinding.objects.filter(user=user).exists()
    )


def is_process_owner(user, service=None) -> bool:
    """True for a staff member with a process_owner binding; with `service`, one that covers it
    (city-wide, or in the service's department)."""
    if not is_staff_member(user):
        return False
    bindings = RoleBinding.objects.filter(user=user, role__code=PROCESS_OWNER)
    if service is not None and service.department_id is not None:
        bindings = bindings.filter(Q(department__isnull=True) | Q(department_id=service.department_id))
    return bindings.exists()


def _bindings(user) -> set[tuple[str, int | None]]:
    """(role code, district id) of each binding of an active staff account; none for anyone else."""
    if not (user.is_authenticated and user.is_active and user.kind == UserKind.STAFF):
        return set()
    return set(RoleBinding.objects.filter(user=user).values_list("role__code", "district_id"))


def may_announce_closures(user) -> bool:
    """A staff member bound to the manager role city-wide (no district)."""
    return (CLOSURE_ROLE, None) in _bindings(user)


def header_links(user) -> dict:
    """What every desk page's header offers `user`, from one query: the process owners' links
    (is_process_owner without a service), the closures page (may_announce_closures)."""
    bindings = _bindings(user)
    return {
        "desk_owner": any(code == PROCESS_OWNER for code, _district in bindings),
        "desk_closures": (CLOSURE_ROLE, None) in bindings,
    }


def forbidden(request, message: str):
    """The desk's 403 page, with the reason."""
    return render(request, "desk/forbidden.html", {"message": message}, status=403)


def staff_required(view):
    """Only staff members see the view (module docstring)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("accounts:staff_signin"))
        if not is_staff_member(request.user):
            return forbidden(
                request,
                _(
                    "The staff desk is for municipal staff with a role. If you are staff, ask the "
                    "administrator to give your account a role."
                ),
            )
        return view(request, *args, **kwargs)

    return wrapper


def owner_required(view):
    """Only process owners (of any department) reach the view; the view checks the service's
    department itself once it has loaded the service."""

    @wraps(view)
    @staff_required
    def wrapper(request, *args, **kwargs):
        if not is_process_owner(request.user):
            return forbidden(request, owner_message())
        return view(request, *args, **kwargs)

    return wrapper


def owner_message() -> str:
    return _("Only a process owner may change, import or publish a process. You can read everything here.")
