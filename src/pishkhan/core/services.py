"""Writes of the core kernel: office closures.

    closure_add(*, date, reason) -> Closure
    closure_remove(*, date) -> None
    closure_announce(*, date, reason, by, address=None) -> Closure      (audited)
    closure_withdraw(*, date, by, address=None) -> None                 (audited)
    closure_audit(*, action, closure, by, address=None) -> None

Open deadlines are not recomputed here: `core` must not import `cases` (dependencies point one
way: core ← … ← cases). `cases.sweep.closure_add_and_recompute` adds a closure and recomputes
them; a closure written any other way (the desk, the admin) changes the calendar's token, and the
deadline sweep recomputes them once it sees the token differ from the one it last applied
(`CalendarVersion.applied_token`). No hook registry."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from .audit import audit_record
from .calendar import to_jalali
from .models import Closure
from .text import localize_digits


def _shown(day: dt.date) -> str:
    # Clerks read Jalali dates; the message is for them.
    return localize_digits(to_jalali(day).strftime("%Y/%m/%d"))


def _require_day(value) -> dt.date:
    # A datetime is a date too; storing one would drop its time and its time zone silently.
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise TypeError(f"expected a datetime.date, got {value!r}")
    return value


def closure_add(*, date: dt.date, reason: str) -> Closure:
    """Record that offices are closed on `date` (e.g. a province's pollution closure) and return
    the new Closure. Deadlines computed by a calendar built afterwards skip that day; see the
    module docstring for recomputing open deadlines.

    Raises ValidationError with code `closure_exists` when the day is already closed, and one
    keyed by field (`reason`: codes `blank` / `max_length`) for an empty or too long reason.
    Raises TypeError when `date` is not a `datetime.date` (a datetime is refused too)."""
    _require_day(date)
    reason = (reason or "").strip()
    closure = Closure(date=date, reason=reason)
    closure.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            closure.save()
    except IntegrityError:
        existing = Closure.objects.filter(date=date).first()
        raise ValidationError(
            _("Offices are already closed on %(date)s: %(reason)s"),
            code="closure_exists",
            params={"date": _shown(date), "reason": existing.reason if existing else ""},
        ) from None
    return closure


def closure_remove(*, date: dt.date) -> None:
    """Reopen `date`: delete its closure. Raises ValidationError (code `closure_missing`) when
    no closure exists on that day, so a mistyped date is noticed rather than ignored."""
    _require_day(date)
    deleted, _counts = Closure.objects.filter(date=date).delete()
    if not deleted:
        raise ValidationError(
            _("There is no closure on %(date)s to remove."),
            code="closure_missing",
            params={"date": _shown(date)},
        )


def closure_audit(*, action: str, closure: Closure, by, address: str | None = None) -> None:
    """Write a change to the closures to the audit log (`closure.added`, `.changed`, `.removed`),
    in the caller's transaction: who, from where, the day and the reason."""
    audit_record(
        action=action,
        actor=by,
        subject=f"closure:{closure.date.isoformat()}",
        address=address,
        data={"date": closure.date.isoformat(), "reason": closure.reason},
    )


def closure_announce(*, date: dt.date, reason: str, by, address: str | None = None) -> Closure:
    """closure_add, audited as `closure.added` in the same transaction. Raises what closure_add
    raises, with nothing written."""
    with transaction.atomic():
        closure = closure_add(date=date, reason=reason)
        closure_audit(action="closure.added", closure=closure, by=by, address=address)
    return closure


def closure_withdraw(*, date: dt.date, by, address: str | None = None) -> None:
    """closure_remove, audited as `closure.removed` in the same transaction. Raises what
    closure_remove raises, with nothing written."""
    with transaction.atomic():
        closure = Closure.objects.filter(date=date).first()
        closure_remove(date=date)
        closure_audit(action="closure.removed", closure=closure, by=by, address=address)
