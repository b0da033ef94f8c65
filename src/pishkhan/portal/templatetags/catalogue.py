"""`{% load catalogue %}`: numbers of the catalogue pages in the page's digits.

- `{{ days|num }}`: 7.0 → `۷`, 2.5 → `۲٫۵` (Persian) or `7`, `2.5`.
- `{{ days|workdays }}`, `{{ size|megabytes }}`, `{{ labels|wordlist }}`: the same, in words.
"""

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from pishkhan.catalog.diff import format_number
from pishkhan.core.templatetags.pishkhan import is_persian
from pishkhan.core.text import to_persian_digits

register = template.Library()


@register.filter
def num(value):
    """A number without a useless `.0`, in Persian digits on a Persian page; "" for None."""
    if value is None or value == "":
        return ""
    try:
        text = format_number(float(value))
    except (TypeError, ValueError):
        return value
    return to_persian_digits(text, number=True) if is_persian() else text


@register.filter
def workdays(value):
    """`10` → `۱۰ روز کاری` / `10 working days`; "" for None."""
    if value is None or value == "":
        return ""
    count = 1 if float(value) == 1 else 2
    return ngettext("%(days)s working day", "%(days)s working days", count) % {"days": num(value)}


@register.filter
def megabytes(value):
    """`10` → `۱۰ مگابایت` / `10 MB`."""
    return _("%(size)s MB") % {"size": num(value)}


@register.filter
def wordlist(items):
    """["a", "b", "c"] → `a, b and c` (Persian: `a، b و c`)."""
    items = [str(item) for item in items if item]
    if len(items) < 2:
        return "".join(items)
    separator = pgettext("list separator", ", ")
    return _("%(items)s and %(last)s") % {"items": separator.join(items[:-1]), "last": items[-1]}
