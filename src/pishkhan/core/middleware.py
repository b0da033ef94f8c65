"""Request middleware of the interface shell."""

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


def language_for(request) -> str:
    """The language a page is shown in: the one the person chose with the language switch
    (Django's language cookie, set by `set_language`), else `settings.LANGUAGE_CODE` (Persian).

    The browser's Accept-Language is deliberately ignored: many phones in Iran run an English
    system locale while their owners read Persian, so honouring it would show English to the
    citizens this site is for. The switch in the top bar is one tap away for everyone else.
    """
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen:
        try:
            return translation.get_supported_language_variant(chosen)
        except LookupError:
            pass  # an old or forged cookie: fall back to the default
    return settings.LANGUAGE_CODE


class PersianFirstLocaleMiddleware:
    """Replaces Django's LocaleMiddleware (same place in MIDDLEWARE): activates `language_for`
    the request and records it on `request.LANGUAGE_CODE` and the Content-Language header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        translation.activate(language_for(request))
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        # Caches must key pages on the cookie that chose the language (Vary: Cookie), not on
        # Accept-Language, which no longer changes the page.
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
