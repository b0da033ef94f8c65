"""Writes about e-service offices: the city suspends, reinstates and renews an office's licence.
Each change is one function; suspend and reinstate are written to the security audit log.

    office_suspend(*, office, by, reason) -> Office
    office_reinstate(*, office, by) -> Office
    office_licence_renew(*, office, until, by) -> Office

Who may call them (an administrator) is checked here, not only in the views. Filing itself is
refused by the case engine (cases.services._check_filing) for a suspended office or an expired
licence; nothing here duplicates that rule.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from pishkhan.accounts.models import RoleBinding, UserKind
from pishkhan.core.audit import audit_record

from .models import Office, OfficeStatus

ADMINISTRATOR_ROLE = "administrator"
MAX_REASON_LENGTH = 1000


class OfficeError(Exception):
    """A refused change to an office: `code` for programs, `message` for people, `status` HTTP."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def is_administrator(user) -> bool:
    """A signed-in, active staff account bound to the `administrator` role (any district)."""
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.kind == UserKind.STAFF
        and RoleBinding.objects.filter(user=user, role__code=ADMINISTRATOR_ROLE).exists()
    )


def _require_administrator(user) -> None:
    if not is_administrator(user):
        raise OfficeError("forbidden", _("Only an administrator may change an office's standing."), 403)


def _locked(office: Office) -> Office:
    return Office.objects.select_for_update().get(pk=office.pk)


def _sync(target: Office, source: Office) -> None:
    target.status, target.licence_expires_on = source.status, source.licence_expires_on


def office_suspend(*, office: Office, by, reason: str) -> Office:
    """Suspend `office`: it may not file cases until reinstated (cases it filed go on). `reason`
    is required (kept in the audit log, event `office.suspended`). Refused: not an administrator
    (403 `forbidden`), no reason (400 `reason_required`), already suspended (409 `stale`)."""
    _require_administrator(by)
    reason = str(reason or "").strip()
    if not reason:
        raise OfficeError("reason_required", _("Give the reason for suspending the office."))
    if len(reason) > MAX_REASON_LENGTH:
        raise OfficeError("reason_too_long", _("The reason is too long; keep it under 1,000 characters."))
    with transaction.atomic():
        locked = _locked(office)
        if locked.status == OfficeStatus.SUSPENDED:
            raise OfficeError("stale", _("%(office)s is already suspended.") % {"office": locked}, 409)
        locked.status = OfficeStatus.SUSPENDED
        locked.save(update_fields=["status"])
        audit_record(
            action="office.suspended",
            actor=by,
            subject=f"office:{locked.licence_number}",
            data={"reason": reason},
        )
    _sync(office, locked)
    return office


def office_reinstate(*, office: Office, by) -> Office:
    """Make a suspended `office` active again (audit event `office.reinstated`). Refused: not an
    administrator (403 `forbidden`), not suspended (409 `stale`)."""
    _require_administrator(by)
    with transaction.atomic():
        locked = _locked(office)
        if locked.status != OfficeStatus.SUSPENDED:
            raise OfficeError("stale", _("%(office)s is not suspended.") % {"office": locked}, 409)
        locked.status = OfficeStatus.ACTIVE
        locked.save(update_fields=["status"])
        audit_record(action="office.reinstated", actor=by, subject=f"office:{locked.licence_number}")
    _sync(office, locked)
    return office


def office_licence_renew(*, office: Office, until: dt.date, by) -> Office:
    """Extend the licence of `office` to `until` (audit event `office.licence_renewed`). Refused:
    not an administrator (403), a date that is not later than the current expiry (400
    `invalid_date`)."""
    _require_administrator(by)
    if isinstance(until, dt.datetime) or not isinstance(until, dt.date):
        raise OfficeError("invalid_date", _("Give the new expiry as a date."))
    with transaction.atomic():
        locked = _locked(office)
        if until <= locked.licence_expires_on:
            raise OfficeError("invalid_date", _("The new expiry must be later than the current one."))
        previous = locked.licence_expires_on
        locked.licence_expires_on = until
        locked.save(update_fields=["licence_expires_on"])
        audit_record(
            action="office.licence_renewed",
            actor=by,
            subject=f"office:{locked.licence_number}",
            data={"from": previous.isoformat(), "until": until.isoformat()},
        )
    _sync(office, locked)
    return office
