"""The office counter: an e-service office operator files a case for a walk-in citizen after the
citizen reads out the consent code sent to their mobile."""

import re

import pytest
from django.urls import reverse

from pishkhan.accounts.sms.contrib.file.plugin import read_messages
from pishkhan.cases.models import Case
from pishkhan.core.text import to_persian_digits
from pishkhan.offices.models import OfficeStatus
from tests.cases.factories import (
    make_citizen,
    make_district,
    make_office,
    make_operator,
    mobile_new,
    national_id_new,
    publish_definition,
    small_process,
)

pytestmark = pytest.mark.django_db
COUNTER = reverse("portal:counter")
FILE = reverse("portal:counter_file")


@pytest.fixture(autouse=True)
def _sms_to_file(settings):
    """Text messages go to the file provider (settings.SMS_FILE_PATH), where the test reads codes."""
    settings.SMS_PROVIDER = "file"


@pytest.fixture
def counter(client):
    """An operator of an active office, signed in, with the small process published."""
    office = make_office(district=make_district())
    operator = make_operator(office=office)
    service = publish_definition(small_process())
    client.cookies["django_language"] = "en"
    client.force_login(operator)
    return client, office, operator, service


def last_code(mobile: str) -> str:
    return [re.search(r"\b(\d{6})\b", m["text"]).group(1) for m in read_messages() if m["to"] == mobile][-1]


def send_code(client, service, *, national_id, mobile):
    return client.post(
        COUNTER, {"_action": "send", "national_id": national_id, "mobile": mobile, "service": service.code}
    )


def give_consent(client, service, *, national_id, mobile):
    assert send_code(client, service, national_id=national_id, mobile=mobile).status_code == 302
    return client.post(COUNTER, {"_action": "verify", "code": last_code(mobile)})


def test_an_operator_files_for_a_walk_in_citizen_after_the_consent_code(counter):
    client, office, operator, service = counter
    national_id, mobile = national_id_new(), mobile_new()

    # Persian digits are accepted for the national ID and the mobile.
    sent = send_code(
        client, service, national_id=to_persian_digits(national_id), mobile=to_persian_digits(mobile)
    )
    assert sent.status_code == 302
    assert "consent code was sent" in client.get(COUNTER).content.decode()
    verified = client.post(COUNTER, {"_action": "verify", "code": to_persian_digits(last_code(mobile))})
    assert verified.status_code == 302 and verified["Location"] == FILE
    form = client.get(FILE)
    assert form.status_code == 200 and 'name="area_m2"' in form.content.decode()

    filed = client.post(FILE, {"_token": "counter-once", "area_m2": "120"})

    case = Case.objects.get()
    assert filed.status_code == 302
    assert filed["Location"] == reverse("portal:my_case", args=[case.tracking_code])
    assert case.filed_by == operator
    assert case.applicant.national_id == national_id and case.applicant.mobile == mobile
    assert case.office == office and case.channel == "office"
    assert client.get(filed["Location"]).status_code == 200
    assert case.tracking_code in client.get(reverse("offices:dashboard")).content.decode()
    # The same one-time token again (a double click) makes no second case.
    client.post(FILE, {"_token": "counter-once", "area_m2": "120"})
    assert Case.objects.count() == 1


def test_bad_answers_come_back_with_what_was_typed(counter):
    client, _office, _operator, service = counter
    give_consent(client, service, national_id=national_id_new(), mobile=mobile_new())

    refused = client.post(FILE, {"_token": "t1", "area_m2": "5000", "night_work": "on"})

    assert refused.status_code == 400 and not Case.objects.exists()
    assert 'value="5000"' in refused.content.decode()


def test_a_wrong_consent_code_is_refused_and_five_guesses_is_the_limit(counter, settings):
    client, _office, _operator, service = counter
    mobile = mobile_new()
    send_code(client, service, national_id=national_id_new(), mobile=mobile)
    right = last_code(mobile)
    wrong = "000000" if right != "000000" else "111111"

    refused = client.post(COUNTER, {"_action": "verify", "code": wrong})
    assert refused.status_code == 400
    assert "This code is not correct" in refused.content.decode()
    for _guess in range(settings.SIGNIN_CODE_MAX_GUESSES - 1):
        client.post(COUNTER, {"_action": "verify", "code": wrong})

    too_many = client.post(COUNTER, {"_action": "verify", "code": right})
    assert too_many.status_code == 429 and "Too many wrong codes" in too_many.content.decode()
    assert client.get(FILE).status_code == 302  # no consent: back to step 1


def test_a_suspended_office_cannot_file(counter):
    client, office, _operator, service = counter
    give_consent(client, service, national_id=national_id_new(), mobile=mobile_new())
    office.status = OfficeStatus.SUSPENDED
    office.save()

    refused = client.post(FILE, {"_token": "t2", "area_m2": "120"})

    assert 400 <= refused.status_code < 500
    assert "suspended" in refused.content.decode().lower()
    assert 'value="120"' in refused.content.decode()
    assert not Case.objects.exists()


def test_a_non_operator_gets_403(client):
    client.force_login(make_citizen())
    assert client.get(COUNTER).status_code == 403
    assert client.get(FILE).status_code == 403
    client.logout()
    assert client.get(COUNTER).status_code == 302  # to sign-in


def test_a_national_id_registered_with_another_mobile_is_refused(counter):
    client, _office, _operator, service = counter
    citizen = make_citizen()
    other_mobile = mobile_new()

    refused = give_consent(client, service, national_id=citizen.national_id, mobile=other_mobile)

    assert refused.status_code == 400
    assert "belong to different accounts" in refused.content.decode()
    assert client.get(FILE).status_code == 302
