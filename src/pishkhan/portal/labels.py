"""Names people read for the codes a definition uses: service categories and application channels.

Categories are free text in the format; the bank's are named here, and any other shows as its code
with the dashes made spaces, so a city's own category still reads as words."""

from django.utils.translation import gettext_lazy as _

CATEGORY_LABELS = {
    "urban-planning": _("Building and urban planning"),
    "urban-services": _("Urban services"),
    "business-licences": _("Business licences"),
    "culture-events": _("Culture and events"),
    "duties": _("Duties and payments"),
    "green-space": _("Parks and green space"),
    "safety": _("Safety"),
    "transport": _("Transport"),
}

CHANNEL_LABELS = {
    "online": _("Online"),
    "office": _("E-service office"),
    "counter": _("Municipal counter"),
}

CHANNEL_HELP = {
    "online": _("Apply from your phone or computer."),
    "office": _("Apply at a licensed e-service office near you."),
    "counter": _("Apply in person at the district municipality's counter."),
}


def category_label(code: str) -> str:
    """The category's name in the active language; "" gives "Other services"."""
    if not code:
        return str(_("Other services"))
    return str(CATEGORY_LABELS.get(code, code.replace("-", " ")))


def category_order(code: str) -> tuple[int, str]:
    """Sort key: the bank's categories in the order above (most asked for first), then the city's
    own by name."""
    order = list(CATEGORY_LABELS)
    return (order.index(code), "") if code in order else (len(order), category_label(code))


def channel_label(code: str) -> str:
    return str(CHANNEL_LABELS.get(code, code))


def channel_help(code: str) -> str:
    return str(CHANNEL_HELP.get(code, ""))
