"""Tracking in a real browser: someone on a phone types a tracking code (in Persian digits) and
the applicant's national ID at `/track/` and sees where the case stands, and nothing personal."""

import pytest

from pishkhan.core.text import to_persian_digits
from tests.cases.factories import make_citizen, make_district, publish_definition, small_process, submit_case

pytestmark = pytest.mark.e2e


def has_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


def test_someone_on_a_phone_tracks_a_case_and_sees_the_status_and_nothing_personal(page, screenshots):
    # Made after the browser is up: see the conftest on database calls beside Playwright's loop.
    applicant = make_citizen(first_name="Shirin", last_name="Tavakoli")
    case = submit_case(
        service=publish_definition(small_process()), applicant=applicant, district=make_district()
    )

    page.goto("/")
    page.get_by_role("link", name="پیگیری پرونده").click()
    page.wait_for_url("**/track/")
    assert page.locator("html[lang=fa][dir=rtl]").count() == 1

    page.get_by_label("کد رهگیری").fill(to_persian_digits(case.tracking_code))
    page.get_by_label("کد ملی یا شماره همراه متقاضی").fill(to_persian_digits(applicant.national_id))
    page.get_by_role("button", name="نمایش وضعیت").click()
    page.wait_for_load_state()

    result = page.locator(".track-result")
    assert result.get_by_role("heading", name="مجوز آزمایشی").is_visible()
    assert "در جریان" in result.inner_text()
    assert "بررسی مدارک" in result.inner_text()
    html = page.content()
    for personal in (
        applicant.national_id,
        to_persian_digits(applicant.national_id),
        applicant.mobile,
        to_persian_digits(applicant.mobile),
        "Shirin",
        "Tavakoli",
    ):
        assert personal not in html
    assert not has_horizontal_scroll(page)
    page.screenshot(path=screenshots / "tracking-phone.png", full_page=True)
