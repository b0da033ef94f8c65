"""The language of API answers.

The site's pages ignore Accept-Language (core.middleware explains why: phones here often run an
English system locale while their owners read Persian). The API is different: its clients are
programs — an office's software, another city system — whose authors set Accept-Language on
purpose. So under /api/ the header is honoured: `Accept-Language: en` gives English messages,
anything else (no header, an unsupported language) gives Persian, the site's default.

Only the header counts here, not the language cookie of the website, so the same request gives the
same answer from a script and from a browser tab."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


def _preferences(header: str) -> list[str]:
    """Language tags of an Accept-Language header, most preferred first; tags with q=0 and
    malformed weights are left out, and equal weights keep the header's order."""
    weighted = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip().lower()
        if not tag:
            continue
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > 0:
            weighted.append((-weight, position, tag))
    return [tag for _weight, _position, tag in sorted(weighted)]


def api_language(request) -> str:
    """The language an API answer is written in: the first language of the request's
    Accept-Language that the site supports (`en-US` counts as `en`), else settings.LANGUAGE_CODE."""
    for tag in _preferences(request.META.get("HTTP_ACCEPT_LANGUAGE", "")[:500]):
        if tag == "*":
            break
        try:
            return translation.get_supported_language_variant(tag)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


class ApiLanguageMixin:
    """For DRF views: activate `api_language` before authentication, parsing and the view run (so
    every error message, including 401 and 404, is in that language), and say so in the answer's
    Content-Language and Vary headers.

    It activates rather than overrides: DRF renders the response after the view returns, and lazy
    messages must still see the language then. The next request activates its own language."""

    def initialize_request(self, request, *args, **kwargs):
        language = api_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        return super().initialize_request(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Language"] = translation.get_language()
        patch_vary_headers(response, ("Accept-Language",))
        return response
