"""The public directory of e-service offices: who may file today, by district, and a licence
number checked — open to anyone, with nothing about operators or cases."""

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from pishkhan.offices.models import OfficeStatus
from tests.cases.factories import make_district, make_office, make_operator

URL = reverse("offices:directory")


@pytest.fixture
def offices(db):
    """Two licensed offices in two districts, one suspended and one whose licence has expired."""
    north, south = make_district("d31"), make_district("d32")
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    return {
        "north": make_office(district=north, name="دفتر شمال"),
        "south": make_office(district=south, name="دفتر جنوب"),
        "suspended": make_office(district=north, name="دفتر معلق", status=OfficeStatus.SUSPENDED),
        "expired": make_office(district=south, name="دفتر منقضی", licence_expires_on=yesterday),
    }


@pytest.fixture
def english(client):
    """The client reads the pages in English (the language cookie the switch sets)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def names(response) -> list[str]:
    return [office.name for group in response.context["groups"] for office in group["offices"]]


def test_anyone_sees_the_offices_that_may_file_today_by_district(client, offices):
    operator = make_operator(office=offices["north"])

    response = client.get(URL)

    assert response.status_code == 200
    assert [group["name"] for group in response.context["groups"]] == ["منطقه 31", "منطقه 32"]
    assert names(response) == ["دفتر شمال", "دفتر جنوب"]
    page = response.content.decode()
    assert "دفتر معلق" not in page and "دفتر منقضی" not in page
    assert operator.username not in page  # no operators, no people
    assert "۳۱" in page  # the district's number in Persian digits


def test_a_district_narrows_the_list_and_offers_only_districts_with_offices(client, offices):
    make_district("d33")  # no office there

    response = client.get(URL, {"district": "d32"})

    assert response.status_code == 200
    assert names(response) == ["دفتر جنوب"]
    choices = [code for code, _label in response.context["form"].fields["district"].choices]
    assert choices == ["", "d31", "d32"]


def test_a_licence_in_force_is_confirmed_with_its_expiry(client, offices):
    office = offices["north"]

    response = client.get(URL, {"licence": office.licence_number.lower()})

    assert response.status_code == 200
    assert response.context["checked"] == office and response.context["refusal"] is None
    assert "مجاز است" in response.content.decode()


def test_an_office_is_listed_with_a_phone_to_call_and_its_opening_hours(client, offices):
    office = offices["north"]
    office.phone, office.hours = "021-88001122", "شنبه تا چهارشنبه 8 تا 16"
    office.save(update_fields=["phone", "hours"])

    page = client.get(URL).content.decode()

    # A link a phone dials, shown in Persian digits; the hours likewise.
    assert '<a href="tel:02188001122" dir="ltr">۰۲۱-۸۸۰۰۱۱۲۲</a>' in page
    assert "شنبه تا چهارشنبه ۸ تا ۱۶" in page
    # The other office's registry entry has neither: no empty labels for it.
    assert page.count("تلفن") == 1
    # Checking the licence shows them too.
    checked = client.get(URL, {"licence": office.licence_number}).content.decode()
    assert checked.count("tel:02188001122") == 2  # in the verdict and in the list


def test_a_licence_typed_in_persian_digits_is_found(client, offices):
    office = offices["south"]
    persian = office.licence_number.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))

    response = client.get(URL, {"licence": persian})

    assert response.context["checked"] == office


@pytest.mark.parametrize("which", ["suspended", "expired"])
def test_a_suspended_or_expired_office_is_named_and_said_not_to_file(english, offices, which):
    office = offices[which]

    response = english.get(URL, {"licence": office.licence_number})

    assert response.status_code == 200
    assert response.context["checked"] == office
    assert "may not file requests" in response.context["refusal"]
    assert f"{office.name} may not file requests now" in response.content.decode()


def test_an_unknown_licence_warns_not_to_hand_over_documents(client, offices):
    response = client.get(URL, {"licence": "EO-99999"})

    assert response.status_code == 200 and response.context["checked"] is None
    assert "هیچ دفتری پروانه شماره" in response.content.decode()
    assert names(response) == ["دفتر شمال", "دفتر جنوب"]


@pytest.mark.parametrize(
    "query, field",
    [
        ({"district": "d99"}, "district"),
        ({"licence": "<script>alert(1)</script>"}, "licence"),
        ({"licence": "EO-" + "1" * 60}, "licence"),
        ({"licence": "-EO"}, "licence"),
    ],
)
def test_bad_input_is_a_400_with_the_message_and_the_whole_list(english, offices, query, field):
    response = english.get(URL, query)

    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert names(response) == ["دفتر شمال", "دفتر جنوب"]
    page = response.content.decode()
    assert "Please correct the following" in page and "<script>alert(1)</script>" not in page


def test_each_form_carries_only_the_others_valid_value(client, offices):
    north = offices["north"]

    valid = client.get(URL, {"district": "d31", "licence": north.licence_number}).content.decode()
    invalid = client.get(URL, {"district": "d99", "licence": "<x>"}).content.decode()

    assert '<input type="hidden" name="district" value="d31">' in valid
    assert f'<input type="hidden" name="licence" value="{north.licence_number}">' in valid
    assert 'type="hidden" name="district"' not in invalid and 'type="hidden" name="licence"' not in invalid


def test_the_message_of_bad_input_is_in_persian_by_default(client, offices):
    response = client.get(URL, {"district": "d99"})

    assert "منطقه‌ای با نام «d99»" in response.content.decode()


def test_only_reading_is_allowed(client, offices):
    assert client.post(URL).status_code == 405


def test_the_home_page_leads_to_the_catalogue_and_the_directory(client, db):
    page = client.get(reverse("core:home")).content.decode()

    assert f'href="{reverse("portal:service_list")}"' in page
    assert f'href="{URL}"' in page
    assert page.count("به‌زودی") == 1  # only feedback is still to come
