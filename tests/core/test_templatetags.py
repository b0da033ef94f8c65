"""The `pishkhan` template library: Jalali dates, Persian digits and Rials, in both languages."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import jdatetime
import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from pishkhan.core.templatetags.pishkhan import fadigits, format_jalali, money

UTC = dt.UTC
NOWRUZ_1404 = dt.date(2025, 3, 21)  # 1404-01-01, a Friday (DOMAIN.md §4)
FIFTH_OF_FARVARDIN = dt.date(2025, 3, 25)  # 1404-01-05, a Tuesday


def render(source, **context):
    return Template("{% load pishkhan %}" + source).render(Context(context))


@pytest.fixture
def persian():
    with translation.override("fa"):
        yield


@pytest.fixture
def english():
    with translation.override("en"):
        yield


# --- jdate -------------------------------------------------------------------------------------


def test_a_persian_page_shows_a_short_jalali_date_in_persian_digits(persian):
    assert render("{{ day|jdate:'short' }}", day=FIFTH_OF_FARVARDIN) == "۱۴۰۴/۰۱/۰۵"


def test_a_persian_page_shows_a_long_jalali_date_with_the_month_name(persian):
    assert render("{{ day|jdate:'long' }}", day=FIFTH_OF_FARVARDIN) == "۵ فروردین ۱۴۰۴"


def test_long_is_the_default_style(persian):
    assert render("{{ day|jdate }}", day=FIFTH_OF_FARVARDIN) == "۵ فروردین ۱۴۰۴"


def test_nowruz_1404_is_named_a_friday_in_persian(persian):
    assert render("{{ day|jdate:'full' }}", day=NOWRUZ_1404) == "جمعه ۱ فروردین ۱۴۰۴"


def test_an_english_page_shows_the_same_jalali_date_in_latin_digits(english):
    assert render("{{ day|jdate:'short' }}", day=FIFTH_OF_FARVARDIN) == "1404/01/05"
    assert render("{{ day|jdate:'long' }}", day=FIFTH_OF_FARVARDIN) == "5 Farvardin 1404"


def test_nowruz_1404_is_named_a_friday_in_english(english):
    assert render("{{ day|jdate:'full' }}", day=NOWRUZ_1404) == "Friday, 1 Farvardin 1404"


def test_every_month_has_its_persian_and_transliterated_name():
    first_days = [jdatetime.date(1404, month, 1).togregorian() for month in range(1, 13)]
    with translation.override("fa"):
        persian_names = [format_jalali(day).split()[1] for day in first_days]
    with translation.override("en"):
        english_names = [format_jalali(day).split()[1] for day in first_days]
    assert persian_names[0] == "فروردین"
    assert persian_names[11] == "اسفند"
    assert english_names == [
        "Farvardin",
        "Ordibehesht",
        "Khordad",
        "Tir",
        "Mordad",
        "Shahrivar",
        "Mehr",
        "Aban",
        "Azar",
        "Dey",
        "Bahman",
        "Esfand",
    ]


def test_a_case_filed_at_22_utc_is_dated_the_next_day_in_tehran(persian):
    # 2025-03-24 22:00 UTC is 2025-03-25 01:30 in Tehran (UTC+03:30): 1404-01-05, not 01-04.
    filed_at = dt.datetime(2025, 3, 24, 22, 0, tzinfo=UTC)
    assert render("{{ at|jdate:'short' }}", at=filed_at) == "۱۴۰۴/۰۱/۰۵"
    assert render("{{ at|jdate:'datetime' }}", at=filed_at) == "۵ فروردین ۱۴۰۴، ۰۱:۳۰"


def test_the_datetime_style_shows_tehran_time_in_english_too(english):
    filed_at = dt.datetime(2025, 3, 24, 22, 0, tzinfo=UTC)
    assert render("{{ at|jdate:'datetime' }}", at=filed_at) == "5 Farvardin 1404, 01:30"


def test_tehran_time_is_used_whatever_the_active_time_zone(persian):
    filed_at = dt.datetime(2025, 3, 24, 22, 0, tzinfo=UTC)
    with timezone.override(ZoneInfo("America/Los_Angeles")):
        assert render("{{ at|jdate:'datetime' }}", at=filed_at) == "۵ فروردین ۱۴۰۴، ۰۱:۳۰"


def test_a_naive_datetime_is_taken_as_tehran_wall_time(english):
    assert format_jalali(dt.datetime(2025, 3, 24, 23, 45), "datetime") == "4 Farvardin 1404, 23:45"


def test_a_jdatetime_date_is_shown_as_it_is(english):
    assert format_jalali(jdatetime.date(1404, 12, 29), "short") == "1404/12/29"


def test_the_datetime_style_of_a_plain_date_shows_just_the_date(english):
    assert format_jalali(FIFTH_OF_FARVARDIN, "datetime") == "5 Farvardin 1404"


@pytest.mark.parametrize("value", [None, "", "2025-03-25", 0])
def test_something_that_is_not_a_date_shows_nothing(value, persian):
    assert render("{{ value|jdate:'short' }}", value=value) == ""


def test_an_unknown_style_is_a_template_mistake_that_names_the_valid_styles():
    with pytest.raises(ValueError, match="short, long, full, datetime"):
        format_jalali(NOWRUZ_1404, "medium")


def test_jtoday_shows_todays_date_in_tehran(monkeypatch, persian):
    # 20:30 UTC on 20 March is already 00:00 on Nowruz in Tehran.
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2025, 3, 20, 20, 30, tzinfo=UTC))
    assert render("{% jtoday 'full' %}") == "جمعه ۱ فروردین ۱۴۰۴"


def test_tehran_today_gives_the_date_for_a_time_element_and_the_jalali_text(monkeypatch, english):
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2025, 3, 20, 20, 30, tzinfo=UTC))
    source = "{% tehran_today as day %}{{ day|date:'Y-m-d' }} {{ day|jdate:'short' }}"
    assert render(source) == "2025-03-21 1404/01/01"


# --- fadigits ----------------------------------------------------------------------------------


def test_digits_are_persian_on_a_persian_page(persian):
    assert render("{{ code|fadigits }}", code="PK-1404-000123") == "PK-۱۴۰۴-۰۰۰۱۲۳"
    assert fadigits(2025) == "۲۰۲۵"


def test_digits_are_unchanged_on_an_english_page(english):
    assert render("{{ code|fadigits }}", code="PK-1404-000123") == "PK-1404-000123"


def test_fadigits_of_nothing_is_empty(persian):
    assert render("{{ value|fadigits }}", value=None) == ""


def test_fadigits_keeps_html_escaped(persian):
    assert render("{{ value|fadigits }}", value="<b>1</b>") == "&lt;b&gt;۱&lt;/b&gt;"


# --- money -------------------------------------------------------------------------------------


def test_an_amount_in_rials_reads_with_persian_separators(persian):
    assert render("{{ fee|money }}", fee=1250000) == "۱٬۲۵۰٬۰۰۰ ریال"


def test_an_amount_in_rials_reads_with_commas_in_english(english):
    assert render("{{ fee|money }}", fee=1250000) == "1,250,000 Rials"
    assert money(1) == "1 Rial"


def test_money_accepts_decimals_and_persian_digit_strings(english):
    assert money(Decimal("1250000.00")) == "1,250,000 Rials"
    assert money("۱۲۵۰۰۰۰") == "1,250,000 Rials"
    assert money(Decimal("999.5")) == "1,000 Rials"


def test_money_of_nothing_is_empty(persian):
    assert money(None) == ""
    assert money("") == ""


def test_money_leaves_something_that_is_not_a_number_unchanged(persian):
    assert money("free") == "free"
