"""Template filters and tags for Persian-first pages: `{% load pishkhan %}`.

- `{{ value|jdate }}` / `{{ value|jdate:"short" }}`: a Jalali date (styles in JDATE_STYLES).
- `{% jtoday "full" %}`: today's date in Tehran, same styles; `{% tehran_today as day %}` the date.
- `{{ value|fadigits }}`: Persian digits when the page is Persian.
- `{{ amount|money }}`: an amount in Rials with thousands separators.

The calendar is Jalali in every language, as the brief asks: an English page shows the same
Jalali date with Latin digits and transliterated month names ("5 Farvardin 1404"). Month and
weekday names come from jdatetime's own tables rather than a gettext catalogue: they are calendar
data (proper nouns) and the filters must render right whichever app's catalogue is loaded.
"""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import jdatetime
from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language

from pishkhan.core.calendar import TEHRAN, to_jalali
from pishkhan.core.text import to_ascii_digits, to_persian_digits

register = template.Library()

JDATE_STYLES = {
    "short": "1404/01/05",
    "long": "5 Farvardin 1404",
    "full": "Friday, 1 Farvardin 1404 (Persian: no comma)",
    "datetime": "5 Farvardin 1404, 14:30 (Tehran time)",
}

PERSIAN_COMMA = "\u060c"  # ،


def is_persian() -> bool:
    """True when the active language is Persian (or, with translation off, the site default is)."""
    language = get_language() or settings.LANGUAGE_CODE
    return language.split("-")[0] == "fa"


def format_jalali(value, style: str = "long") -> str:
    """Format a date or datetime as a Jalali date in the active language.

    `value` may be a `datetime.date`, a `jdatetime.date`/`datetime`, or a `datetime.datetime`:
    aware ones are converted to Tehran time first, whatever the active time zone, so 22:00 UTC
    shows the next day's date; naive ones are taken as Tehran wall time, since a filter has no
    better guess and must not fail a page. `style` is a key of JDATE_STYLES.

    Persian pages get Persian digits and month names; other languages get Latin digits and
    transliterated names. Anything that is not a date (None, "") gives "", like Django's own
    `date` filter.

    Raises ValueError for an unknown style: that is a typo in a template, not bad data.
    """
    if style not in JDATE_STYLES:
        raise ValueError(f"jdate style {style!r} is unknown; use one of: {', '.join(JDATE_STYLES)}.")
    if isinstance(value, jdatetime.date):  # jdatetime.datetime is a subclass: both convert back
        value = value.togregorian()
    clock = None
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = value.astimezone(TEHRAN)
        clock = value.time()
        value = value.date()
    elif not isinstance(value, date):
        return ""

    jalali = to_jalali(value)
    persian = is_persian()
    months = jdatetime.date.j_months_fa if persian else jdatetime.date.j_months_en
    # jdatetime counts weekdays from Saturday = 0, and so are its name tables.
    weekdays = jdatetime.date.j_weekdays_fa if persian else jdatetime.date.j_weekdays_en
    comma = f"{PERSIAN_COMMA} " if persian else ", "

    if style == "short":
        text = f"{jalali.year:04d}/{jalali.month:02d}/{jalali.day:02d}"
    else:
        text = f"{jalali.day} {months[jalali.month - 1]} {jalali.year}"
    if style == "full":
        text = f"{weekdays[jalali.weekday()]}{' ' if persian else ', '}{text}"
    if style == "datetime" and clock is not None:
        text = f"{text}{comma}{clock:%H:%M}"
    return to_persian_digits(text) if persian else text


@register.filter
def jdate(value, style="long"):
    """`{{ case.created_at|jdate:"datetime" }}`: see format_jalali."""
    return format_jalali(value, style)


@register.simple_tag
def jtoday(style="long"):
    """`{% jtoday "full" %}`: today's date in Tehran, formatted like `jdate`."""
    return format_jalali(timezone.now(), style)


@register.simple_tag
def tehran_today():
    """`{% tehran_today as day %}`: today's `datetime.date` in Tehran, for a page that shows the
    date twice (e.g. `<time datetime="{{ day|date:'Y-m-d' }}">{{ day|jdate:"full" }}</time>`)
    and must read the clock once, so both agree at midnight."""
    return timezone.now().astimezone(TEHRAN).date()


@register.filter(is_safe=True)
def fadigits(value):
    """Persian digits when the active language is Persian; the text unchanged otherwise.

    None gives "". Safe input stays safe: swapping digits cannot create markup.
    """
    if value is None:
        return ""
    return to_persian_digits(value) if is_persian() else str(value)


@register.filter
def money(value):
    """An amount in Rials: `1250000` → `۱٬۲۵۰٬۰۰۰ ریال` (Persian) or `1,250,000 Rials`.

    Accepts int, Decimal or a string of digits in either script. The Rial has no subunit in use,
    so fractions are rounded half-up to whole Rials. None or "" gives ""; anything that is not a
    number is returned unchanged, as Django's own number filters do.
    """
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(to_ascii_digits(str(value)).strip())
    except InvalidOperation:
        return value
    if not amount.is_finite():
        return value
    whole = int(amount.to_integral_value(rounding=ROUND_HALF_UP))
    grouped = f"{whole:,}"
    if is_persian():
        return f"{to_persian_digits(grouped, number=True)} ریال"
    return f"{grouped} {'Rial' if abs(whole) == 1 else 'Rials'}"
