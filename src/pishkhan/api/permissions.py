"""Who may call what, before a view looks at any case.

These only sort callers by kind. Whether a caller may see a particular case is decided in one place,
`cases.selectors.case_visible_to` / `cases_for`, which every view that takes a tracking code uses;
what a caller may do to a case (claim a step, withdraw …) is decided by the case services."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from pishkhan.accounts.models import UserKind

# The desk's rules for who counts as staff and who owns a process; reused, not restated.
from pishkhan.desk.access import is_process_owner, is_staff_member

__all__ = ["CanFileCases", "IsStaffMember", "is_process_owner", "is_staff_member", "office_of"]


def office_of(user):
    """The e-service office an operator account works for, or None."""
    if not user.is_authenticated or user.kind != UserKind.OPERATOR:
        return None
    operator = getattr(user, "office_operator", None)
    return operator.office if operator is not None else None


class IsStaffMember(BasePermission):
    """Municipal staff with a role: the queue is theirs."""

    message = _("This is for municipal staff with a role.")

    def has_permission(self, request, view):
        return is_staff_member(request.user)


class CanFileCases(BasePermission):
    """Citizens (for themselves), office operators of an office and staff with a role (for a
    walk-in applicant at a counter) file cases."""

    message = _("Only citizens, e-service office operators and municipal staff file cases.")

    def has_permission(self, request, view):
        user = request.user
        if not user.is_authenticated:
            return False
        if user.kind == UserKind.CITIZEN:
            return True
        if user.kind == UserKind.OPERATOR:
            return office_of(user) is not None
        return is_staff_member(user)
