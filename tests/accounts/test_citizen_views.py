"""The citizen's sign-in pages, walked with Django's test client."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pishkhan.accounts import services
from pishkhan.accounts.models import User
from pishkhan.core.models import AuditEvent

from .helpers import english, last_sms_code, make_citizen, make_staff

pytestmark = pytest.mark.django_db

SIGNIN = reverse("accounts:citizen_signin")
CODE = reverse("accounts:citizen_signin_code")
PROFILE = reverse("accounts:citizen_profile")
EXPORT = reverse("accounts:personal_data_download")
MOBILE = "09121234567"


def ask_code(client, mobile=MOBILE, **extra):
    return client.post(SIGNIN, {"mobile": mobile}, **extra)


def waiting_for_a_code(client, mobile=MOBILE):
    """A browser at step 2, as if it had asked for a code for `mobile`."""
    session = client.session
    session["accounts.signin_mobile"] = mobile
    session.save()
    return client


def signed_in_user(client):
    return client.session.get("_auth_user_id")


def test_the_mobile_form_is_accessible_and_asks_for_a_phone_number(client):
    page = client.get(SIGNIN).content.decode()
    assert '<label for="id_mobile">' in page
    assert 'autocomplete="tel"' in page
    assert 'inputmode="numeric"' in page
    assert 'aria-describedby="id_mobile_helptext"' in page
    assert reverse("accounts:staff_signin") in page


def test_a_citizen_signs_in_for_the_first_time_and_gives_the_national_id_once(client):
    response = ask_code(client, "۰۹۱۲ ۱۲۳ ۴۵۶۷", QUERY_STRING="next=/cases/")
    assert response.status_code == 302 and response["Location"] == CODE

    page = client.get(CODE).content.decode()
    assert "۰۹۱۲۱۲۳۴۵۶۷" in page  # the number, shown in Persian digits
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page

    response = client.post(CODE, {"code": last_sms_code(MOBILE)})
    assert response.status_code == 302
    assert response["Location"].startswith(PROFILE)
    assert signed_in_user(client)

    response = client.post(response["Location"], {"national_id": "0012345679", "next": "/cases/"})
    assert (response.status_code, response["Location"]) == (302, "/cases/")
    assert User.objects.get(mobile=MOBILE).national_id == "0012345679"

    # Next time the profile step is skipped.
    client.post(reverse("accounts:signout"))
    ask_code(client)
    response = client.post(CODE, {"code": last_sms_code(MOBILE)})
    assert response["Location"] == reverse("portal:my_cases")


def test_an_unsafe_next_address_is_ignored(client):
    make_citizen(MOBILE, national_id="0012345679")
    client.get(SIGNIN, {"next": "https://evil.example/steal"})
    ask_code(client)
    response = client.post(CODE, {"code": last_sms_code(MOBILE)})
    assert response["Location"] == reverse("portal:my_cases")


def test_an_invalid_mobile_is_explained_in_persian_and_kept_in_the_form(client):
    response = ask_code(client, "02112345678")
    page = response.content.decode()
    assert response.status_code == 400
    assert "شماره تلفن ثابت" in page or "تلفن ثابت" in page
    assert 'value="02112345678"' in page
    assert 'role="alert"' in page
    assert 'aria-describedby="id_mobile_helptext id_mobile_error"' in page
    assert 'id="id_mobile_error"' in page
    assert 'aria-invalid="true"' in page


def test_an_invalid_mobile_is_explained_in_english_when_english_is_chosen(client):
    response = ask_code(english(client), "02112345678")
    page = response.content.decode()
    assert response.status_code == 400
    assert "landline" in page
    assert 'value="02112345678"' in page


def test_a_wrong_code_is_refused_with_the_typed_value_kept(client):
    ask_code(client)
    code = last_sms_code(MOBILE)
    typed = f"{(int(code) + 1) % 1_000_000:06d}"
    response = client.post(CODE, {"code": typed})
    page = response.content.decode()
    assert response.status_code == 400
    assert "کد درست نیست" in page
    assert f'value="{typed}"' in page
    assert 'aria-describedby="id_code_error"' in page
    assert not signed_in_user(client)


def test_a_wrong_code_is_refused_in_english_when_english_is_chosen(client):
    english(client)
    ask_code(client)
    response = client.post(CODE, {"code": "12345"})
    assert response.status_code == 400
    assert "6 digits" in response.content.decode()
    assert 'value="12345"' in response.content.decode()


def test_an_expired_code_gets_a_clear_message(client):
    # The code was sent ten minutes ago (by the service, with its clock set back).
    services.signin_code_send(mobile=MOBILE, address=None, now=timezone.now() - timedelta(minutes=10))
    waiting_for_a_code(client)
    response = client.post(CODE, {"code": last_sms_code(MOBILE)})
    assert response.status_code == 400
    assert "منقضی" in response.content.decode()
    english(client)
    response = client.post(CODE, {"code": last_sms_code(MOBILE)})
    assert "expired" in response.content.decode()


def test_a_code_works_only_once(client):
    ask_code(client)
    code = last_sms_code(MOBILE)
    assert client.post(CODE, {"code": code}).status_code == 302
    # Someone else, in another browser, types the same code for the same number.
    other = waiting_for_a_code(Client())
    response = other.post(CODE, {"code": code})
    assert response.status_code == 400
    assert "قبلاً استفاده شده" in response.content.decode()


def test_the_sixth_guess_is_refused_with_429(client):
    ask_code(client)
    code = last_sms_code(MOBILE)
    typed = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert client.post(CODE, {"code": typed}).status_code == 400
    response = client.post(CODE, {"code": code})
    assert response.status_code == 429
    assert not signed_in_user(client)


def test_codes_per_number_are_limited_with_429(client, settings):
    settings.SIGNIN_CODES_PER_MOBILE_PER_HOUR = 2
    for n in range(2):
        assert ask_code(client, REMOTE_ADDR=f"192.0.2.{n}").status_code == 302
    response = ask_code(client, REMOTE_ADDR="192.0.2.50")
    assert response.status_code == 429
    assert "این شماره" in response.content.decode()
    assert 'value="09121234567"' in response.content.decode()


def test_codes_per_address_are_limited_with_429(client, settings):
    settings.SIGNIN_CODES_PER_ADDRESS_PER_HOUR = 2
    assert ask_code(client, "09120000001").status_code == 302
    assert ask_code(client, "09120000002").status_code == 302
    response = ask_code(english(client), "09120000003")
    assert response.status_code == 429
    assert "from your connection" in response.content.decode()
    assert ask_code(client, "09120000003", REMOTE_ADDR="192.0.2.99").status_code == 302


def test_send_again_obeys_the_limit(client, settings):
    settings.SIGNIN_CODES_PER_MOBILE_PER_HOUR = 2
    ask_code(client)
    response = client.post(CODE, {"action": "resend"})
    assert response.status_code == 200
    assert "کد تازه" in response.content.decode() or "کد جدید" in response.content.decode()
    response = client.post(CODE, {"action": "resend"})
    assert response.status_code == 429
    assert 'role="alert"' in response.content.decode()


def test_the_code_page_needs_a_number_first(client):
    response = client.get(CODE)
    assert (response.status_code, response["Location"]) == (302, SIGNIN)


def test_a_staff_members_mobile_cannot_be_used_to_bypass_the_authenticator(client):
    make_staff(mobile=MOBILE)
    response = ask_code(client)
    assert response.status_code == 403
    assert "کارکنان" in response.content.decode()


def test_an_invalid_national_id_is_explained_and_kept(client):
    client.force_login(make_citizen(MOBILE))
    response = client.post(PROFILE, {"national_id": "0012345678"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "کد ملی" in page
    assert 'value="0012345678"' in page
    english(client)
    response = client.post(PROFILE, {"national_id": "0012345678"})
    assert "national ID" in response.content.decode()


def test_a_national_id_of_another_account_is_refused_without_saying_whose(client):
    other = make_citizen("09351234567", national_id="0012345679")
    client.force_login(make_citizen(MOBILE))
    response = client.post(PROFILE, {"national_id": "0012345679"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "حساب دیگری" in page
    assert other.mobile not in page and other.username not in page
    assert 'value="0012345679"' in page


def test_the_profile_step_is_for_citizens_only(client):
    client.force_login(make_staff())
    assert client.get(PROFILE).status_code == 403


def test_signing_out_needs_a_post(client):
    client.force_login(make_citizen(MOBILE))
    assert client.get(reverse("accounts:signout")).status_code == 405
    assert signed_in_user(client)
    response = client.post(reverse("accounts:signout"))
    assert response.status_code == 302
    assert not signed_in_user(client)


# --- download my data -------------------------------------------------------------------------


def test_a_citizen_downloads_their_own_data_and_the_export_is_audited(client):
    citizen = make_citizen(MOBILE, national_id="0012345679")
    client.force_login(citizen)
    response = client.get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["account"]["mobile"] == MOBILE
    assert data["account"]["national_id"] == "0012345679"
    assert data["account"]["date_joined"]
    event = AuditEvent.objects.get(action="personal_data.exported")
    assert (event.actor, event.subject) == (citizen, f"user:{citizen.pk}")
    assert "0012345679" not in json.dumps(event.data)


def test_the_export_needs_a_signed_in_citizen(client):
    response = client.get(EXPORT)
    assert response.status_code == 302 and response["Location"].startswith(SIGNIN)
    client.force_login(make_staff())
    assert client.get(EXPORT).status_code == 403
    assert not AuditEvent.objects.filter(action="personal_data.exported").exists()
