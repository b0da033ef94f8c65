"""Applying online in a real browser, on a phone: a signed-in citizen types a number in Persian
digits, picks a choice that reveals a conditional field, sends the form and sees the tracking code."""

import pytest
from django.conf import settings
from django.test import Client

from pishkhan.cases.models import Case
from pishkhan.core.text import to_persian_digits
from tests.cases.factories import make_citizen, make_district, publish_definition, small_process

pytestmark = pytest.mark.e2e


def has_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


def sign_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def test_a_citizen_on_a_phone_applies_online_and_sees_the_tracking_code(page, live_server, screenshots):
    # Made after the browser is up: see the conftest on database calls beside Playwright's loop.
    district = make_district()
    fields = [
        {
            "id": "area_m2",
            "type": "number",
            "label": {"fa": "مساحت (مترمربع)"},
            "required": True,
            "max": 1000,
        },
        {
            "id": "surface",
            "type": "choice",
            "label": {"fa": "نوع سطح معبر"},
            "required": True,
            "options": [
                {"value": "soil", "label": {"fa": "خاکی"}},
                {"value": "asphalt", "label": {"fa": "آسفالت"}},
            ],
        },
        {
            "id": "asphalt_depth",
            "type": "number",
            "label": {"fa": "ضخامت آسفالت (سانتی‌متر)"},
            "required": True,
            "visible_if": "surface == 'asphalt'",
        },
        {
            "id": "owners",
            "type": "group",
            "label": {"fa": "مالکان"},
            "repeat": {"min": 1, "max": 3},
            "fields": [{"id": "name", "type": "text", "label": {"fa": "نام مالک"}, "required": True}],
        },
    ]
    service = publish_definition(small_process(code="apply-e2e", fields=fields))
    citizen = make_citizen()
    sign_in(page, live_server, citizen)

    page.goto(f"/services/{service.code}/apply/")
    assert page.locator("html[lang=fa][dir=rtl]").count() == 1
    depth = page.get_by_label("ضخامت آسفالت (سانتی‌متر)")
    assert not depth.is_visible()  # shown only for asphalt

    page.get_by_label("مساحت (مترمربع)").fill("۱۲")
    page.get_by_label("آسفالت", exact=True).check()
    assert depth.is_visible()
    depth.fill("۵")
    page.get_by_label("منطقه").select_option(district.code)
    page.locator('[name="owners[0].name"]').fill("مریم")
    page.get_by_role("button", name="افزودن ردیف").click()
    page.locator('[name="owners[1].name"]').fill("رضا")
    assert page.locator("label[for=f-owners-1-name]").count() == 1
    assert not has_horizontal_scroll(page)
    page.screenshot(path=screenshots / "apply-phone.png", full_page=True)

    page.get_by_role("button", name="ارسال درخواست").click()
    page.wait_for_url("**/services/my/*/")

    case = Case.objects.get(applicant=citizen)
    assert case.answers["area_m2"] == 12 and case.answers["asphalt_depth"] == 5
    assert case.answers["owners"] == [{"name": "مریم"}, {"name": "رضا"}]
    assert to_persian_digits(case.tracking_code) in page.locator(".messages").inner_text()
    assert not has_horizontal_scroll(page)
    page.screenshot(path=screenshots / "apply-filed-phone.png", full_page=True)
