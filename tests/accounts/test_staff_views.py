"""The staff sign-in pages: password, then authenticator; enrolment on first sign-in."""

import re

import pyotp
import pytest
from django.urls import reverse
from django.utils import timezone

from pishkhan.core.models import AuditEvent

from .helpers import STAFF_PASSWORD, english, make_citizen, make_staff

pytestmark = pytest.mark.django_db

SIGNIN = reverse("accounts:staff_signin")
TOTP = reverse("accounts:staff_signin_totp")
ENROL = reverse("accounts:staff_enrol")


def password_step(client, username="clerk01", password=STAFF_PASSWORD, **extra):
    return client.post(SIGNIN, {"username": username, "password": password}, **extra)


def signed_in_user(client):
    return client.session.get("_auth_user_id")


def current_code(user):
    return pyotp.TOTP(user.totp_secret).at(timezone.now())


def other_code(code):
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


def test_password_then_authenticator_signs_a_staff_member_in(client):
    staff = make_staff()
    response = password_step(client, QUERY_STRING="next=/desk/")
    assert (response.status_code, response["Location"]) == (302, TOTP)
    assert not signed_in_user(client), "the password alone must never sign anyone in"

    page = client.get(TOTP).content.decode()
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page

    response = client.post(TOTP, {"code": current_code(staff)})
    assert (response.status_code, response["Location"]) == (302, "/desk/")
    assert signed_in_user(client) == str(staff.pk)
    assert "accounts.staff_pending" not in client.session


def test_the_authenticator_page_needs_the_password_first(client):
    make_staff()
    response = client.get(TOTP)
    assert (response.status_code, response["Location"]) == (302, SIGNIN)
    assert client.get(ENROL)["Location"] == SIGNIN


def test_a_wrong_password_gets_one_message_for_every_cause_and_keeps_the_username(client):
    make_staff()
    wrong = password_step(client, password="not-the-password")
    unknown = password_step(client, username="nobody")
    assert wrong.status_code == unknown.status_code == 403
    page = wrong.content.decode()
    assert "نام کاربری یا رمز عبور" in page
    assert 'value="clerk01"' in page
    assert 'role="alert"' in page
    assert "not-the-password" not in page
    message = re.search(r'role="alert".*?</div>', page, re.S).group(0)
    assert message in unknown.content.decode().replace('value="nobody"', 'value="clerk01"')


def test_the_password_failure_is_in_english_when_english_is_chosen(client):
    make_staff()
    response = password_step(english(client), password="nope-nope-nope")
    assert response.status_code == 403
    assert "username or password is not correct" in response.content.decode()


def test_a_citizen_cannot_use_the_staff_form(client):
    citizen = make_citizen()
    citizen.set_password(STAFF_PASSWORD)
    citizen.save()
    response = password_step(client, username=citizen.username)
    assert response.status_code == 403
    assert not signed_in_user(client)


def test_a_wrong_second_factor_is_refused_with_the_typed_value_kept(client):
    staff = make_staff()
    password_step(client)
    typed = other_code(current_code(staff))
    response = client.post(TOTP, {"code": typed})
    page = response.content.decode()
    assert response.status_code == 403
    assert "برنامه" in page
    assert f'value="{typed}"' in page
    assert 'aria-describedby="id_code_helptext id_code_error"' in page
    assert not signed_in_user(client)
    english(client)
    response = client.post(TOTP, {"code": typed})
    assert "authenticator code is not correct" in response.content.decode()


def test_a_malformed_second_factor_is_a_400(client):
    make_staff()
    password_step(client)
    response = client.post(TOTP, {"code": "12"})
    assert response.status_code == 400
    assert 'value="12"' in response.content.decode()


def test_the_same_authenticator_code_cannot_be_used_twice(client):
    staff = make_staff()
    password_step(client)
    code = current_code(staff)
    assert client.post(TOTP, {"code": code}).status_code == 302
    client.post(reverse("accounts:signout"))
    password_step(client)
    response = client.post(TOTP, {"code": code})
    assert response.status_code == 403
    assert "قبلاً استفاده شده" in response.content.decode()
    assert not signed_in_user(client)


def test_repeated_failures_lock_the_account(client, settings):
    settings.STAFF_LOCKOUT_FAILURES = 3
    staff = make_staff()
    for _ in range(3):
        assert password_step(client, password="wrong-wrong-wrong").status_code == 403
    response = password_step(client)  # the right password, too late
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action="signin.locked", actor=staff).count() == 1


def test_first_sign_in_enrols_an_authenticator_with_a_server_drawn_qr_code(client):
    staff = make_staff(enrolled=False)
    response = password_step(client)
    assert response["Location"] == ENROL
    page = client.get(ENROL).content.decode()
    staff.refresh_from_db()
    assert "<svg" in page
    assert "http://" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]  # no external QR service
    secret = staff.totp_secret
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in page
    assert client.get(TOTP)["Location"] == ENROL

    wrong = client.post(ENROL, {"code": other_code(current_code(staff))})
    assert wrong.status_code == 403
    response = client.post(ENROL, {"code": current_code(staff)})
    assert response.status_code == 302
    assert signed_in_user(client) == str(staff.pk)
    staff.refresh_from_db()
    assert staff.totp_confirmed


def test_the_admin_login_goes_through_the_staff_sign_in(client):
    response = client.get(reverse("admin:login"), {"next": "/admin/accounts/user/"})
    assert response.status_code == 302
    assert response["Location"].startswith(SIGNIN)
    assert "next=%2Fadmin%2Faccounts%2Fuser%2F" in response["Location"]


def test_a_signed_in_person_without_admin_rights_is_refused_by_the_admin(client):
    client.force_login(make_staff())
    response = client.get(reverse("admin:index"), follow=True)
    assert response.status_code == 403
