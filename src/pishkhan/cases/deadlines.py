"""Deadlines of steps and cases, in working days (core.calendar).

    step_due_at(*, step, assigned_at, calendar) -> datetime | None
    case_due_at(*, case, definition, calendar, now=None) -> datetime | None
    suspended_working_days(*, since, until, calendar) -> int

Pass one WorkingCalendar per operation (`core.calendar.working_calendar()`): it reads the closures
once, so a sweep over thousands of positions costs one closure query, and every deadline of the
operation agrees on the same calendar. A deadline is the end (23:59:59 Tehran) of its last working
day; the day the work arrives does not count.
"""

from __future__ import annotations

import datetime as dt
import math

from django.utils import timezone

from pishkhan.catalog.definition import Definition, Step
from pishkhan.core.calendar import WorkingCalendar, local_date

from .models import Case


def _whole_days(days: float | int | None) -> int:
    # Definitions may say 2.5 working days; a lead time runs to the end of a whole day, so a part
    # of a day counts as a day (never less time than the definition grants).
    return max(0, math.ceil(days or 0))


def step_due_at(*, step: Step, assigned_at: dt.datetime, calendar: WorkingCalendar) -> dt.datetime | None:
    """When a step that entered its queue at `assigned_at` is due: `deadline_days` working days
    after the Tehran day of `assigned_at` (0: the end of that day, or of the next working day when
    it is not one). None for steps that hold no work (fork, join, end)."""
    if not step.is_work:
        return None
    return calendar.deadline_for(started_at=assigned_at, working_days=_whole_days(step.deadline_days))


def suspended_working_days(*, since: dt.datetime, until: dt.datetime, calendar: WorkingCalendar) -> int:
    """Working days the clock stood still between two moments: those after the Tehran day of
    `since`, up to and including the Tehran day of `until` (a correction asked on Saturday and
    answered on Monday stopped the clock on Sunday and Monday: 2). Never negative."""
    return max(0, calendar.working_days_between(local_date(since), local_date(until)))


def case_due_at(
    *, case: Case, definition: Definition, calendar: WorkingCalendar, now: dt.datetime | None = None
) -> dt.datetime | None:
    """The case's deadline: `legal_deadline_days` (else `service_norm_days`) working days from its
    submission, moved on by the working days it waited for the applicant — `case.suspended_days`,
    plus, while it waits now (`suspended_since`), the working days so far until `now`. None when
    the definition sets neither."""
    days = definition.legal_deadline_days or definition.service_norm_days
    if not days:
        return None
    suspended = case.suspended_days
    if case.suspended_since is not None:
        suspended += suspended_working_days(
            since=case.suspended_since, until=now or timezone.now(), calendar=calendar
        )
    return calendar.deadline_for(
        started_at=case.submitted_at, working_days=_whole_days(days), suspended_days=suspended
    )
