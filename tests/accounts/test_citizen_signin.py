"""Citizens sign in with a one-time code sent by SMS (services)."""

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import is_password_usable
from django.db import connections

from pishkhan.accounts import services
from pishkhan.accounts.models import SignInCode, User, UserKind
from pishkhan.accounts.sms.base import SmsError, SmsProvider
from pishkhan.accounts.sms.contrib.file.plugin import read_messages
from pishkhan.accounts.sms.registry import register
from pishkhan.core.models import AuditEvent
from pishkhan.core.text import to_persian_digits

from .helpers import T0, last_sms_code, make_citizen, make_staff, needs_postgresql, sms_codes

pytestmark = pytest.mark.django_db

MOBILE = "09121234567"
ADDRESS = "192.0.2.10"


def send(mobile=MOBILE, *, address=ADDRESS, now=T0):
    return services.signin_code_send(mobile=mobile, address=address, now=now)


def verify(code, *, mobile=MOBILE, address=ADDRESS, now=T0 + timedelta(seconds=30)):
    return services.signin_code_verify(mobile=mobile, code=code, address=address, now=now)


def wrong(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_code_is_texted_and_only_a_keyed_hash_of_it_is_stored():
    row = send("+98 912 123 4567")
    code = last_sms_code(MOBILE)
    assert row.mobile == MOBILE
    assert len(code) == 6
    assert code not in row.code_hash
    assert len(row.code_hash) == 64
    assert row.expires_at == T0 + timedelta(minutes=5)
    assert row.address == ADDRESS


def test_the_text_is_persian_with_the_code_in_ascii_digits_for_autofill():
    send()
    (message,) = read_messages()
    code = last_sms_code(MOBILE)
    assert "کد ورود شما به پیشخوان" in message["text"]
    assert code in message["text"]
    assert to_persian_digits(code) not in message["text"]


def test_the_right_code_signs_in_a_new_citizen_without_a_password():
    send()
    user = verify(last_sms_code(MOBILE))
    assert user.kind == UserKind.CITIZEN
    assert user.mobile == MOBILE
    assert user.username == f"citizen-{MOBILE}"
    assert not is_password_usable(user.password)
    assert user.national_id is None


def test_an_existing_citizen_is_signed_in_not_duplicated():
    citizen = make_citizen(MOBILE)
    send()
    assert verify(last_sms_code(MOBILE)) == citizen
    assert User.objects.count() == 1


def test_persian_and_arabic_digits_are_accepted_in_the_code():
    send()
    code = last_sms_code(MOBILE)
    persian = to_persian_digits(code)
    assert verify(f" {persian[:3]} {persian[3:]} ").mobile == MOBILE
    send(now=T0 + timedelta(minutes=1))
    arabic = last_sms_code(MOBILE).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert verify(arabic, now=T0 + timedelta(minutes=1, seconds=10)).mobile == MOBILE


def test_a_code_cannot_be_used_twice():
    send()
    code = last_sms_code(MOBILE)
    verify(code)
    with pytest.raises(services.SignInError) as raised:
        verify(code, now=T0 + timedelta(seconds=40))
    assert raised.value.code == "code_used"


def test_an_expired_code_is_refused_with_a_clear_message():
    send()
    with pytest.raises(services.SignInError) as raised:
        verify(last_sms_code(MOBILE), now=T0 + timedelta(minutes=5))
    assert raised.value.code == "code_expired"
    assert raised.value.status == 400
    assert "منقضی" in raised.value.message


def test_a_code_is_still_good_one_second_before_it_expires():
    send()
    assert verify(last_sms_code(MOBILE), now=T0 + timedelta(minutes=5) - timedelta(seconds=1))


def test_a_new_code_replaces_the_older_one():
    send()
    send(now=T0 + timedelta(minutes=1))
    older, newer = sms_codes(MOBILE)
    if older != newer:  # one chance in a million that both are the same
        with pytest.raises(services.SignInError) as raised:
            verify(older, now=T0 + timedelta(minutes=2))
        assert raised.value.code == "code_wrong"
    assert verify(newer, now=T0 + timedelta(minutes=2))


def test_a_wrong_code_is_refused_and_audited_without_the_code():
    send()
    code = last_sms_code(MOBILE)
    with pytest.raises(services.SignInError) as raised:
        verify(wrong(code))
    assert raised.value.code == "code_wrong"
    event = AuditEvent.objects.get(action="signin.failed")
    assert event.data == {"method": "sms", "reason": "code_wrong"}
    assert event.address == ADDRESS
    assert code not in str(event.data) and wrong(code) not in str(event.data)


def test_the_sixth_guess_is_refused_even_with_the_right_code():
    send()
    code = last_sms_code(MOBILE)
    for _ in range(5):
        with pytest.raises(services.SignInError) as raised:
            verify(wrong(code))
        assert raised.value.code == "code_wrong"
    with pytest.raises(services.SignInError) as raised:
        verify(code)
    assert raised.value.code == "too_many_guesses"
    assert raised.value.status == 429
    assert SignInCode.objects.get().guesses == 5
    assert not User.objects.exists()


def test_a_malformed_code_is_not_counted_as_a_guess():
    send()
    with pytest.raises(services.SignInError) as raised:
        verify("12a45")
    assert raised.value.code == "code_malformed"
    assert SignInCode.objects.get().guesses == 0


def test_a_code_must_have_been_asked_for():
    with pytest.raises(services.SignInError) as raised:
        verify("123456")
    assert raised.value.code == "no_code"


def test_success_is_audited_as_signin_ok():
    send()
    user = verify(last_sms_code(MOBILE))
    event = AuditEvent.objects.get(action="signin.ok")
    assert event.actor == user
    assert event.subject == f"user:{user.pk}"
    assert event.data == {"method": "sms"}


def test_an_invalid_mobile_is_refused_before_anything_is_sent():
    with pytest.raises(services.SignInError) as raised:
        send("021 1234 5678")
    assert raised.value.code == "mobile_invalid"
    assert raised.value.status == 400
    assert read_messages() == []


def test_codes_per_number_are_limited_per_hour(settings):
    settings.SIGNIN_CODES_PER_MOBILE_PER_HOUR = 3
    for minute in range(3):
        send(now=T0 + timedelta(minutes=minute), address=f"192.0.2.{minute}")
    with pytest.raises(services.SignInError) as raised:
        send(now=T0 + timedelta(minutes=10), address="192.0.2.99")
    assert (raised.value.code, raised.value.status) == ("too_many_for_mobile", 429)
    assert len(sms_codes(MOBILE)) == 3
    # An hour after the first code the number may ask again.
    send(now=T0 + timedelta(minutes=60, seconds=1))


def test_codes_per_address_are_limited_per_hour(settings):
    settings.SIGNIN_CODES_PER_ADDRESS_PER_HOUR = 2
    send("09120000001")
    send("09120000002")
    with pytest.raises(services.SignInError) as raised:
        send("09120000003")
    assert (raised.value.code, raised.value.status) == ("too_many_for_address", 429)
    send("09120000003", address="192.0.2.11")


def test_a_staff_members_mobile_gets_no_code(settings):
    make_staff(mobile=MOBILE)
    with pytest.raises(services.SignInError) as raised:
        send()
    assert (raised.value.code, raised.value.status) == ("staff_account", 403)
    assert read_messages() == []
    assert not SignInCode.objects.exists()


def test_a_code_sent_before_an_account_became_staff_cannot_sign_it_in():
    send()
    code = last_sms_code(MOBILE)
    make_staff(mobile=MOBILE)
    with pytest.raises(services.SignInError) as raised:
        verify(code)
    assert raised.value.code == "staff_account"


def test_a_disabled_citizen_cannot_sign_in():
    citizen = make_citizen(MOBILE)
    citizen.is_active = False
    citizen.save()
    send()
    with pytest.raises(services.SignInError) as raised:
        verify(last_sms_code(MOBILE))
    assert (raised.value.code, raised.value.status) == ("account_disabled", 403)


def test_a_provider_failure_is_a_temporary_error(settings):
    @register("test-broken")
    class BrokenProvider(SmsProvider):
        def send(self, *, to, text):
            raise SmsError("gateway down", retryable=True)

    settings.SMS_PROVIDER = "test-broken"
    with pytest.raises(services.SignInError) as raised:
        send()
    assert (raised.value.code, raised.value.status) == ("sms_failed", 503)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_never_exceed_the_guess_limit():
    send()
    code = last_sms_code(MOBILE)
    guesses = 16
    barrier = threading.Barrier(guesses)
    outcomes = []

    def guess():
        try:
            barrier.wait()  # all threads guess at once, each on its own connection
            try:
                verify(wrong(code))
            except services.SignInError as error:
                outcomes.append(error.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess) for _ in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["code_wrong"] * 5 + ["too_many_guesses"] * (guesses - 5)
    assert SignInCode.objects.get().guesses == 5
    # The guesses are spent: the right code no longer helps.
    with pytest.raises(services.SignInError) as raised:
        verify(code)
    assert raised.value.code == "too_many_guesses"


# --- Profile: the national ID, once ------------------------------------------------------------


def test_the_national_id_is_recorded_once_and_normalised():
    citizen = make_citizen()
    services.citizen_national_id_set(user=citizen, national_id="۰۰۱۲۳۴۵۶۷۹")
    citizen.refresh_from_db()
    assert citizen.national_id == "0012345679"
    with pytest.raises(services.ProfileError) as raised:
        services.citizen_national_id_set(user=citizen, national_id="0440000114")
    assert raised.value.code == "already_set"


def test_a_national_id_with_a_wrong_check_digit_is_refused():
    citizen = make_citizen()
    with pytest.raises(services.ProfileError) as raised:
        services.citizen_national_id_set(user=citizen, national_id="0012345678")
    assert raised.value.code == "national_id_invalid"


def test_another_accounts_national_id_is_refused_without_saying_whose():
    other = make_citizen("09351234567", national_id="0012345679")
    citizen = make_citizen()
    with pytest.raises(services.ProfileError) as raised:
        services.citizen_national_id_set(user=citizen, national_id="0012345679")
    assert raised.value.code == "national_id_taken"
    assert other.mobile not in raised.value.message
    assert other.username not in raised.value.message


def test_old_sign_in_records_are_pruned_and_recent_ones_kept():
    send(now=T0 - timedelta(days=3))
    send(now=T0 - timedelta(minutes=10))
    counts = services.signin_records_prune(now=T0)
    assert counts == {"rate_limit_hits": 2, "signin_codes": 1}
    assert SignInCode.objects.count() == 1
