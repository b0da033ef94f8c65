"""Staff and office operators: password, then an authenticator code (services)."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pishkhan.accounts import services
from pishkhan.accounts.models import User, UserKind
from pishkhan.core.models import AuditEvent

from .helpers import STAFF_PASSWORD, T0, make_citizen, make_staff, totp_code

pytestmark = pytest.mark.django_db

ADDRESS = "192.0.2.20"


def check(username="clerk01", password=STAFF_PASSWORD, *, now=T0):
    return services.staff_password_check(username=username, password=password, address=ADDRESS, now=now)


def second_factor(user, code, *, now=T0):
    return services.staff_totp_verify(user=user, code=code, address=ADDRESS, now=now)


def refused(call, *args, **kwargs) -> services.SignInError:
    with pytest.raises(services.SignInError) as raised:
        call(*args, **kwargs)
    return raised.value


def test_the_right_password_passes_the_first_step_without_signing_in():
    staff = make_staff()
    assert check() == staff
    assert not AuditEvent.objects.filter(action="signin.ok").exists()


def test_an_operator_signs_in_the_same_way():
    operator = make_staff("office101", kind=UserKind.OPERATOR)
    assert check("office101") == operator


def test_a_wrong_password_and_an_unknown_username_get_the_same_answer():
    make_staff()
    wrong_password = refused(check, password="not-the-password")
    unknown_user = refused(check, username="nobody")
    assert (wrong_password.code, wrong_password.status) == ("credentials", 403)
    assert (unknown_user.code, unknown_user.status, unknown_user.message) == (
        wrong_password.code,
        wrong_password.status,
        wrong_password.message,
    )


def test_citizens_cannot_use_the_staff_form():
    citizen = make_citizen()
    citizen.set_password(STAFF_PASSWORD)
    citizen.save()
    error = refused(check, username=citizen.username)
    assert error.code == "credentials"
    assert AuditEvent.objects.get(action="signin.failed").data == {
        "method": "password",
        "reason": "not_staff",
    }


def test_failures_are_audited_with_the_username_typed_but_never_the_password():
    refused(check, username="nobody", password="hunter2-hunter2")
    event = AuditEvent.objects.get(action="signin.failed")
    assert event.actor_label == "nobody"
    assert event.address == ADDRESS
    assert "hunter2" not in str(event.data)


def test_the_account_locks_after_repeated_failures_and_unlocks_after_the_time(settings):
    settings.STAFF_LOCKOUT_FAILURES = 3
    settings.STAFF_LOCKOUT_MINUTES = 15
    staff = make_staff()
    for minute in range(3):
        refused(check, password="wrong-wrong-wrong", now=T0 + timedelta(minutes=minute))
    staff.refresh_from_db()
    assert staff.locked_until == T0 + timedelta(minutes=2 + 15)
    assert AuditEvent.objects.filter(action="signin.locked").count() == 1

    # Locked: even the right password is refused, with the same message as any failure.
    error = refused(check, now=T0 + timedelta(minutes=10))
    assert error.code == "credentials"
    assert AuditEvent.objects.filter(action="signin.failed").last().data["reason"] == "locked"

    assert check(now=T0 + timedelta(minutes=17, seconds=1)) == staff


def test_wrong_authenticator_codes_count_towards_the_same_lockout(settings):
    settings.STAFF_LOCKOUT_FAILURES = 3
    staff = make_staff()
    refused(check, password="wrong-wrong-wrong")
    right = totp_code(staff, T0)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    assert refused(second_factor, staff, wrong).code == "totp_wrong"
    assert refused(second_factor, staff, wrong).code == "totp_wrong"
    staff.refresh_from_db()
    assert staff.locked_until is not None
    error = refused(second_factor, staff, right)
    assert (error.code, error.status) == ("locked", 429)


def test_a_successful_sign_in_resets_the_failure_count():
    staff = make_staff()
    refused(check, password="wrong-wrong-wrong")
    refused(check, password="wrong-wrong-wrong")
    second_factor(check(), totp_code(staff, T0))
    staff.refresh_from_db()
    assert staff.failed_signins == 0
    event = AuditEvent.objects.get(action="signin.ok")
    assert (event.actor, event.data) == (staff, {"method": "password+totp"})


def test_the_authenticator_code_of_the_previous_or_next_step_is_accepted():
    staff = make_staff()
    second_factor(staff, totp_code(staff, T0, steps=-1))
    second_factor(
        staff, totp_code(staff, T0 + timedelta(seconds=60), steps=1), now=T0 + timedelta(seconds=60)
    )


def test_a_code_two_steps_old_is_refused():
    staff = make_staff()
    assert refused(second_factor, staff, totp_code(staff, T0, steps=-2)).code == "totp_wrong"


def test_the_same_authenticator_code_cannot_be_replayed():
    staff = make_staff()
    code = totp_code(staff, T0)
    second_factor(staff, code)
    error = refused(second_factor, staff, code, now=T0 + timedelta(seconds=20))
    assert (error.code, error.status) == ("totp_replayed", 403)
    assert AuditEvent.objects.filter(action="signin.failed").last().data["reason"] == "replayed_code"


def test_an_older_step_is_refused_after_a_newer_one_was_used():
    staff = make_staff()
    second_factor(staff, totp_code(staff, T0))
    assert refused(second_factor, staff, totp_code(staff, T0, steps=-1)).code == "totp_replayed"


def test_persian_digits_are_accepted_in_the_authenticator_code():
    staff = make_staff()
    persian = totp_code(staff, T0).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert second_factor(staff, persian) == staff


def test_enrolment_gives_an_otpauth_uri_and_keeps_the_secret_until_confirmed(settings):
    settings.TOTP_ISSUER = "Pishkhan Demo"
    staff = make_staff(enrolled=False)
    uri = services.staff_totp_enrol(user=staff)
    parts = urlsplit(uri)
    query = parse_qs(parts.query)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert query["issuer"] == ["Pishkhan Demo"]
    assert services.staff_totp_enrol(user=User.objects.get(pk=staff.pk)) == uri
    assert not User.objects.get(pk=staff.pk).totp_confirmed


def test_a_valid_code_confirms_the_authenticator_and_completes_the_sign_in():
    staff = make_staff(enrolled=False)
    uri = services.staff_totp_enrol(user=staff)
    code = pyotp.parse_uri(uri).at(T0)
    services.staff_totp_confirm(user=staff, code=code, address=ADDRESS, now=T0)
    staff.refresh_from_db()
    assert staff.totp_confirmed
    assert {"totp.confirmed", "signin.ok"} <= set(AuditEvent.objects.values_list("action", flat=True))
    assert refused(services.staff_totp_enrol, user=staff).code == "already_enrolled"


def test_a_wrong_code_does_not_confirm_the_authenticator():
    staff = make_staff(enrolled=False)
    services.staff_totp_enrol(user=staff)
    right = pyotp.TOTP(staff.totp_secret).at(T0)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    assert refused(services.staff_totp_confirm, user=staff, code=wrong, now=T0).code == "totp_wrong"
    staff.refresh_from_db()
    assert not staff.totp_confirmed
    assert staff.failed_signins == 1


def test_an_account_without_an_authenticator_cannot_verify_a_code():
    staff = make_staff(enrolled=False)
    assert refused(second_factor, staff, "123456").code == "not_enrolled"


def test_an_administrator_can_reset_an_authenticator_and_lift_a_lockout():
    admin_user = make_staff("admin")
    staff = make_staff(locked_until=T0 + timedelta(minutes=5), failed_signins=0)
    services.staff_totp_reset(user=staff, by=admin_user)
    services.staff_unlock(user=staff, by=admin_user)
    staff.refresh_from_db()
    assert (staff.totp_secret, staff.totp_confirmed, staff.locked_until) == ("", False, None)
    assert {"totp.reset", "signin.unlocked"} <= set(AuditEvent.objects.values_list("action", flat=True))


# --- the demo's `pishkhan totp USERNAME` -------------------------------------------------------


def test_the_totp_command_prints_the_current_code(settings, capsys):
    settings.ENVIRONMENT = "development"
    staff = make_staff()
    call_command("totp", "clerk01")
    printed = capsys.readouterr().out.strip()
    assert printed.isdigit() and len(printed) == 6
    assert pyotp.TOTP(staff.totp_secret).verify(printed, valid_window=1)


def test_the_totp_command_refuses_to_run_in_production(settings):
    settings.ENVIRONMENT = "production"
    settings.DEBUG = False
    make_staff()
    with pytest.raises(CommandError, match="production"):
        call_command("totp", "clerk01")


def test_the_totp_command_names_an_unknown_account(settings):
    settings.ENVIRONMENT = "development"
    with pytest.raises(CommandError, match="nobody"):
        call_command("totp", "nobody")
