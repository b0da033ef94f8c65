"""The working-day calendar and Jalali date helpers.

A day is a working day unless it is a weekend day (`settings.WORKING_WEEKEND`), an Iranian public
holiday (the `holidays` package) or a closure announced by the province (`core.Closure` rows).
Legal lead times count working days; a deadline is the end of its last working day in Tehran.

Conventions: weekdays are Python's `date.weekday()` (Monday = 0) everywhere in our code; jdatetime
counts from Saturday = 0, so never mix its `weekday()` in. Days are `datetime.date` in the
Gregorian calendar; Jalali appears only at the edges (`to_jalali`, `from_jalali`, `parse_jalali`;
display through the `jdate` template filter in `core/templatetags/pishkhan.py`)."""

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays
import jdatetime
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation
from django.utils.translation import gettext

from .selectors import closures_between
from .text import localize_digits, to_ascii_digits

# Iran has one time zone and, since 2022, no daylight saving: UTC+03:30 all year.
TEHRAN = ZoneInfo("Asia/Tehran")
# Short English day names indexed by `date.weekday()`; the form PISHKHAN_WEEKEND is written in.
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NUMBERS = {
    name: number for names in (WEEKDAY_NAMES, _FULL_WEEKDAY_NAMES) for number, name in enumerate(names)
}
END_OF_WORKING_DAY = dt.time(23, 59, 59)
_ONE_DAY = dt.timedelta(days=1)
# No real calendar closes for a year on end; a longer run means the configuration is wrong
# (e.g. a holiday provider that returns every day), and we say so instead of looping forever.
_MAX_CLOSED_RUN = 366

HolidayProvider = Callable[[int], Mapping[dt.date, str]]


def parse_weekend(days: Iterable[str | int]) -> frozenset[int]:
    """Return the weekend as a set of `date.weekday()` numbers.

    Accepts short English names (`"fri"`) or full ones (`"Friday"`), case-insensitive, or weekday
    numbers 0–6. Raises ValueError for anything else, or when all seven days would be weekend."""
    weekend = set()
    for day in days:
        if isinstance(day, int) and 0 <= day <= 6:
            weekend.add(day)
        elif isinstance(day, str) and day.strip().lower() in _DAY_NUMBERS:
            weekend.add(_DAY_NUMBERS[day.strip().lower()])
        else:
            raise ValueError(f"unknown weekend day {day!r}; use one of {', '.join(WEEKDAY_NAMES)}")
    if len(weekend) == 7:
        raise ValueError("a weekend of all seven days leaves no working day")
    return frozenset(weekend)


def weekend_from_settings() -> frozenset[int]:
    """The weekend configured in `settings.WORKING_WEEKEND` (env PISHKHAN_WEEKEND, default fri)."""
    configured = settings.WORKING_WEEKEND
    if isinstance(configured, list | set):
        configured = tuple(configured)  # the cache below needs a key it can hash
    try:
        return _parsed_weekend(configured)
    except ValueError as error:
        raise ImproperlyConfigured(f"PISHKHAN_WEEKEND / WORKING_WEEKEND: {error}") from error


@functools.lru_cache(maxsize=16)
def _parsed_weekend(days) -> frozenset[int]:
    # Every calendar asks; the setting hardly ever changes (tests change it).
    return parse_weekend(days)


@functools.lru_cache(maxsize=64)
def _iran_holidays(year: int, language: str) -> Mapping[dt.date, str]:
    return MappingProxyType(dict(holidays.country_holidays("IR", years=year, language=language)))


def iran_holidays(year: int) -> Mapping[dt.date, str]:
    """Iran's public holidays in `year` (Gregorian), as {date: name}; several holidays on one day
    share one name joined by "; ". Names are Persian, or English while English is the active
    language. Cached per year and language.

    The `holidays` package marks lunar holidays it has not confirmed as estimated (تخمینی); the
    official calendar, once published, can move them by a day, which is what closures are for."""
    language = "en_US" if (translation.get_language() or "").startswith("en") else "fa_IR"
    return _iran_holidays(year, language)


def local_date(moment: dt.datetime) -> dt.date:
    """The Tehran calendar day of an aware datetime. Raises ValueError for a naive one, since
    we cannot tell which day it meant."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got naive {moment!r}")
    return moment.astimezone(TEHRAN).date()


def _require_day(day) -> dt.date:
    # datetime is a subclass of date: it would pass isinstance, compare unequal to every holiday
    # key and silently count as a working day. Make the caller pick the Tehran day explicitly.
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise TypeError(f"expected a datetime.date, got {day!r}; use local_date() for a moment in time")
    return day


class WorkingCalendar:
    """Which days are working days, and counting in working days.

    - `weekend`: day names or weekday numbers (see `parse_weekend`); default
      `settings.WORKING_WEEKEND`.
    - `closures`: {date: reason}; default: the `core.Closure` table, read on first use in one
      query (from 1 January of the first year asked about onward; asking about an earlier day
      reads again from that year). Build a calendar per unit of work: closures added after the
      first read are not seen by an existing calendar (`working_calendar(closures_token=…)` gives
      one that is shared for as long as the closures stay as they are).
    - `holiday_provider`: a callable `year -> {date: name}`; default `iran_holidays`.

    A calendar remembers which days it found to be working days, the days `add_working_days`
    worked out and the deadlines `deadline_for` gave, so counting the same lead time again costs a
    dictionary look-up.
    """

    def __init__(
        self,
        *,
        weekend: Iterable[str | int] | None = None,
        closures: Mapping[dt.date, str] | None = None,
        holiday_provider: HolidayProvider | None = None,
    ):
        self.weekend = weekend_from_settings() if weekend is None else parse_weekend(weekend)
        self._holidays = holiday_provider or iran_holidays
        self._fixed_closures = dict(closures) if closures is not None else None
        # (first day read, {date: reason}) once read: one attribute, replaced whole, so a calendar
        # shared between threads never pairs one read's range with another read's rows.
        self._db_closures: tuple[dt.date, dict[dt.date, str]] | None = None
        # The answers so far: a sweep or a simulation asks about the same days again and again.
        self._working: dict[dt.date, bool] = {}
        self._added: dict[tuple[dt.date, int], dt.date] = {}
        self._deadlines: dict[tuple[dt.date, int], dt.datetime] = {}

    def _closure_reason(self, day: dt.date) -> str | None:
        if self._fixed_closures is not None:
            return self._fixed_closures.get(day)
        read = self._db_closures
        if read is None or day < read[0]:
            since = dt.date(day.year, 1, 1)
            read = (since, dict(closures_between(since, None).values_list("date", "reason")))
            if self._db_closures is not None:
                # A second read may see closures the first did not: forget what the first decided.
                self._working, self._added, self._deadlines = {}, {}, {}
            self._db_closures = read
        return read[1].get(day)

    def _holiday_name(self, day: dt.date) -> str | None:
        return self._holidays(day.year).get(day)

    def is_working_day(self, day: dt.date) -> bool:
        """True unless `day` is a weekend day, a public holiday or a closure."""
        known = self._working.get(day)
        if known is None:
            _require_day(day)
            known = self._working[day] = (
                day.weekday() not in self.weekend
                and self._holiday_name(day) is None
                and self._closure_reason(day) is None
            )
        return known

    def why_closed(self, day: dt.date) -> str | None:
        """None for a working day; otherwise why offices are closed, in the active language.

        The most specific reason wins: a closure's announced reason, then the holiday's name, then
        "Weekend". So Nowruz on a Friday reads "Nowruz", not "Weekend"."""
        _require_day(day)
        reason = self._closure_reason(day) or self._holiday_name(day)
        if reason:
            return reason
        if day.weekday() in self.weekend:
            return gettext("Weekend")
        return None

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day strictly after `start`; `start` itself never counts.

        n = 0 means "no lead time": `start` if it is a working day, else the next working day.
        Raises ValueError for a negative n (lead times only count forward)."""
        _require_day(start)
        if n < 0:
            raise ValueError(f"cannot add a negative number of working days ({n})")
        found = self._added.get((start, n))
        if found is not None:
            return found
        day = start
        if n == 0:
            day = day if self.is_working_day(day) else self._next_working_day(day)
        else:
            for _ in range(n):
                day = self._next_working_day(day)
        self._added[(start, n)] = day
        return day

    def _next_working_day(self, day: dt.date) -> dt.date:
        for _ in range(_MAX_CLOSED_RUN):
            day += _ONE_DAY
            if self.is_working_day(day):
                return day
        raise ValueError(
            f"no working day within {_MAX_CLOSED_RUN} days after {day}; check the weekend and closures"
        )

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """How many working days fall after `start`, up to and including `end`.

        The inverse of `add_working_days`: for n ≥ 1,
        `working_days_between(s, add_working_days(s, n)) == n`. When `end` is before `start`
        the count is negative (how many working days a deadline is overdue)."""
        _require_day(start)
        _require_day(end)
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += _ONE_DAY
            count += self.is_working_day(day)
        return count

    def deadline_for(
        self, *, started_at: dt.datetime, working_days: int, suspended_days: int = 0
    ) -> dt.datetime:
        """When a lead time of `working_days` that began at `started_at` runs out, as aware UTC.

        The deadline is 23:59:59 Asia/Tehran on `add_working_days(day, working_days +
        suspended_days)`, where `day` is the Tehran calendar day of `started_at`: the day the
        work arrives does not count, so 2 working days from Saturday 10:00 end on Monday
        23:59:59 (with no holidays). `suspended_days` are the working days the clock was stopped
        (e.g. waiting for the citizen's correction) and move the deadline by that many working
        days. Raises ValueError for a naive `started_at` or a negative count."""
        if suspended_days < 0:
            raise ValueError(f"suspended_days cannot be negative ({suspended_days})")
        key = (local_date(started_at), working_days + suspended_days)
        found = self._deadlines.get(key)
        if found is None:
            last_day = self.add_working_days(*key)
            found = dt.datetime.combine(last_day, END_OF_WORKING_DAY, tzinfo=TEHRAN).astimezone(dt.UTC)
            self._deadlines[key] = found
        return found


# Calendars shared between calls, one per (weekend, closures token); bounded crudely, since a
# token only changes when someone adds, changes or removes a closure.
_SHARED: dict[tuple[frozenset[int], str], WorkingCalendar] = {}
_SHARED_MAX = 64


def working_calendar(*, closures_token: str | None = None) -> WorkingCalendar:
    """The calendar the application uses: weekend from settings, Iranian holidays, closures from
    the database (read once, lazily). Cheap; build one per request or task.

    `closures_token`: core.CalendarVersion's token, read in the caller's transaction (the case
    engine reads it in the statement that locks the case). The database gives the token a new
    random value on every write to the closures, so the calendar for one token is shared between
    calls in this process: its closures are read once, and the working days it counted are kept."""
    if closures_token is None:
        return WorkingCalendar()
    weekend = weekend_from_settings()
    calendar = _SHARED.get((weekend, closures_token))
    if calendar is None:
        if len(_SHARED) >= _SHARED_MAX:
            _SHARED.clear()
        calendar = _SHARED[(weekend, closures_token)] = WorkingCalendar(weekend=weekend)
    return calendar


# --- Jalali dates ---------------------------------------------------------------------------

_JALALI_TEXT = re.compile(r"(\d{4})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})")


def _days_in_jalali_month(year: int, month: int) -> int:
    if month <= 6:
        return 31
    if month <= 11:
        return 30
    return 30 if jdatetime.date(year, 1, 1).isleap() else 29


def to_jalali(day: dt.date) -> jdatetime.date:
    """The Jalali date of a Gregorian `day`."""
    return jdatetime.date.fromgregorian(date=_require_day(day))


def from_jalali(year: int, month: int, day: int) -> dt.date:
    """The Gregorian date of Jalali `year/month/day`. Raises ValueError with a message a person
    can act on when that date does not exist (1404/12/30: 1404 is not a leap year)."""
    if not 1 <= month <= 12:
        message = gettext("There is no month %(month)s; Jalali months run from 1 to 12.")
        raise ValueError(message % {"month": localize_digits(month)})
    days = _days_in_jalali_month(year, month)
    if not 1 <= day <= days:
        if month == 12 and day == 30:
            message = gettext("%(date)s does not exist: %(year)s is not a leap year, so Esfand has 29 days.")
        else:
            message = gettext("%(date)s does not exist: that month has %(days)s days.")
        raise ValueError(
            message
            % {
                "date": localize_digits(f"{year:04d}/{month:02d}/{day:02d}"),
                "year": localize_digits(year),
                "days": localize_digits(days),
            }
        )
    return jdatetime.date(year, month, day).togregorian()


def parse_jalali(text: str) -> dt.date:
    """The Gregorian date of a Jalali date typed as `1404/01/05`, `1404-01-05` or `1404.1.5`,
    in ASCII, Persian or Arabic-Indic digits. Raises ValueError with a translated message."""
    cleaned = "".join(ch for ch in to_ascii_digits(text or "") if unicodedata.category(ch) != "Cf").strip()
    match = _JALALI_TEXT.fullmatch(cleaned)
    if not match:
        raise ValueError(gettext("Enter a Jalali date like 1404/01/05."))
    return from_jalali(*(int(part) for part in match.groups()))
