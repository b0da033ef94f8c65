"""The home page in a real browser: Persian on a phone, English on a desktop."""

import datetime as dt
from zoneinfo import ZoneInfo

import jdatetime
import pytest

from tests.cases.factories import make_district, make_office

from .conftest import DESKTOP

pytestmark = pytest.mark.e2e

# Written out here rather than imported from pishkhan, so the test checks the page against an
# independent reading of the calendar.
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
MONTHS = [
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
]
# The half-space (ZWNJ, U+200C) inside یک‌شنبه, سه‌شنبه and پنج‌شنبه is part of the word.
WEEKDAYS_FROM_SATURDAY = [
    "شنبه",
    "یک\u200cشنبه",
    "دوشنبه",
    "سه\u200cشنبه",
    "چهارشنبه",
    "پنج\u200cشنبه",
    "جمعه",
]


def todays_persian_date() -> str:
    today = jdatetime.date.fromgregorian(date=dt.datetime.now(ZoneInfo("Asia/Tehran")).date())
    text = f"{WEEKDAYS_FROM_SATURDAY[today.weekday()]} {today.day} {MONTHS[today.month - 1]} {today.year}"
    return text.translate(PERSIAN_DIGITS)


def font_loaded(page) -> bool:
    return page.evaluate(
        """async () => {
            await document.fonts.ready;
            const face = [...document.fonts].find((f) => f.family.replaceAll('"', '') === 'Vazirmatn');
            return Boolean(face) && face.status === 'loaded' && document.fonts.check('16px Vazirmatn');
        }"""
    )


def has_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


def test_a_citizen_on_a_phone_sees_the_persian_home_page_with_todays_jalali_date(page, screenshots):
    # The date is read before and after loading: either is right if midnight passes in between.
    before = todays_persian_date()
    page.goto("/")
    after = todays_persian_date()

    assert page.locator("html[lang=fa][dir=rtl]").count() == 1
    header_date = page.locator(".today time").inner_text()
    assert header_date in {before, after}

    family = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert family.replace('"', "").startswith("Vazirmatn")
    assert font_loaded(page)

    assert not has_horizontal_scroll(page)
    page.screenshot(path=screenshots / "home-phone.png", full_page=True)


def test_a_visitor_on_a_desktop_switches_the_home_page_to_english(page, screenshots):
    page.set_viewport_size(DESKTOP)
    page.goto("/")
    assert font_loaded(page)
    page.screenshot(path=screenshots / "home-desktop.png", full_page=True)

    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/")

    assert page.locator("html[lang=en][dir=ltr]").count() == 1
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome to")
    assert page.get_by_role("button", name="فارسی").is_visible()
    assert font_loaded(page)
    assert not has_horizontal_scroll(page)
    page.screenshot(path=screenshots / "home-desktop-en.png", full_page=True)


def test_a_citizen_on_a_phone_checks_an_offices_licence_from_the_home_page(page, screenshots):
    office = make_office(district=make_district("d07"), name="دفتر پیشخوان هفت")
    persian_number = office.licence_number.translate(PERSIAN_DIGITS)
    page.goto("/")

    page.get_by_role("link", name="دفاتر خدمات الکترونیک شهر").click()
    page.get_by_role("textbox", name="استعلام شماره پروانه یک دفتر").fill(persian_number)
    page.get_by_role("button", name="استعلام").click()

    verdict = page.get_by_role("status")
    assert verdict.get_by_role("heading").inner_text() == "«دفتر پیشخوان هفت» مجاز است"
    assert persian_number in verdict.inner_text()
    assert page.get_by_role("heading", name="منطقه ۷").is_visible()
    assert not has_horizontal_scroll(page)
    page.screenshot(path=screenshots / "offices-phone.png", full_page=True)
