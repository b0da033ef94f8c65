"""Iranian identifiers: normalise what people type, then validate (DOMAIN.md §3).

Every `normalize_*` function takes what a person typed (Persian or Arabic-Indic digits, spaces,
dashes, the invisible direction marks that copying from Persian text brings along), returns the
stored form in ASCII, and raises `django.core.exceptions.ValidationError` with a translatable
message and a `code` when the value is not valid. Every `validate_*` function is the same check
shaped as a Django validator (returns None or raises), for model fields and forms.

Display stored values with `core.text.to_persian_digits`."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .text import localize_digits, to_ascii_digits

# Dashes and hyphens people use as separators (hyphen-minus, Unicode hyphens and dashes, minus).
_SEPARATORS = {"-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015", "\u2212", "_"}


def _compact(value) -> str:
    """ASCII digits, no whitespace, no dashes, no invisible format characters (category Cf:
    ZWNJ, LRM, RLM, BOM …). None gives ""."""
    if value is None:
        return ""
    text = to_ascii_digits(str(value))
    return "".join(
        ch for ch in text if not ch.isspace() and ch not in _SEPARATORS and unicodedata.category(ch) != "Cf"
    )


def _require_digits(value: str, *, what, length: int) -> None:
    """Raise when `value` is empty, holds a non-digit, or has the wrong number of digits.
    `what` is the lazy, translatable name of the identifier ("national ID")."""
    if not value:
        raise ValidationError(_("Enter the %(what)s."), code="required", params={"what": what})
    if not value.isascii() or not value.isdigit():
        raise ValidationError(_("A %(what)s contains digits only."), code="not_digits", params={"what": what})
    if len(value) != length:
        raise ValidationError(
            _("A %(what)s has %(length)s digits; this one has %(count)s."),
            code="invalid_length",
            params={"what": what, "length": localize_digits(length), "count": localize_digits(len(value))},
        )


# --- National ID (کد ملی) ---------------------------------------------------------------------

NATIONAL_ID = _("national ID")


def national_id_check_digit(first_nine: str) -> str:
    """Return the check digit (tenth digit) for the first nine digits of a national ID:
    s = Σ d[i]·(10−i), r = s mod 11, check = r if r < 2 else 11 − r."""
    if len(first_nine) != 9 or not first_nine.isascii() or not first_nine.isdigit():
        raise ValueError(f"expected nine ASCII digits, got {first_nine!r}")
    remainder = sum(int(digit) * (10 - i) for i, digit in enumerate(first_nine)) % 11
    return str(remainder if remainder < 2 else 11 - remainder)


def normalize_national_id(value) -> str:
    """Return the national ID as 10 ASCII digits, or raise ValidationError.

    Leading zeros are part of the number and are not added for the person: an 8- or 9-digit
    value (a spreadsheet ate the zeros) is rejected with a message that says so, because guessing
    would hide a typo. Codes: required, not_digits, invalid_length, repeated_digits,
    invalid_checksum."""
    number = _compact(value)
    try:
        _require_digits(number, what=NATIONAL_ID, length=10)
    except ValidationError as error:
        if error.code == "invalid_length" and number.isdigit() and len(number) in (8, 9):
            raise ValidationError(
                _("A national ID has 10 digits; include its leading zeros (this one has %(count)s)."),
                code="invalid_length",
                params={"count": localize_digits(len(number))},
            ) from None
        raise
    # Ten equal digits pass the checksum (1111111111 does) but are never issued.
    if len(set(number)) == 1:
        raise ValidationError(
            _("This is not a national ID: all its digits are the same."), code="repeated_digits"
        )
    if national_id_check_digit(number[:9]) != number[9]:
        raise ValidationError(
            _("This national ID is not valid; check the digits against the national card."),
            code="invalid_checksum",
        )
    return number


def validate_national_id(value) -> None:
    """Django validator: raise ValidationError unless `value` is a valid national ID."""
    normalize_national_id(value)


# --- Legal-entity national ID (شناسه ملی) -------------------------------------------------------

LEGAL_ENTITY_ID = _("legal-entity national ID")
_LEGAL_ENTITY_WEIGHTS = (29, 27, 23, 19, 17)


def legal_entity_id_check_digit(first_ten: str) -> str:
    """Return the check digit (eleventh digit) for the first ten digits of a legal-entity ID:
    c = d[9] + 2, s = Σ (d[i] + c)·w[i mod 5] with w = 29, 27, 23, 19, 17, r = s mod 11, and
    r = 10 counts as 0."""
    if len(first_ten) != 10 or not first_ten.isascii() or not first_ten.isdigit():
        raise ValueError(f"expected ten ASCII digits, got {first_ten!r}")
    shift = int(first_ten[9]) + 2
    total = sum((int(digit) + shift) * _LEGAL_ENTITY_WEIGHTS[i % 5] for i, digit in enumerate(first_ten))
    return str(total % 11 % 10)


def normalize_legal_entity_id(value) -> str:
    """Return the legal-entity national ID as 11 ASCII digits, or raise ValidationError.

    Besides the check digit, the fourth to ninth digits (d[3]..d[8], the serial number) must not
    all be zero: 14000000003 has a correct check digit and is still not an ID. Codes: required,
    not_digits, invalid_length, invalid_serial, invalid_checksum."""
    number = _compact(value)
    _require_digits(number, what=LEGAL_ENTITY_ID, length=11)
    if set(number[3:9]) == {"0"}:
        raise ValidationError(
            _("This is not a legal-entity national ID: its serial part is all zeros."), code="invalid_serial"
        )
    if legal_entity_id_check_digit(number[:10]) != number[10]:
        raise ValidationError(
            _("This legal-entity national ID is not valid; check its digits."),
            code="invalid_checksum",
        )
    return number


def validate_legal_entity_id(value) -> None:
    """Django validator: raise ValidationError unless `value` is a valid legal-entity ID."""
    normalize_legal_entity_id(value)


# --- Mobile number --------------------------------------------------------------------------

_MOBILE_PUNCTUATION = {"(", ")", "."}


def normalize_mobile(value) -> str:
    """Return an Iranian mobile number as `09` + 9 digits, or raise ValidationError.

    Accepted forms of 0912 123 4567: `+989121234567`, `00989121234567`, `989121234567`,
    `9121234567`, `09121234567`, with any spaces, dashes, brackets, dots and Persian digits.
    The country code is recognised by length (12 digits starting 98), so a 10-digit number
    starting 98 is still read as a national number. Landlines (a national number not starting
    with 9), foreign numbers and wrong lengths, such as a 10-digit number starting with 0, are
    rejected. Codes: required, not_digits, foreign_number, landline, invalid_length."""
    number = "".join(ch for ch in _compact(value) if ch not in _MOBILE_PUNCTUATION)
    international = number.startswith("+")
    if international:
        number = number[1:]
    elif number.startswith("00"):
        international, number = True, number[2:]
    if not number:
        raise ValidationError(_("Enter the %(what)s."), code="required", params={"what": _("mobile number")})
    if not number.isascii() or not number.isdigit():
        raise ValidationError(
            _("A %(what)s contains digits only."), code="not_digits", params={"what": _("mobile number")}
        )
    if international or (number.startswith("98") and len(number) == 12):
        if not number.startswith("98"):
            raise ValidationError(_("Enter an Iranian mobile number (+98 or 09…)."), code="foreign_number")
        number = number[2:]
    elif number.startswith("0"):
        number = number[1:]
    # `number` is now the national number without its leading 0: ten digits for any Iranian line.
    if len(number) == 10 and not number.startswith("9"):
        raise ValidationError(
            _("This looks like a landline number; enter a mobile number starting with 09."), code="landline"
        )
    if len(number) != 10:
        raise ValidationError(_("A mobile number has 11 digits, like 0912 123 4567."), code="invalid_length")
    return "0" + number


def validate_mobile(value) -> None:
    """Django validator: raise ValidationError unless `value` is an Iranian mobile number."""
    normalize_mobile(value)


# --- Postal code ----------------------------------------------------------------------------

POSTAL_CODE = _("postal code")


def normalize_postal_code(value) -> str:
    """Return the postal code as 10 ASCII digits, or raise ValidationError.

    The official rule: 10 digits, and neither 0 nor 2 among the first five. Stricter patterns
    circulate but are not published rules; `postal_code_warnings` reports those without
    rejecting. Codes: required, not_digits, invalid_length, invalid_prefix."""
    number = _compact(value)
    _require_digits(number, what=POSTAL_CODE, length=10)
    if "0" in number[:5] or "2" in number[:5]:
        raise ValidationError(
            _("This is not a postal code: its first five digits never contain 0 or 2."), code="invalid_prefix"
        )
    return number


def validate_postal_code(value) -> None:
    """Django validator: raise ValidationError unless `value` is a valid postal code."""
    normalize_postal_code(value)


def postal_code_warnings(value) -> list[str]:
    """Return translated warnings for a postal code that passes the official rule but breaks a
    stricter pattern seen in the wild; [] when none apply. Show them; never reject on them, since
    none is a published rule. Raises ValidationError like `normalize_postal_code` when the value
    is not a postal code at all."""
    number = normalize_postal_code(value)
    warnings = []
    if number[4] == "5":
        warnings.append(gettext("Postal codes rarely have 5 as their fifth digit; please check it."))
    if "2" in number[5:]:
        warnings.append(gettext("Postal codes rarely contain 2 in their last five digits; please check it."))
    if len(set(number[:4])) == 1:
        warnings.append(gettext("Postal codes rarely start with four equal digits; please check it."))
    return warnings


# --- IBAN (شبا) -----------------------------------------------------------------------------

IBAN = _("IBAN (Sheba number)")
_IRANIAN_IBAN = re.compile(r"IR\d{24}")


def _iban_remainder(iban: str) -> int:
    # ISO 13616 / ISO 7064 mod 97-10: move the first four characters to the end, read letters as
    # 10..35, and take the whole number mod 97.
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97


def iban_from_bban(bban: str, *, country: str = "IR") -> str:
    """Return the IBAN for a BBAN (for Iran 22 digits: the 3-digit bank code, then the account),
    computing the two check digits. Useful for demo data and tests."""
    if not bban.isascii() or not bban.isalnum():
        raise ValueError(f"expected an alphanumeric BBAN, got {bban!r}")
    check = 98 - _iban_remainder(f"{country}00{bban.upper()}")
    return f"{country}{check:02d}{bban.upper()}"


def normalize_iban(value) -> str:
    """Return the IBAN as `IR` + 24 ASCII digits, or raise ValidationError.

    Lowercase, spaces, dashes and Persian digits are accepted. So are the 24 digits alone,
    because Iranian forms and bank slips usually print `IR` as a fixed prefix. The check digits
    are verified by ISO 13616 mod 97. Codes: required, foreign_iban, invalid_format,
    invalid_checksum."""
    iban = _compact(value).upper()
    if not iban:
        raise ValidationError(_("Enter the %(what)s."), code="required", params={"what": IBAN})
    if iban.isascii() and iban.isdigit() and len(iban) == 24:
        iban = "IR" + iban
    if iban[:2].isalpha() and iban[:2] != "IR":
        raise ValidationError(_("Only Iranian IBANs, starting with IR, are accepted."), code="foreign_iban")
    if not _IRANIAN_IBAN.fullmatch(iban):
        raise ValidationError(_("An IBAN (Sheba number) is IR followed by 24 digits."), code="invalid_format")
    if _iban_remainder(iban) != 1:
        raise ValidationError(
            _("This IBAN (Sheba number) is not valid; check the digits against the bank card or statement."),
            code="invalid_checksum",
        )
    return iban


def validate_iban(value) -> None:
    """Django validator: raise ValidationError unless `value` is a valid Iranian IBAN."""
    normalize_iban(value)


def iban_bank_code(iban) -> str:
    """Return the three-digit bank code of an Iranian IBAN: characters 5–7 (`054` in
    IR820540102680020817909002). The IBAN is normalised first, so this raises ValidationError
    for an invalid one."""
    return normalize_iban(iban)[4:7]
