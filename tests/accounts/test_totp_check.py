"""A fresh authenticator code asked of a signed-in staff member before an act that needs their
explicit assent (signing a permit): the sign-in's checks, without signing anyone in."""

from datetime import timedelta

import pytest

from pishkhan.accounts import services
from pishkhan.core.models import AuditEvent

from .helpers import T0, make_staff, totp_code

pytestmark = pytest.mark.django_db


def assent(user, code, *, now=T0):
    return services.staff_totp_check(user=user, code=code, purpose="signature", address="192.0.2.30", now=now)


def refused(user, code, *, now=T0) -> services.SignInError:
    with pytest.raises(services.SignInError) as raised:
        assent(user, code, now=now)
    return raised.value


def test_a_fresh_code_is_accepted_without_recording_a_sign_in():
    staff = make_staff()

    assent(staff, totp_code(staff, T0))

    staff.refresh_from_db()
    assert staff.last_login is None
    assert not AuditEvent.objects.filter(action="signin.ok").exists()


def test_the_code_used_to_sign_in_is_refused_as_replayed():
    staff = make_staff()
    code = totp_code(staff, T0)
    services.staff_totp_verify(user=staff, code=code, now=T0)

    error = refused(staff, code, now=T0 + timedelta(seconds=10))

    assert (error.code, error.status) == ("totp_replayed", 403)
    failure = AuditEvent.objects.filter(action="signin.failed").last()
    assert failure.data == {"method": "signature", "reason": "replayed_code"}


def test_a_wrong_code_counts_towards_the_lockout(settings):
    settings.STAFF_LOCKOUT_FAILURES = 2
    staff = make_staff()
    wrong = totp_code(staff, T0, steps=-5)

    assert refused(staff, wrong).code == "totp_wrong"
    assert refused(staff, wrong).code == "totp_wrong"

    error = refused(staff, totp_code(staff, T0))
    assert (error.code, error.status) == ("locked", 429)


def test_an_account_without_an_authenticator_cannot_assent():
    staff = make_staff(enrolled=False)
    assert refused(staff, "123456").code == "not_enrolled"
