"""Reads of the core kernel's tables."""

import datetime as dt

from django.db.models import QuerySet

from .models import Closure


def closures_between(start: dt.date, end: dt.date | None) -> QuerySet[Closure]:
    """Closures from `start` to `end`, both included, ordered by date. `end=None` leaves the
    range open towards the future (what a deadline computation needs: it does not know in
    advance how far it will count)."""
    closures = Closure.objects.filter(date__gte=start)
    if end is not None:
        closures = closures.filter(date__lte=end)
    return closures.order_by("date")
