import pytest

from pishkhan.cases.tracking import (
    tracking_code_new,
    tracking_code_normalize,
    tracking_code_valid,
    verhoeff_check_digit,
    verhoeff_valid,
)
from pishkhan.core.text import to_persian_digits


def test_a_tracking_code_is_twelve_digits_never_starting_with_zero_and_checks_itself():
    codes = {tracking_code_new() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert len(code) == 12 and code.isdigit() and code[0] != "0"
        assert tracking_code_valid(code)


def test_verhoeff_agrees_with_the_published_examples():
    # The worked examples of Verhoeff's scheme: 236 → 3, 12345 → 1, 142857 → 0.
    assert verhoeff_check_digit("236") == "3"
    assert verhoeff_check_digit("12345") == "1"
    assert verhoeff_check_digit("142857") == "0"
    assert verhoeff_valid("2363") and not verhoeff_valid("2364")


def test_every_single_digit_typo_is_caught():
    code = tracking_code_new()
    for position in range(12):
        for digit in "0123456789":
            if digit != code[position]:
                typo = code[:position] + digit + code[position + 1 :]
                assert not tracking_code_valid(typo), typo


def test_every_swap_of_two_neighbouring_digits_is_caught():
    for _ in range(50):
        code = tracking_code_new()
        for position in range(11):
            a, b = code[position], code[position + 1]
            if a != b:
                swapped = code[:position] + b + a + code[position + 2 :]
                assert not tracking_code_valid(swapped), swapped


def test_a_code_typed_in_persian_digits_with_spaces_and_dashes_is_read():
    code = tracking_code_new()
    typed = f"{to_persian_digits(code[:4])} {code[4:8]}-{to_persian_digits(code[8:])}\u200e"
    assert tracking_code_valid(typed)
    assert tracking_code_normalize(typed) == code


@pytest.mark.parametrize("typed", ["", "abc", "12345", None, "0" + "1" * 11, "1" * 13, 3.5])
def test_what_is_not_a_code_is_refused(typed):
    assert not tracking_code_valid(typed)
