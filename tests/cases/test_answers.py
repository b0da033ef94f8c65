import pytest

from pishkhan.cases.answers import answers_validate
from pishkhan.catalog.definition import definition_from_dict
from tests.cases.factories import national_id_new, small_process

FORM = definition_from_dict(
    small_process(
        fields=[
            {"id": "name", "type": "text", "label": {"fa": "نام", "en": "Name"}, "required": True},
            {"id": "notes", "type": "textarea", "label": {"fa": "توضیحات", "en": "Notes"}},
            {"id": "area", "type": "number", "label": {"fa": "مساحت", "en": "Area"}, "min": 1, "max": 1000},
            {"id": "price", "type": "money", "label": {"fa": "مبلغ", "en": "Price"}},
            {
                "id": "owner_id",
                "type": "national_id",
                "label": {"fa": "کد ملی مالک", "en": "Owner's national ID"},
            },
            {"id": "phone", "type": "mobile", "label": {"fa": "تلفن همراه", "en": "Mobile"}},
            {"id": "postal", "type": "postal_code", "label": {"fa": "کد پستی", "en": "Postal code"}},
            {"id": "start", "type": "jalali_date", "label": {"fa": "تاریخ شروع", "en": "Start date"}},
            {"id": "night", "type": "boolean", "label": {"fa": "کار در شب", "en": "Night work"}},
            {
                "id": "night_reason",
                "type": "text",
                "label": {"fa": "دلیل کار در شب", "en": "Why at night"},
                "required": True,
                "visible_if": "night == true",
            },
            {
                "id": "surface",
                "type": "choice",
                "label": {"fa": "نوع سطح", "en": "Surface"},
                "options": [
                    {"value": "asphalt", "label": {"fa": "آسفالت", "en": "Asphalt"}},
                    {"value": "sidewalk", "label": {"fa": "پیاده‌رو", "en": "Sidewalk"}},
                ],
            },
            {
                "id": "extras",
                "type": "multi_choice",
                "label": {"fa": "موارد دیگر", "en": "Extras"},
                "options": [
                    {"value": "lights", "label": {"fa": "چراغ", "en": "Lights"}},
                    {"value": "fence", "label": {"fa": "حصار", "en": "Fence"}},
                ],
            },
            {"id": "deed_file", "type": "file", "label": {"fa": "سند", "en": "Deed"}, "document": "deed"},
            {"id": "location", "type": "map_point", "label": {"fa": "محل", "en": "Location"}},
            {
                "id": "owners",
                "type": "group",
                "label": {"fa": "مالکان", "en": "Owners"},
                "repeat": {"min": 1, "max": 3},
                "fields": [
                    {
                        "id": "national_id",
                        "type": "national_id",
                        "label": {"fa": "کد ملی", "en": "National ID"},
                        "required": True,
                    },
                    {
                        "id": "share",
                        "type": "number",
                        "label": {"fa": "سهم", "en": "Share"},
                        "min": 0,
                        "max": 6,
                    },
                ],
            },
            {
                "id": "contractor",
                "type": "group",
                "label": {"fa": "پیمانکار", "en": "Contractor"},
                "fields": [
                    {"id": "company", "type": "boolean", "label": {"fa": "شرکت", "en": "A company"}},
                    {
                        "id": "registration",
                        "type": "text",
                        "label": {"fa": "شماره ثبت", "en": "Registration number"},
                        "required": True,
                        "visible_if": "company == true",
                    },
                ],
            },
        ]
    )
)


def valid_answers(**changes):
    answers = {"name": "Sara", "owners": [{"national_id": national_id_new()}]}
    answers.update(changes)
    return answers


def test_a_complete_form_cleans_to_its_stored_form():
    owner, second = national_id_new(), national_id_new()
    cleaned, errors = answers_validate(
        FORM,
        {
            "name": "  سارا  ",
            "notes": "line one\nline two",
            "area": "۱۲٫۵",
            "price": "۱٬۲۰۰٬۰۰۰",
            "owner_id": owner[:3] + "-" + owner[3:],
            "phone": "۰۹۱۲ ۱۲۳ ۴۵۶۷",
            "postal": "1193653471",
            "start": "۱۴۰۴/۰۱/۰۱",
            "night": "on",
            "night_reason": "traffic",
            "surface": "asphalt",
            "extras": ["fence", "lights", "fence"],
            "deed_file": 17,
            "location": {"lat": "35.7", "lng": 51.4},
            "owners": [{"national_id": owner, "share": 3}, {"national_id": second, "share": "3"}],
            "contractor": {"company": False},
        },
    )
    assert errors == {}
    assert cleaned == {
        "name": "سارا",
        "notes": "line one\nline two",
        "area": 12.5,
        "price": 1_200_000,
        "owner_id": owner,
        "phone": "09121234567",
        "postal": "1193653471",
        "start": "2025-03-21",
        "night": True,
        "night_reason": "traffic",
        "surface": "asphalt",
        "extras": ["fence", "lights"],
        "deed_file": "17",
        "location": {"lat": 35.7, "lng": 51.4},
        "owners": [{"national_id": owner, "share": 3}, {"national_id": second, "share": 3}],
        "contractor": {"company": False},
    }


def test_whole_numbers_stay_integers_and_fractions_become_floats():
    for typed, stored in [(12, 12), ("12", 12), (12.0, 12), ("۱۲", 12), (12.25, 12.25), ("12.25", 12.25)]:
        cleaned, errors = answers_validate(FORM, valid_answers(area=typed))
        assert errors == {}
        assert cleaned["area"] == stored and type(cleaned["area"]) is type(stored), typed


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("area", "twelve", "Area: enter a number."),
        ("area", 0, "Area: enter a number no smaller than 1."),
        ("area", 1001, "Area: enter a number no larger than 1000."),
        ("area", True, "Area: enter a number."),
        ("price", -5, "Price: an amount cannot be negative."),
        ("price", 10.5, "Price: enter a whole number of Rials."),
        ("surface", "gravel", "Surface: choose one of the options offered."),
        ("extras", ["lights", "roof"], "Extras: choose from the options offered."),
        ("night", "maybe", "Night work: answer yes or no."),
        ("deed_file", "../etc/passwd", "Deed: upload the document, then send the form."),
        (
            "location",
            {"lat": 48.8, "lng": 2.3},
            "Location: the point is outside Iran; choose it again on the map.",
        ),
        ("location", {"lat": 35.7}, "Location: choose a point on the map."),
        ("start", "1404/12/30", "Start date: 1404/12/30 does not exist"),
        ("name", 42, "Name: enter text."),
    ],
)
def test_each_type_refuses_what_it_cannot_be(field, value, message):
    cleaned, errors = answers_validate(FORM, valid_answers(**{field: value}))
    assert field not in cleaned
    assert errors[field][0].startswith(message)


def test_identifiers_are_checked_by_the_core_validators():
    _cleaned, errors = answers_validate(FORM, valid_answers(owner_id="1234567890", phone="02188776655"))
    assert errors["owner_id"][0].startswith("Owner's national ID: ")
    assert errors["phone"][0].startswith("Mobile: ")


def test_required_fields_must_be_answered_and_the_message_names_the_field_in_english_and_persian():
    _cleaned, errors = answers_validate(FORM, {"owners": [{"national_id": national_id_new()}]}, language="en")
    assert errors == {"name": ["Name is required."]}
    _cleaned, errors = answers_validate(FORM, {"owners": [{"national_id": national_id_new()}]}, language="fa")
    assert "نام" in errors["name"][0]
    _cleaned, errors = answers_validate(FORM, valid_answers(area="x"), language="fa")
    assert "مساحت" in errors["area"][0] and "Area" not in errors["area"][0]


def test_a_hidden_field_is_neither_required_nor_kept():
    cleaned, errors = answers_validate(FORM, valid_answers(night=False, night_reason="because"))
    assert errors == {}
    assert "night_reason" not in cleaned
    _cleaned, errors = answers_validate(FORM, valid_answers(night=True))
    assert errors == {"night_reason": ["Why at night is required."]}
    # An unanswered checkbox reads as false, so its dependant stays hidden.
    cleaned, errors = answers_validate(FORM, valid_answers(night_reason=""))
    assert errors == {} and "night_reason" not in cleaned


def test_repeated_groups_count_their_rows_and_name_the_row_and_sub_field():
    _cleaned, errors = answers_validate(FORM, valid_answers(owners=[]))
    assert errors == {"owners": ["Owners: add at least 1."]}
    too_many = [{"national_id": national_id_new()} for _ in range(4)]
    _cleaned, errors = answers_validate(FORM, valid_answers(owners=too_many))
    assert errors == {"owners": ["Owners: at most 3 rows, please."]}
    rows = [{"national_id": national_id_new()}, {"share": 9}]
    _cleaned, errors = answers_validate(FORM, valid_answers(owners=rows))
    assert errors["owners[1].national_id"] == ["Owners, row 2 — National ID is required."]
    assert errors["owners[1].share"] == ["Owners, row 2 — Share: enter a number no larger than 6."]


def test_a_sub_field_sees_its_siblings_in_visible_if():
    _cleaned, errors = answers_validate(FORM, valid_answers(contractor={"company": True}))
    assert errors == {"contractor.registration": ["Registration number is required."]}
    cleaned, errors = answers_validate(
        FORM, valid_answers(contractor={"company": True, "registration": "R-1"})
    )
    assert errors == {} and cleaned["contractor"] == {"company": True, "registration": "R-1"}


def test_unknown_keys_are_refused_at_every_level():
    _cleaned, errors = answers_validate(
        FORM, valid_answers(colour="red", owners=[{"national_id": national_id_new(), "age": 3}])
    )
    assert set(errors) == {"colour", "owners[0].age"}
    assert errors["colour"] == ["There is no field “colour” in this form."]


def test_answers_that_are_not_an_object_are_refused_as_a_whole():
    _cleaned, errors = answers_validate(FORM, ["name"])
    assert list(errors) == ["__all__"]


def test_a_gregorian_iso_date_from_an_api_client_is_kept():
    cleaned, errors = answers_validate(FORM, valid_answers(start="2025-03-21"))
    assert errors == {} and cleaned["start"] == "2025-03-21"
