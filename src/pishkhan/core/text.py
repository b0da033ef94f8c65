"""Persian text helpers: digit conversion for storage and display, and the folded key that search
compares.

We store ASCII digits and show Persian ones. Search compares a *folded* key (DOMAIN.md §5), never
the display text: the display keeps its ZWNJ and its original letters, the key drops everything
people type inconsistently (Arabic or Persian Yeh and Kaf, harakat, the half-space, the space in
`می روم`)."""

import unicodedata

from django.utils import translation

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"  # U+06F0–U+06F9, what Persian keyboards type
ARABIC_INDIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"  # U+0660–U+0669, what Arabic keyboards and some old data use

_TO_ASCII_DIGITS = str.maketrans(PERSIAN_DIGITS + ARABIC_INDIC_DIGITS, "0123456789" * 2)
_TO_PERSIAN_DIGITS = str.maketrans("0123456789" + ARABIC_INDIC_DIGITS, PERSIAN_DIGITS * 2)
# U+066C ARABIC THOUSANDS SEPARATOR and U+066B ARABIC DECIMAL SEPARATOR are what Persian
# typography uses inside numbers; only applied on request, because in free text a comma or a full
# stop next to a digit is usually punctuation, not part of the number.
_NUMBER_SEPARATORS = str.maketrans({",": "\u066c", ".": "\u066b"})

_FOLD = str.maketrans(
    {
        "\u064a": "\u06cc",  # ي Arabic Yeh → ی Persian Yeh
        "\u0649": "\u06cc",  # ى Alef Maksura → ی
        "\u0643": "\u06a9",  # ك Arabic Kaf → ک Persian Kaf
        "\u0629": "\u0647",  # ة Teh Marbuta → ه
        "\u06c0": "\u0647",  # ۀ Heh with Yeh above → ه
        "\u0623": "\u0627",  # أ Alef with Hamza above → ا
        "\u0625": "\u0627",  # إ Alef with Hamza below → ا
        "\u0671": "\u0627",  # ٱ Alef Wasla → ا
        "\u0624": "\u0648",  # ؤ Waw with Hamza above → و
        "\u0640": None,  # tatweel (kashida), a stretch for justification only
        "\u0670": None,  # superscript Alef
        "\u200c": None,  # ZWNJ: `می‌روم` and `میروم` must meet
        "\u200d": None,  # ZWJ
        "\u200e": None,  # LRM
        "\u200f": None,  # RLM
        "\ufeff": None,  # BOM / zero-width no-break space
        **{chr(code): None for code in range(0x064B, 0x0660)},  # harakat, shadda, sukun, hamza marks
    }
)


def to_ascii_digits(text: str) -> str:
    """Return `text` with Persian (U+06F0–9) and Arabic-Indic (U+0660–9) digits replaced by ASCII
    digits; every other character is kept as it is."""
    return text.translate(_TO_ASCII_DIGITS)


def to_persian_digits(value, *, number: bool = False) -> str:
    """Return `value` as text with ASCII and Arabic-Indic digits shown as Persian digits.

    `value` may be a str, an int (or anything with a sensible `str()`), or None (gives "").
    With `number=True` the value is one number, so `,` becomes the Persian thousands separator
    `٬` and `.` the decimal separator `٫`: `to_persian_digits("1,234.5", number=True)` is
    `۱٬۲۳۴٫۵`. No grouping is added; format the number first if you want it."""
    if value is None:
        return ""
    text = str(value).translate(_TO_PERSIAN_DIGITS)
    if number:
        text = text.translate(_NUMBER_SEPARATORS)
    return text


def localize_digits(value, *, number: bool = False) -> str:
    """`value` as text in the digits of the active language: Persian digits while Persian is
    active, unchanged otherwise. For numbers placed inside translated messages, whose `%d`
    placeholders would always print ASCII digits. `number=True` also turns the separators of a
    formatted number Persian (see to_persian_digits)."""
    language = translation.get_language() or ""
    if language.split("-")[0] == "fa":
        return to_persian_digits(value, number=number)
    return "" if value is None else str(value)


def search_fold(text: str) -> str:
    """Return the search key of `text` (DOMAIN.md §5).

    NFKC; ي ى → ی; ك → ک; ة ۀ → ه; أ إ ٱ → ا; ؤ → و; tatweel, harakat (U+064B–065F, U+0670),
    ZWNJ, ZWJ, LRM, RLM and BOM dropped; Persian and Arabic-Indic digits → ASCII; Latin letters
    lowercased; runs of whitespace collapsed to one space; leading and trailing space stripped.
    The key is for comparison only; never show it."""
    folded = unicodedata.normalize("NFKC", text).translate(_FOLD)
    folded = to_ascii_digits(folded).lower()
    return " ".join(folded.split())


def search_keys(text: str) -> tuple[str, str]:
    """Return `(folded, folded_without_spaces)` for `text`.

    Index both: people type `می روم`, `میروم` and `می‌روم` for the same word, and only the
    no-space form brings the three together."""
    folded = search_fold(text)
    return folded, folded.replace(" ", "")


def search_matches(query: str, text: str) -> bool:
    """True when the folded `query` occurs in the folded `text`, or the no-space form of the
    query occurs in the no-space form of the text. An empty (or all-space) query matches
    everything, as an empty search box shows everything."""
    query_folded, query_joined = search_keys(query)
    text_folded, text_joined = search_keys(text)
    return query_folded in text_folded or query_joined in text_joined
