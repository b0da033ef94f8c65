"""The registry of offices in the admin: a phone typed as it is written on the office's card
(Persian digits welcome) is kept in ASCII digits; anything else is refused with a message."""

import pytest
from django.utils import translation

from pishkhan.demo.people import office_plan
from pishkhan.offices.admin import OfficeForm
from pishkhan.offices.models import phone_validator
from tests.cases.factories import make_district

pytestmark = pytest.mark.django_db


def office_form(**values) -> OfficeForm:
    data = {
        "licence_number": "EO-7001",
        "licence_expires_on": "2030-01-01",
        "name": "دفتر خدمات ۷۰۰۱",
        "district": make_district().pk,
        "address": "",
        "phone": "",
        "hours": "",
        **values,
    }
    return OfficeForm(data=data)


def test_a_phone_in_persian_digits_is_kept_in_ascii_and_dialled_as_digits():
    form = office_form(phone="۰۲۱-۸۸۰۰ ۱۱۲۲", hours="شنبه تا چهارشنبه ۸ تا ۱۶")

    assert form.is_valid(), form.errors
    office = form.save()
    assert office.phone == "021-8800 1122" and office.phone_uri == "tel:02188001122"
    assert office.hours == "شنبه تا چهارشنبه ۸ تا ۱۶"


@pytest.mark.parametrize("phone", ["call the office", "021-", "<script>", "1" * 21])
def test_a_phone_that_is_not_a_number_is_refused_with_a_message(phone):
    with translation.override("en"):
        form = office_form(phone=phone)
        assert not form.is_valid()
        assert form.errors["phone"][0].startswith(("Enter the phone number in digits", "Ensure this value"))
    with translation.override("fa"):
        assert "شماره تلفن" in " ".join(office_form(phone="call the office").errors["phone"])


def test_an_office_without_a_phone_has_no_link():
    form = office_form()
    assert form.is_valid(), form.errors
    assert form.save().phone_uri == ""


def test_every_demo_office_has_a_phone_the_registry_accepts_and_its_hours():
    import datetime as dt

    plan = office_plan(count=30, districts=range(1, 23), today=dt.date(2026, 11, 21))
    for office in plan:
        phone_validator(office.phone)  # raises if not
        assert office.hours
    # The persona's office keeps its place.
    assert plan[0].licence_number == "EO-101" and plan[0].address == "خیابان انقلاب، پلاک ۱۲"
