"""Simulation time and the city's clock.

The simulator counts time in working hours: hour 0 is the opening of the first working day of the
simulated period, and each working day adds OFFICE_HOURS hours. Staff only work then, so queues
stand still over weekends, holidays and closures exactly as the working-day calendar says.
`WorkClock.moment(t)` turns a simulation time into the aware UTC datetime the event log stores.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right

from pishkhan.core.calendar import TEHRAN, WorkingCalendar, local_date

# Municipal offices open 07:30–14:30 Tehran time (7 hours), Saturday to Wednesday/Thursday.
OFFICE_OPENS = dt.time(7, 30)
OFFICE_HOURS = 7.0


class WorkClock:
    """Working hours ⇄ moments, over the working days from `start` (inclusive) to `end`, with a
    margin after `end` so deadlines beyond the period can still be placed."""

    def __init__(self, *, start: dt.date, end: dt.date, calendar: WorkingCalendar, margin_days: int = 400):
        self.calendar = calendar
        day, last = start, end + dt.timedelta(days=margin_days)
        self.days: list[dt.date] = []
        while day <= last:
            if calendar.is_working_day(day):
                self.days.append(day)
            day += dt.timedelta(days=1)
        self._openings = [
            dt.datetime.combine(day, OFFICE_OPENS, tzinfo=TEHRAN).astimezone(dt.UTC) for day in self.days
        ]

    def moment(self, t: float) -> dt.datetime:
        """The aware UTC moment of simulation time `t` (working hours since the first opening)."""
        index = min(int(t // OFFICE_HOURS), len(self.days) - 1)
        return self._openings[index] + dt.timedelta(hours=t - index * OFFICE_HOURS)

    def hours_until(self, moment: dt.datetime) -> float:
        """The simulation time of `moment`: within office hours exactly; outside them, the next
        opening (work done at night shows up in the morning)."""
        day = local_date(moment)
        index = bisect_right(self.days, day) - 1
        if index < 0:
            return 0.0
        if self.days[index] != day:
            return (index + 1) * OFFICE_HOURS
        offset = (moment - self._openings[index]).total_seconds() / 3600
        return index * OFFICE_HOURS + min(max(offset, 0.0), OFFICE_HOURS - 1e-6)

    @property
    def total_hours(self) -> float:
        return len(self.days) * OFFICE_HOURS


def working_days(hours: float) -> float:
    """Working hours as working days (for people and the ground-truth file)."""
    return hours / OFFICE_HOURS
