import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from pishkhan.core.text import (
    localize_digits,
    search_fold,
    search_keys,
    search_matches,
    to_ascii_digits,
    to_persian_digits,
)

ZWNJ = "\u200c"


def test_persian_and_arabic_indic_digits_become_ascii_and_nothing_else_changes():
    assert to_ascii_digits("۰۱۲۳۴۵۶۷۸۹") == "0123456789"
    assert to_ascii_digits("٠١٢٣٤٥٦٧٨٩") == "0123456789"
    assert to_ascii_digits("پلاک ۱۲، واحد ٣ - 4") == "پلاک 12، واحد 3 - 4"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, ""),
        (0, "۰"),
        (1404, "۱۴۰۴"),
        ("1404/01/05", "۱۴۰۴/۰۱/۰۵"),
        ("٣", "۳"),  # an Arabic-Indic digit is shown the Persian way too
        ("1,234.5", "۱,۲۳۴.۵"),  # without number=True, punctuation is left alone
    ],
)
def test_values_are_shown_in_persian_digits(value, shown):
    assert to_persian_digits(value) == shown


def test_a_number_gets_persian_thousands_and_decimal_separators_only_when_asked():
    assert to_persian_digits("1,234,567.89", number=True) == "۱٬۲۳۴٬۵۶۷٫۸۹"
    assert to_persian_digits(-12, number=True) == "-۱۲"


@given(st.text())
@settings(database=None)
def test_digits_survive_a_round_trip_to_persian_and_back(text):
    assert to_ascii_digits(to_persian_digits(text)) == to_ascii_digits(text)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("علي", "علی"),  # Arabic Yeh
        ("مصطفى", "مصطفی"),  # Alef Maksura
        ("كرج", "کرج"),  # Arabic Kaf
        ("مدرسة", "مدرسه"),  # Teh Marbuta
        ("خانۀ", "خانه"),  # Heh with Yeh above
        ("خانهٔ", "خانه"),  # Heh followed by a combining hamza, as many keyboards type it
        ("أحمد إمام ٱلله", "احمد امام الله"),  # Alef with hamza above/below, Alef Wasla
        ("مؤسسه", "موسسه"),
        ("آب", "آب"),  # Alef with madda is a different letter in Persian: kept
        ("تهـــران", "تهران"),  # tatweel
        ("مُحَمَّد", "محمد"),  # harakat and shadda
        ("رحمٰن", "رحمن"),  # superscript Alef
        (f"می{ZWNJ}روم", "میروم"),  # ZWNJ
        ("\u200fسلام\u200e\ufeff", "سلام"),  # RLM, LRM, BOM
        ("\u200dسلام", "سلام"),  # ZWJ
        ("پلاک ۱۲ و ٣٤", "پلاک 12 و 34"),
        ("  Tehran   MUNICIPALITY \t\n", "tehran municipality"),
        ("\ufef3\ufee8\ufe8e", "ینا"),  # Arabic presentation forms, undone by NFKC then folded
    ],
)
def test_search_key_folds_what_people_type_inconsistently(typed, key):
    assert search_fold(typed) == key


def test_search_keys_give_the_folded_form_and_its_no_space_form():
    assert search_keys("  می   روم ") == ("می روم", "میروم")


@pytest.mark.parametrize("typed", ["می روم", "میروم", f"می{ZWNJ}روم", "مي روم"])
def test_the_three_ways_of_typing_a_half_space_find_each_other(typed):
    for stored in ["می روم", "میروم", f"می{ZWNJ}روم"]:
        assert search_matches(typed, f"فردا به شهرداری {stored} تا پروانه بگیرم")


def test_seed_text_with_arabic_yeh_and_kaf_is_found_by_a_persian_query():
    # Seed 003 mixes Arabic and Persian Yeh/Kaf in the same document.
    assert search_matches("شهر الکترونیک", "پروژه شهر الكترونيك قزوين")
    assert search_matches("کد ۱۲۳", "كد 123")


def test_a_query_that_is_not_in_the_text_does_not_match():
    assert not search_matches("پروانه ساختمانی", "گواهی عدم خلاف")


def test_an_empty_query_matches_everything_like_an_empty_search_box():
    assert search_matches("", "هر متنی")
    assert search_matches("   ", "")


@given(st.text())
@settings(database=None)
def test_folding_is_idempotent(text):
    assert search_fold(search_fold(text)) == search_fold(text)


def test_numbers_inside_messages_follow_the_digits_of_the_active_language():
    with translation.override("fa"):
        assert localize_digits(10) == "۱۰"
    with translation.override("en"):
        assert localize_digits(10) == "10"
    assert localize_digits(None) == ""
