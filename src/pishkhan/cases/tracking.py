"""Tracking codes (کد رهگیری): what a citizen writes down, reads out on the phone and types on a
phone keypad to follow a case.

A code is 12 digits: 11 random ones from `secrets` (the first never 0, so the code survives a
spreadsheet that reads it as a number) and a Verhoeff check digit. It identifies a case but is not
a key to it (DOMAIN.md §7): showing anything about the case needs a second factor
(`selectors.case_public_status`) or a signed-in owner.

Why Verhoeff rather than a weighted sum modulo 10 (Luhn) or modulo 11: Verhoeff catches every
single-digit error and every swap of two adjacent digits — the two mistakes people make most when
copying or dictating digits — with one decimal digit. Luhn misses the swap 09 ↔ 90; modulo 11
needs an eleventh symbol (`X`), which a phone keypad does not have. The scheme works in the
dihedral group D5 (the symmetries of a pentagon: five rotations 0–4, five reflections 5–9), which
is not commutative, so swapping two digits changes the result; a fixed permutation applied once
more at each position keeps a digit's effect distinct from its neighbours'."""

from __future__ import annotations

import secrets
import unicodedata

from pishkhan.core.text import to_ascii_digits

TRACKING_CODE_LENGTH = 12
_RANDOM_DIGITS = TRACKING_CODE_LENGTH - 1


def _d5_multiply(j: int, k: int) -> int:
    """Compose two elements of D5, numbered 0–4 (rotations) and 5–9 (reflections)."""
    if j < 5:
        return (j + k) % 5 if k < 5 else 5 + (j + k) % 5
    return 5 + (j - k) % 5 if k < 5 else (j - k) % 5


_MULTIPLY = [[_d5_multiply(j, k) for k in range(10)] for j in range(10)]
# A rotation's inverse is the opposite rotation; a reflection is its own inverse.
_INVERSE = [(5 - j) % 5 if j < 5 else j for j in range(10)]
# The permutation applied at each position: position i uses it i times (it repeats after 8).
_STEP = (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)
_PERMUTE = [list(range(10))]
for _ in range(7):
    _PERMUTE.append([_STEP[digit] for digit in _PERMUTE[-1]])


def verhoeff_check_digit(digits: str) -> str:
    """The Verhoeff check digit to append to the ASCII digit string `digits`."""
    check = 0
    for position, digit in enumerate(reversed(digits)):
        check = _MULTIPLY[check][_PERMUTE[(position + 1) % 8][int(digit)]]
    return str(_INVERSE[check])


def verhoeff_valid(digits: str) -> bool:
    """True when the ASCII digit string `digits` ends in its correct Verhoeff check digit."""
    check = 0
    for position, digit in enumerate(reversed(digits)):
        check = _MULTIPLY[check][_PERMUTE[position % 8][int(digit)]]
    return check == 0


def tracking_code_new() -> str:
    """A fresh tracking code: 11 random digits (first non-zero) and the check digit. Not checked
    for uniqueness here: case_submit retries on the rare collision."""
    body = str(10**10 + secrets.randbelow(9 * 10**10))
    return body + verhoeff_check_digit(body)


def tracking_code_normalize(code) -> str | None:
    """The code as 12 ASCII digits when `code` is a valid tracking code as people type it
    (Persian or Arabic-Indic digits, spaces, dashes, invisible direction marks); else None."""
    if not isinstance(code, str | int):
        return None
    text = to_ascii_digits(str(code))
    compact = "".join(
        ch
        for ch in text
        if not (ch.isspace() or ch in "-_\u2010\u2011\u2012\u2013\u2014\u2212")
        and unicodedata.category(ch) != "Cf"
    )
    if len(compact) != TRACKING_CODE_LENGTH or not (compact.isascii() and compact.isdigit()):
        return None
    if compact[0] == "0" or not verhoeff_valid(compact):
        return None
    return compact


def tracking_code_valid(code) -> bool:
    """True when `code` is a well-formed tracking code with a correct check digit (after the
    normalisation of tracking_code_normalize). Says nothing about whether a case has it."""
    return tracking_code_normalize(code) is not None
