"""Writes of the core kernel: office closures.

Open deadlines are not recomputed here: `core` must not import `cases` (dependencies point one
way: core ← … ← cases). `cases.sweep.closure_add_and_recompute` adds a closure and recomputes
them; a closure written any other way (the admin) changes the calendar's token, and the deadline
sweep recomputes them once it sees the token differ from the one it last applied
(`CalendarVersion.applied_token`). No hook registry."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

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
