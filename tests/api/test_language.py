"""The API answers in Persian unless the client asks for English with Accept-Language — unlike the
site's pages, which ignore that header (core.middleware explains why)."""

import pytest
from django.utils import translation
from django.utils.translation import gettext

from pishkhan.api.language import api_language
from tests.cases.factories import make_citizen

pytestmark = pytest.mark.django_db

NOT_SIGNED_IN = "Authentication credentials were not provided."
REQUIRED = "This field is required."


def persian(message: str) -> str:
    with translation.override("fa"):
        return gettext(message)


def test_errors_are_in_persian_by_default(api):
    response = api.get("/api/v1/cases/")
    assert response.status_code == 401
    assert response.json()["detail"] == persian(NOT_SIGNED_IN) != NOT_SIGNED_IN
    assert response["Content-Language"] == "fa"
    assert "Accept-Language" in response["Vary"]


@pytest.mark.parametrize("header", ["en", "en-US,en;q=0.9,fa;q=0.8", "de, en;q=0.5", "EN-gb"])
def test_errors_are_in_english_when_the_client_asks_for_it(api, header):
    response = api.get("/api/v1/cases/", HTTP_ACCEPT_LANGUAGE=header)
    assert response.json()["detail"] == NOT_SIGNED_IN
    assert response["Content-Language"] == "en"


@pytest.mark.parametrize("header", ["", "de", "fa, en;q=0.9", "en;q=0, fa", "*", "en;q=abc", "fa-IR"])
def test_anything_else_is_persian(api, header):
    response = api.get("/api/v1/cases/", HTTP_ACCEPT_LANGUAGE=header)
    assert response.json()["detail"] == persian(NOT_SIGNED_IN)


def test_field_messages_follow_the_language_too(api):
    fa = api.post("/api/v1/status/", {}, format="json").json()
    en = api.post("/api/v1/status/", {}, format="json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert fa["errors"]["tracking_code"] == [persian(REQUIRED)]
    assert en["errors"]["tracking_code"] == [REQUIRED]


def test_the_language_of_one_request_does_not_leak_into_the_next(api, client_for):
    citizen = client_for(make_citizen())
    api.get("/api/v1/cases/", HTTP_ACCEPT_LANGUAGE="en")
    response = citizen.get("/api/v1/cases/?status=lost")
    assert response["Content-Language"] == "fa"


def test_the_websites_pages_still_ignore_accept_language(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "fa"


def test_the_language_rule_in_one_place():
    class Request:
        def __init__(self, header):
            self.META = {"HTTP_ACCEPT_LANGUAGE": header} if header is not None else {}

    assert api_language(Request(None)) == "fa"
    assert api_language(Request("en-US")) == "en"
    assert api_language(Request("fr;q=0.9, en;q=0.8")) == "en"
    assert api_language(Request("en;q=0.1, fa;q=0.2")) == "fa"
    assert api_language(Request("x" * 10_000)) == "fa"
