"""`{% load desk_format %}`: numbers and labels on the desk's pages.

- `{{ 7.0|num }}` → `۷` (Persian) or `7`; `{{ -2|signed }}` → `−۲` / `-2`, `{{ 3|signed }}` → `+۳`.
- `{{ version.status|status_label }}`: Draft / Published / Retired in the page's language.
"""

from django import template
from django.utils.translation import ngettext

from pishkhan.catalog.diff import format_number
from pishkhan.catalog.models import VersionStatus
from pishkhan.core.templatetags.pishkhan import is_persian
from pishkhan.core.text import to_persian_digits

register = template.Library()


def _digits(text: str) -> str:
    return to_persian_digits(text, number=True) if is_persian() else text


@register.filter
def num(value):
    """A number without a useless `.0`, in the page's digits; "" for None."""
    if value is None or value == "":
        return ""
    try:
        return _digits(format_number(float(value)))
    except (TypeError, ValueError):
        return value


@register.filter
def signed(value):
    """A change with its sign (+3, −2); "" for no change."""
    if not value:
        return ""
    text = format_number(abs(float(value)))
    return _digits(("+" if value > 0 else "\u2212") + text)


@register.filter
def status_label(value):
    try:
        return VersionStatus(value).label
    except ValueError:
        return value


@register.filter
def workdays(value):
    """`3` → `۳ روز کاری` / `3 working days`."""
    if value is None or value == "":
        return ""
    count = 1 if float(value) == 1 else 2
    return ngettext("%(days)s working day", "%(days)s working days", count) % {"days": num(value)}
