"""The interface shell: the base page every screen extends, the home page and the health check."""

import datetime as dt
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import success
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import DatabaseError
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from pishkhan.core import views

FONT = "vendor/vazirmatn/Vazirmatn-Variable.woff2"
STYLESHEET = "pishkhan/css/pishkhan.css"


class Page(HTMLParser):
    """Just enough of an HTML page to ask about its elements: tags in order, with attributes."""

    def __init__(self, html):
        super().__init__()
        self.elements = []
        self.labels_for = set()
        self._open_labels = 0
        self.text = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        attributes["_inside_label"] = self._open_labels > 0
        self.elements.append((tag, attributes))
        if tag == "label":
            self._open_labels += 1
            if attributes.get("for"):
                self.labels_for.add(attributes["for"])

    def handle_endtag(self, tag):
        if tag == "label":
            self._open_labels -= 1

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag, **wanted):
        return [
            attributes
            for name, attributes in self.elements
            if name == tag and all(attributes.get(key) == value for key, value in wanted.items())
        ]


def get_page(client, path="/"):
    response = client.get(path)
    assert response.status_code == 200
    return response, Page(response.content.decode())


def served_bytes(client, url):
    response = client.get(url)
    assert response.status_code == 200, f"{url} is not served; run `make assets` (scripts/assets.py)"
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- Language and direction --------------------------------------------------------------------


def test_home_page_is_persian_and_right_to_left_by_default(client):
    response, _ = get_page(client)
    assert '<html lang="fa" dir="rtl">' in response.content.decode()


def test_switching_to_english_turns_the_page_left_to_right(client, settings):
    switch = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert switch.status_code == 302
    assert switch["Location"] == "/"

    response, _ = get_page(client)
    html = response.content.decode()
    assert '<html lang="en" dir="ltr">' in html
    assert f"Welcome to {settings.CITY_NAME_EN} online services" in html


def test_the_language_switch_offers_the_other_language_by_its_own_name(client):
    _, page = get_page(client)
    [button] = page.find("button", name="language")
    assert (button["value"], button["lang"]) == ("en", "en")
    assert "English" in "".join(page.text)

    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    _, page = get_page(client)
    [button] = page.find("button", name="language")
    assert (button["value"], button["lang"], button["dir"]) == ("fa", "fa", "rtl")
    assert "فارسی" in "".join(page.text)


def test_the_language_switch_returns_to_the_page_it_was_used_on(client):
    _, page = get_page(client, "/?from=test")
    [next_field] = page.find("input", name="next")
    assert next_field["value"] == "/?from=test"
    [form] = [a for t, a in page.elements if t == "form" and a.get("class") == "language-switch"]
    assert (form["action"], form["method"]) == (reverse("set_language"), "post")


# --- Local assets only -------------------------------------------------------------------------


def test_the_font_is_served_from_our_own_static_files(client):
    assert served_bytes(client, static(FONT))[:4] == b"wOF2"
    assert served_bytes(client, "/static/vendor/vazirmatn/OFL.txt").startswith(b"Copyright")


def test_the_stylesheet_loads_the_local_font_with_swap(client):
    css = served_bytes(client, static(STYLESHEET)).decode()
    assert "font-display: swap" in css
    for reference in re.findall(r"url\(\s*[\"']?([^\"')]+)", css):
        assert urlsplit(reference).scheme == "", f"stylesheet reaches outside: {reference}"
        served_bytes(client, urljoin(static(STYLESHEET), reference))
    assert "@import" not in css


@pytest.mark.parametrize("language", ["fa", "en"])
def test_no_link_on_the_home_page_leaves_the_machine(client, language):
    client.post(reverse("set_language"), {"language": language, "next": "/"})
    _, page = get_page(client)
    references = [
        value
        for _, attributes in page.elements
        for name, value in attributes.items()
        if name in {"src", "href", "action", "srcset", "poster", "data"} and value
    ]
    assert references, "the parser found no links at all"
    external = [value for value in references if urlsplit(value).netloc not in {"", "testserver"}]
    assert external == []


# --- Structure and accessibility ---------------------------------------------------------------


def test_a_skip_link_leads_to_the_main_content(client):
    _, page = get_page(client)
    first_link = next(attributes for tag, attributes in page.elements if tag == "a")
    assert first_link["href"] == "#main"
    assert page.find("main", id="main")


def test_the_page_has_header_navigation_main_and_footer_landmarks(client):
    _, page = get_page(client)
    for landmark in ("header", "nav", "main", "footer"):
        assert page.find(landmark), f"no <{landmark}>"
    [nav] = page.find("nav")
    assert nav.get("aria-label")


def test_the_viewport_is_set_for_phones(client):
    _, page = get_page(client)
    assert page.find("meta", name="viewport", content="width=device-width, initial-scale=1")


def test_every_input_on_the_home_page_has_a_label(client):
    _, page = get_page(client)
    unlabelled = [
        attributes
        for tag, attributes in page.elements
        if tag in {"input", "select", "textarea"}
        and attributes.get("type") not in {"hidden", "submit", "button"}
        and not attributes["_inside_label"]
        and attributes.get("id") not in page.labels_for
        and not attributes.get("aria-label")
        and not attributes.get("aria-labelledby")
    ]
    assert unlabelled == []
    assert page.find("input", id="service-search")


def test_a_visitor_is_offered_citizen_and_staff_sign_in(client):
    _, page = get_page(client)
    assert page.find("a", href=reverse("accounts:citizen_signin"))
    assert page.find("a", href=reverse("accounts:staff_signin"))


def test_a_signed_in_person_sees_their_name_and_a_sign_out_button(client, db):
    person = get_user_model().objects.create_user(
        username="citizen-1", first_name="Maryam", last_name="Karimi"
    )
    client.force_login(person)
    response, page = get_page(client)
    assert "Maryam Karimi" in response.content.decode()
    assert page.find("form", action=reverse("accounts:signout"), method="post")
    assert not page.find("a", href=reverse("accounts:citizen_signin"))


def test_messages_are_announced_as_status(rf: RequestFactory):
    request = rf.get("/")
    request.user = AnonymousUser()
    request._messages = CookieStorage(request)
    success(request, "Your request was saved.")
    page = Page(render_to_string("base.html", request=request))
    [region] = page.find("div", role="status")
    assert region["class"] == "messages"
    assert "Your request was saved." in "".join(page.text)


def test_the_header_shows_todays_jalali_date_in_tehran(client, monkeypatch):
    # 21:00 UTC on 20 March 2025 is already 00:30 on 1 Farvardin 1404 in Tehran.
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2025, 3, 20, 21, 0, tzinfo=dt.UTC))
    response, _ = get_page(client)
    html = response.content.decode()
    assert '<time datetime="2025-03-21">جمعه ۱ فروردین ۱۴۰۴</time>' in html


def test_the_search_box_searches_the_service_catalogue(client):
    _, page = get_page(client)
    assert not [attributes for _, attributes in page.elements if "disabled" in attributes]
    [search] = page.find("form", role="search")
    assert search["method"] == "get"
    assert search["action"] == reverse("portal:service_list")
    assert page.find("input", id="service-search", name="q")


# --- Health check ------------------------------------------------------------------------------


def test_health_check_reports_the_database_ok(client, db):
    response = client.get(reverse("core:healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_health_check_reports_an_unreachable_database_as_503(client, monkeypatch):
    class BrokenConnection:
        def cursor(self):
            raise DatabaseError("connection refused")

    monkeypatch.setattr(views, "connection", BrokenConnection())
    response = client.get(reverse("core:healthz"))
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error"}


# --- Language choice ---------------------------------------------------------------------------


def test_a_phone_with_an_english_system_locale_still_gets_persian_first(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="fa" dir="rtl">' in response.content.decode()
    assert response["Content-Language"] == "fa"


def test_an_unknown_language_cookie_falls_back_to_persian(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "xx"
    response = client.get("/")
    assert '<html lang="fa" dir="rtl">' in response.content.decode()
