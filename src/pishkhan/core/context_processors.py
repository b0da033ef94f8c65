from django.conf import settings
from django.utils.translation import get_language


def city(request):
    """The city's name in the active language, for the page header and titles."""
    english = (get_language() or "fa").startswith("en")
    return {"city_name": settings.CITY_NAME_EN if english else settings.CITY_NAME_FA}
