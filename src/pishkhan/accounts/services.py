"""Every write about people: sign-in (citizens by SMS code, staff and operators by password and
authenticator), the citizen's profile, role bindings, exports of personal data.

Each public function is `<noun>_<verb>(*, keyword_only)`. A refusal the person can act on is an
`AccountsError` (SignInError, ProfileError, RoleError) carrying a stable `code`, a translated
`message` and the HTTP `status` a view should answer with; views show the message and never need
to know the rules.

Time comes in as `now=` (default: the current time), so tests move the clock without sleeping."""

import re
import secrets
from datetime import datetime, timedelta

import pyotp
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from pishkhan.core.audit import audit_record
from pishkhan.core.ratelimit import rate_limit_hit, rate_limit_prune
from pishkhan.core.text import to_ascii_digits
from pishkhan.core.validators import normalize_mobile, normalize_national_id

from . import selectors
from .models import Department, District, Role, RoleBinding, SignInCode, User, UserKind
from .sms.base import SmsError
from .sms.service import sms_send_code

STAFF_KINDS = (UserKind.STAFF, UserKind.OPERATOR)
CODE_DIGITS = 6
TOTP_INTERVAL_SECONDS = 30
# One step either side of now: a phone clock half a minute off, or a code typed as it rolled over.
TOTP_VALID_WINDOW = 1
_CODE_HASH_SALT = "pishkhan.accounts.signin_code"


# --- Errors -----------------------------------------------------------------------------------


class AccountsError(Exception):
    """A refusal the person can act on.

    `code` is stable and meant for programs and tests; `message` is translated into the language
    active when it is read; `status` is the HTTP status for a view (400 bad input, 403 refused,
    429 too many, 503 a provider is down)."""

    def __init__(self, code: str, message, *, status: int = 400, params: dict | None = None):
        super().__init__(code)
        self.code = code
        self.status = status
        self._message = message
        self._params = params or {}

    @property
    def message(self) -> str:
        text = str(self._message)
        return text % self._params if self._params else text

    def __str__(self):
        return f"{self.code}: {self.message}"


class SignInError(AccountsError):
    """Sign-in refused (bad code, too many attempts, wrong password or authenticator code …)."""


class ProfileError(AccountsError):
    """A profile change refused (national ID invalid or already registered …)."""


class RoleError(AccountsError):
    """A role binding refused (citizen accounts, duplicates)."""


# Staff credential failures share one message whatever the cause (unknown username, wrong
# password, a citizen account, a locked or disabled account), so the form never tells whether a
# username exists.
STAFF_CREDENTIALS_MESSAGE = _(
    "The username or password is not correct. After %(failures)d failed attempts in a row, "
    "sign-in is paused for %(minutes)d minutes."
)


STAFF_ACCOUNT_MESSAGE = _(
    "This number belongs to a staff or office account. Use the staff sign-in with your authenticator app."
)


def _staff_credentials_error() -> SignInError:
    return SignInError(
        "credentials",
        STAFF_CREDENTIALS_MESSAGE,
        status=403,
        params={"failures": settings.STAFF_LOCKOUT_FAILURES, "minutes": settings.STAFF_LOCKOUT_MINUTES},
    )


def _locked_error() -> SignInError:
    return SignInError(
        "locked",
        _("Sign-in to this account is paused after repeated failures. Try again in %(minutes)d minutes."),
        status=429,
        params={"minutes": settings.STAFF_LOCKOUT_MINUTES},
    )


# --- Small helpers ----------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _normalize_code(code) -> str | None:
    """ASCII digits of a typed one-time code (Persian or Arabic-Indic digits and spaces allowed),
    or None when it is not six digits."""
    text = re.sub(r"[\s\-]", "", to_ascii_digits(str(code or "")))
    return text if re.fullmatch(rf"[0-9]{{{CODE_DIGITS}}}", text) else None


def _code_hash(mobile: str, code: str) -> str:
    # The mobile is part of the MAC input, so a stolen hash cannot be tried against another number,
    # and SECRET_KEY keys it, so a database dump alone cannot brute-force the 10⁶ codes.
    return salted_hmac(_CODE_HASH_SALT, f"{mobile}:{code}", algorithm="sha256").hexdigest()


def _user_subject(user) -> str:
    return f"user:{user.pk}"


def _sms_text(code: str) -> str:
    # The code goes out in ASCII digits even in the Persian text: iOS and Android offer to fill in
    # a one-time code only when they recognise it, and both reliably recognise ASCII digits only.
    # Phones show them well inside Persian text; the page shows the number in Persian digits.
    return gettext("Your Pishkhan sign-in code: %(code)s\nDo not give this code to anyone.") % {"code": code}


# --- Citizens: sign-in with a one-time SMS code -----------------------------------------------


def signin_code_send(*, mobile: str, address: str | None, now: datetime | None = None) -> SignInCode:
    """Send a fresh one-time sign-in code to a citizen's mobile and return its row.

    `mobile` is what the person typed (normalised here); `address` the client's IP or None.
    At most SIGNIN_CODES_PER_ADDRESS_PER_HOUR codes per address (skipped when the address is
    unknown) and SIGNIN_CODES_PER_MOBILE_PER_HOUR per number. The code is 6 random digits, valid
    SIGNIN_CODE_TTL_SECONDS; only its HMAC is stored; older unused codes of the number stop
    working.

    Raises SignInError: mobile_invalid (400), too_many_for_address / too_many_for_mobile (429),
    staff_account (403, staff and operators must use their second factor), sms_failed (503)."""
    now = _now(now)
    try:
        mobile = normalize_mobile(mobile)
    except ValidationError as error:
        raise SignInError("mobile_invalid", error.messages[0]) from None

    hour = timedelta(hours=1)
    # An unknown address (misconfigured proxy header) is not one shared bucket: that would let
    # one person lock everyone out. The per-number limit still applies.
    if address and not rate_limit_hit(
        key=f"signin:address:{address}",
        limit=settings.SIGNIN_CODES_PER_ADDRESS_PER_HOUR,
        window=hour,
        now=now,
    ):
        raise SignInError(
            "too_many_for_address",
            _("Too many sign-in codes were asked for from your connection. Please try again in an hour."),
            status=429,
        )
    if not rate_limit_hit(
        key=f"signin:mobile:{mobile}", limit=settings.SIGNIN_CODES_PER_MOBILE_PER_HOUR, window=hour, now=now
    ):
        raise SignInError(
            "too_many_for_mobile",
            _("Too many sign-in codes were sent to this number. Please try again in an hour."),
            status=429,
        )
    existing = selectors.user_by_mobile(mobile=mobile)
    if existing is not None and existing.kind in STAFF_KINDS:
        # A code by SMS must never replace a staff member's authenticator.
        audit_record(
            action="signin.failed",
            actor=existing,
            subject=_user_subject(existing),
            address=address,
            data={"method": "sms", "reason": "staff_account"},
        )
        raise SignInError(
            "staff_account",
            STAFF_ACCOUNT_MESSAGE,
            status=403,
        )

    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    with transaction.atomic():
        # A new code replaces the older ones: only the latest message in the phone works.
        SignInCode.objects.filter(mobile=mobile, used_at__isnull=True, expires_at__gt=now).update(
            expires_at=now
        )
        signin_code = SignInCode.objects.create(
            mobile=mobile,
            code_hash=_code_hash(mobile, code),
            expires_at=now + timedelta(seconds=settings.SIGNIN_CODE_TTL_SECONDS),
            address=address,
        )
    # Sent after the row is committed: if the provider fails the row stays, harmless, since
    # nobody knows its code, and the person simply asks again.
    try:
        sms_send_code(to=mobile, code=code, text=_sms_text(code))
    except SmsError:
        raise SignInError(
            "sms_failed",
            _("The text message could not be sent. Please try again in a few minutes."),
            status=503,
        ) from None
    return signin_code


def signin_records_prune(*, now: datetime | None = None) -> dict[str, int]:
    """Delete sign-in bookkeeping that can no longer matter: rate-limit hits older than the
    longest window (an hour) and sign-in codes that expired more than a day ago (kept that long
    so a support desk can still see "a code was sent at 10:02"). Returns the counts deleted.
    Safe to run at any time; `pishkhan manage prune_signins` runs it."""
    now = _now(now)
    hits = rate_limit_prune(older_than=timedelta(hours=1), now=now)
    codes, _ = SignInCode.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    return {"rate_limit_hits": hits, "signin_codes": codes}


def _signin_sms_failed(*, mobile, address, reason, user=None) -> None:
    # The code typed is never part of the record, right or wrong.
    audit_record(
        action="signin.failed",
        actor=user,
        actor_label=mobile,
        subject=_user_subject(user) if user else f"mobile:{mobile}",
        address=address,
        data={"method": "sms", "reason": reason},
    )


def _citizen_create(*, mobile: str) -> User:
    """A new citizen account for a normalised mobile: no password (they sign in by SMS), username
    derived from the mobile. Should that username be taken — an account whose mobile has since
    changed — a random suffix keeps it unique; the username is never shown to citizens."""
    for suffix in ("", *(f"-{secrets.token_hex(3)}" for _attempt in range(3))):
        user = User(username=f"citizen-{mobile}{suffix}", mobile=mobile, kind=UserKind.CITIZEN)
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            if (same_mobile := selectors.user_by_mobile(mobile=mobile)) is not None:
                return same_mobile
            continue
        return user
    raise RuntimeError(f"could not find a free username for citizen {mobile}")


def signin_code_verify(*, mobile: str, code: str, address: str | None, now: datetime | None = None) -> User:
    """Check a typed sign-in code and return the citizen it signs in (created on first sign-in).

    `code` may be typed with Persian or Arabic-Indic digits. Only the latest code sent to the
    number counts. Each code allows SIGNIN_CODE_MAX_GUESSES guesses, counted with one atomic
    UPDATE before comparing, so parallel requests cannot exceed it; a right code is marked used
    with an atomic UPDATE, so it works once. Audits signin.ok or signin.failed.

    Raises SignInError: mobile_invalid, code_malformed, no_code, code_used, code_expired,
    code_wrong (400); too_many_guesses (429); staff_account, account_disabled (403)."""
    now = _now(now)
    try:
        mobile = normalize_mobile(mobile)
    except ValidationError as error:
        raise SignInError("mobile_invalid", error.messages[0]) from None
    typed = _normalize_code(code)
    if typed is None:
        raise SignInError(
            "code_malformed", _("The code has 6 digits; type it as it appears in the text message.")
        )

    def refuse(reason, message, *, status=400):
        _signin_sms_failed(mobile=mobile, address=address, reason=reason)
        return SignInError(reason, message, status=status)

    existing = selectors.user_by_mobile(mobile=mobile)
    if existing is not None and existing.kind != UserKind.CITIZEN:
        # Even a code sent before the account became staff must not replace the authenticator.
        raise refuse(
            "staff_account",
            STAFF_ACCOUNT_MESSAGE,
            status=403,
        )
    if existing is not None and not existing.is_active:
        raise refuse(
            "account_disabled", _("This account is disabled. Please contact the municipality."), status=403
        )

    latest = selectors.signin_code_latest(mobile=mobile)
    if latest is None:
        raise refuse("no_code", _("No code has been sent to this number yet. Ask for a code first."))
    if latest.used_at is not None:
        raise refuse("code_used", _("This code has already been used. Ask for a new code."))
    if latest.expires_at <= now:
        raise refuse("code_expired", _("This code has expired. Ask for a new code."))

    # Count the guess before looking at it: the row count says whether this request still had a
    # guess left. Committed on its own (no surrounding transaction), so a failure cannot roll it back.
    counted = SignInCode.objects.filter(pk=latest.pk, guesses__lt=settings.SIGNIN_CODE_MAX_GUESSES).update(
        guesses=F("guesses") + 1
    )
    if not counted:
        raise refuse("too_many_guesses", _("Too many wrong codes. Ask for a new code."), status=429)
    if not constant_time_compare(latest.code_hash, _code_hash(mobile, typed)):
        raise refuse("code_wrong", _("This code is not correct. Check the text message and try again."))
    if not SignInCode.objects.filter(pk=latest.pk, used_at__isnull=True).update(used_at=now):
        # Another request with the same code won the race.
        raise refuse("code_used", _("This code has already been used. Ask for a new code."))

    with transaction.atomic():
        user = existing or _citizen_create(mobile=mobile)
        User.objects.filter(pk=user.pk).update(last_login=now)
        user.last_login = now
        audit_record(
            action="signin.ok",
            actor=user,
            subject=_user_subject(user),
            address=address,
            data={"method": "sms"},
        )
    return user


def citizen_national_id_set(*, user: User, national_id: str) -> User:
    """Record a citizen's national ID, once (the "complete your profile" step).

    `national_id` is what the person typed; it is normalised and checked (checksum) here.
    Raises ProfileError: national_id_invalid (400, the validator's message), already_set (400),
    not_citizen (403), national_id_taken (400; the message never says which account has it)."""
    if user.kind != UserKind.CITIZEN:
        raise ProfileError("not_citizen", _("Only citizen accounts have a national ID here."), status=403)
    try:
        national_id = normalize_national_id(national_id)
    except ValidationError as error:
        raise ProfileError("national_id_invalid", error.messages[0]) from None
    taken = ProfileError(
        "national_id_taken",
        _(
            "This national ID is already registered to another account. If it is yours, "
            "please contact the municipality's service desk."
        ),
    )
    if User.objects.filter(national_id=national_id).exclude(pk=user.pk).exists():
        raise taken
    try:
        with transaction.atomic():
            updated = User.objects.filter(pk=user.pk, national_id__isnull=True).update(
                national_id=national_id
            )
    except IntegrityError:  # registered by someone else between the check and the update
        raise taken from None
    if not updated:
        raise ProfileError("already_set", _("Your national ID is already recorded."))
    user.national_id = national_id
    return user


def citizen_get_or_create(*, national_id: str, mobile: str, by: User | None = None) -> User:
    """The citizen account a walk-in applicant's case is filed under, found or created from the
    national ID and mobile that an office operator or a counter clerk (`by`, for the audit log)
    typed after seeing the person's identity card.

    Both are normalised and checked here. An account found by national ID must have this mobile:
    an office cannot move a citizen's sign-in number. An account found by mobile without a national
    ID gets this one recorded (audited citizen.national_id_recorded). Otherwise a new citizen
    account is made with both (audited citizen.registered); the citizen can sign in to it later by
    SMS.

    Raises ProfileError: national_id_invalid, mobile_invalid (400, the validator's message),
    mismatch (400, the two belong to different accounts), not_citizen (400, a staff or office
    account has this national ID or mobile)."""
    try:
        national_id = normalize_national_id(national_id)
    except ValidationError as error:
        raise ProfileError("national_id_invalid", error.messages[0]) from None
    try:
        mobile = normalize_mobile(mobile)
    except ValidationError as error:
        raise ProfileError("mobile_invalid", error.messages[0]) from None
    mismatch = ProfileError(
        "mismatch",
        _(
            "This national ID and mobile number belong to different accounts. Ask the applicant "
            "for the mobile number they sign in with."
        ),
    )
    not_citizen = ProfileError(
        "not_citizen", _("This national ID or mobile number belongs to a staff or office account.")
    )
    # Two attempts: a parallel request may register the same person between our read and write;
    # the second pass then finds what it made.
    for _attempt in range(2):
        by_id = User.objects.filter(national_id=national_id).first()
        if by_id is not None:
            if by_id.kind != UserKind.CITIZEN:
                raise not_citizen
            if by_id.mobile != mobile:
                raise mismatch
            return by_id
        by_mobile = selectors.user_by_mobile(mobile=mobile)
        if by_mobile is not None and by_mobile.kind != UserKind.CITIZEN:
            raise not_citizen
        if by_mobile is not None and by_mobile.national_id:
            raise mismatch
        try:
            with transaction.atomic():
                user = by_mobile or _citizen_create(mobile=mobile)
                citizen_national_id_set(user=user, national_id=national_id)
                audit_record(
                    action="citizen.registered" if by_mobile is None else "citizen.national_id_recorded",
                    actor=by,
                    subject=_user_subject(user),
                    data={"by_kind": by.kind if by is not None else ""},
                )
            return user
        except ProfileError as error:
            if error.code not in {"national_id_taken", "already_set"}:
                raise
    raise mismatch


def personal_data_export(*, user: User, address: str | None = None) -> dict:
    """The citizen's own account data as a JSON-ready dict (see selectors.citizen_personal_data);
    audited as personal_data.exported. Raises ProfileError not_citizen (403) for other accounts."""
    if user.kind != UserKind.CITIZEN:
        raise ProfileError(
            "not_citizen", _("Only citizen accounts can download their data here."), status=403
        )
    data = selectors.citizen_personal_data(user=user)
    audit_record(
        action="personal_data.exported",
        actor=user,
        subject=_user_subject(user),
        address=address,
        data={"fields": sorted(data["account"])},
    )
    return data


# --- Staff and office operators: password, then authenticator ----------------------------------


def _staff_failure(*, user: User, now: datetime, address, method: str, reason: str) -> None:
    """Count one failed attempt (password or authenticator) and lock the account when it reaches
    STAFF_LOCKOUT_FAILURES in a row. Both steps are single UPDATEs with F(), so parallel failures
    are all counted and exactly one of them starts the lockout."""
    User.objects.filter(pk=user.pk).update(failed_signins=F("failed_signins") + 1)
    audit_record(
        action="signin.failed",
        actor=user,
        actor_label=user.username,
        subject=_user_subject(user),
        address=address,
        data={"method": method, "reason": reason},
    )
    locked = User.objects.filter(pk=user.pk, failed_signins__gte=settings.STAFF_LOCKOUT_FAILURES).update(
        failed_signins=0, locked_until=now + timedelta(minutes=settings.STAFF_LOCKOUT_MINUTES)
    )
    if locked:
        audit_record(
            action="signin.locked",
            actor=user,
            actor_label=user.username,
            subject=_user_subject(user),
            address=address,
            data={"minutes": settings.STAFF_LOCKOUT_MINUTES},
        )


def _is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def staff_password_check(
    *, username: str, password: str, address: str | None, now: datetime | None = None
) -> User:
    """First step of a staff or operator sign-in: check username and password.

    Returns the user, who is *not* signed in yet: the caller keeps a half-signed-in marker and
    asks for the authenticator code (staff_totp_verify) or enrolment (staff_totp_enrol).
    Raises SignInError "credentials" (403) for every failure — unknown username, wrong password,
    citizen account, disabled or locked account — with one message, so the answer never tells
    whether the username exists. A wrong password counts towards the lockout."""
    now = _now(now)
    username = (username or "").strip()
    user = selectors.user_by_username(username=username)
    if user is None or user.kind not in STAFF_KINDS or not user.is_active or _is_locked(user, now):
        # Hash the password anyway so an unknown username answers as slowly as a known one.
        User().set_password(password)
        audit_record(
            action="signin.failed",
            actor=user,
            actor_label=username[:150],
            subject=_user_subject(user) if user else "",
            address=address,
            data={"method": "password", "reason": _password_refusal_reason(user, now)},
        )
        raise _staff_credentials_error()
    if not user.check_password(password):
        _staff_failure(user=user, now=now, address=address, method="password", reason="wrong_password")
        raise _staff_credentials_error()
    return user


def _password_refusal_reason(user, now) -> str:
    if user is None:
        return "unknown_username"
    if user.kind not in STAFF_KINDS:
        return "not_staff"
    if not user.is_active:
        return "disabled"
    return "locked"


def _totp_matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code equals `code`, within TOTP_VALID_WINDOW steps of `now`, or None.
    Every candidate is compared, in constant time, so timing does not tell which step matched."""
    totp = pyotp.TOTP(secret, interval=TOTP_INTERVAL_SECONDS)
    current = int(now.timestamp()) // TOTP_INTERVAL_SECONDS
    matched = None
    for step in range(current - TOTP_VALID_WINDOW, current + TOTP_VALID_WINDOW + 1):
        if constant_time_compare(totp.generate_otp(step), code):
            matched = step
    return matched


def _second_factor(*, user: User, code: str, now: datetime, address, method: str) -> None:
    """Shared by verify and confirm: check lockout, the code and replay, then record the step."""
    user.refresh_from_db(
        fields=["locked_until", "failed_signins", "totp_last_step", "totp_secret", "is_active"]
    )
    if not user.is_active:
        raise _staff_credentials_error()
    if _is_locked(user, now):
        audit_record(
            action="signin.failed",
            actor=user,
            subject=_user_subject(user),
            address=address,
            data={"method": method, "reason": "locked"},
        )
        raise _locked_error()
    typed = _normalize_code(code)
    step = _totp_matching_step(user.totp_secret, typed, now) if typed else None
    if step is None:
        _staff_failure(user=user, now=now, address=address, method=method, reason="wrong_code")
        raise SignInError(
            "totp_wrong",
            _(
                "This authenticator code is not correct. "
                "Check that your phone's clock is right and try again."
            ),
            status=403,
        )
    # Accept each time step once: a code seen over a shoulder or replayed from a captured request
    # is refused even inside its 30 seconds. The row count makes two parallel uses impossible.
    accepted = User.objects.filter(pk=user.pk, totp_last_step__lt=step).update(
        totp_last_step=step, failed_signins=0, locked_until=None
    )
    if not accepted:
        _staff_failure(user=user, now=now, address=address, method=method, reason="replayed_code")
        raise SignInError(
            "totp_replayed",
            _("This code has already been used. Wait for the next code in your authenticator app."),
            status=403,
        )
    user.totp_last_step, user.failed_signins, user.locked_until = step, 0, None


def staff_totp_verify(
    *, user: User, code: str, address: str | None = None, now: datetime | None = None
) -> User:
    """Second step of a staff sign-in: check the authenticator code of an enrolled account.

    TOTP, 30-second steps, one step of tolerance either side; each step is accepted once. A wrong
    or replayed code counts towards the lockout; success resets the failure count and audits
    signin.ok. Returns the user, ready for `login()`.
    Raises SignInError: not_enrolled (400), locked (429), totp_wrong, totp_replayed, credentials (403)."""
    now = _now(now)
    if not (user.totp_confirmed and user.totp_secret):
        raise SignInError("not_enrolled", _("This account has no authenticator yet; set one up first."))
    _second_factor(user=user, code=code, now=now, address=address, method="totp")
    User.objects.filter(pk=user.pk).update(last_login=now)
    audit_record(
        action="signin.ok",
        actor=user,
        subject=_user_subject(user),
        address=address,
        data={"method": "password+totp"},
    )
    return user


def staff_totp_check(
    *, user: User, code: str, purpose: str, address: str | None = None, now: datetime | None = None
) -> None:
    """Ask a signed-in staff member for a fresh authenticator code before an act that needs their
    explicit assent (`purpose`, e.g. "signature": signing a permit). The same checks, lockout
    counting and errors as staff_totp_verify — each time step is accepted once, so the code used
    to sign in, or to sign a moment before, is refused as replayed — but nobody is signed in and
    no sign-in is recorded; a refusal is audited as signin.failed with `purpose` as its method.
    Raises SignInError: not_enrolled (400), locked (429), totp_wrong, totp_replayed, credentials (403)."""
    now = _now(now)
    if not (user.totp_confirmed and user.totp_secret):
        raise SignInError("not_enrolled", _("This account has no authenticator yet; set one up first."))
    _second_factor(user=user, code=code, now=now, address=address, method=purpose)


def staff_totp_enrol(*, user: User) -> str:
    """Start (or resume) enrolment of an authenticator app; return the otpauth:// URI to show as a
    QR code. The secret is created once and kept until confirmed, so reloading the page does not
    invalidate a code the person already scanned.
    Raises SignInError already_enrolled (400) when an authenticator is confirmed: replacing it
    needs an administrator (staff_totp_reset)."""
    if user.totp_confirmed:
        raise SignInError("already_enrolled", _("An authenticator is already set up for this account."))
    if not user.totp_secret:
        secret = pyotp.random_base32()  # 32 base32 characters: 160 bits, as RFC 4226 recommends
        User.objects.filter(pk=user.pk, totp_confirmed=False, totp_secret="").update(totp_secret=secret)
        user.refresh_from_db(fields=["totp_secret"])
    return pyotp.TOTP(user.totp_secret, interval=TOTP_INTERVAL_SECONDS).provisioning_uri(
        name=user.username, issuer_name=settings.TOTP_ISSUER
    )


def staff_totp_confirm(
    *, user: User, code: str, address: str | None = None, now: datetime | None = None
) -> User:
    """Finish enrolment: a valid code from the new app confirms it and completes this sign-in.

    Same checks, lockout counting and errors as staff_totp_verify; audits totp.confirmed and
    signin.ok. Raises SignInError not_enrolling (400) without a pending secret."""
    now = _now(now)
    if user.totp_confirmed:
        raise SignInError("already_enrolled", _("An authenticator is already set up for this account."))
    if not user.totp_secret:
        raise SignInError("not_enrolling", _("Start the authenticator set-up again."))
    _second_factor(user=user, code=code, now=now, address=address, method="totp_enrol")
    User.objects.filter(pk=user.pk).update(totp_confirmed=True, last_login=now)
    user.totp_confirmed = True
    audit_record(action="totp.confirmed", actor=user, subject=_user_subject(user), address=address)
    audit_record(
        action="signin.ok",
        actor=user,
        subject=_user_subject(user),
        address=address,
        data={"method": "password+totp"},
    )
    return user


def staff_totp_reset(*, user: User, by: User) -> None:
    """Remove an account's authenticator (lost phone); the next sign-in enrols a new one.
    Audited totp.reset."""
    User.objects.filter(pk=user.pk).update(totp_secret="", totp_confirmed=False, totp_last_step=0)
    user.totp_secret, user.totp_confirmed, user.totp_last_step = "", False, 0
    audit_record(action="totp.reset", actor=by, subject=_user_subject(user))


def staff_unlock(*, user: User, by: User) -> None:
    """Lift a sign-in lockout before it ends. Audited signin.unlocked."""
    User.objects.filter(pk=user.pk).update(failed_signins=0, locked_until=None)
    user.failed_signins, user.locked_until = 0, None
    audit_record(action="signin.unlocked", actor=by, subject=_user_subject(user))


# --- Roles ------------------------------------------------------------------------------------


def _binding_data(*, binding: RoleBinding) -> dict:
    return {
        "binding": binding.pk,
        "user": binding.user_id,
        "role": binding.role.code,
        "district": binding.district.code if binding.district_id else None,
        "department": binding.department.code if binding.department_id else None,
    }


def role_grant(
    *,
    user: User,
    role: Role,
    district: District | None = None,
    department: Department | None = None,
    by: User | None,
) -> RoleBinding:
    """Bind `user` to `role` in `district` (None: city-wide), optionally within `department`.
    Audited role.granted, with `by` as the actor.
    Raises RoleError: citizen (400, citizens hold no roles), duplicate (400)."""
    if user.kind == UserKind.CITIZEN:
        raise RoleError("citizen", _("Citizen accounts cannot hold staff roles."))
    try:
        with transaction.atomic():
            binding = RoleBinding.objects.create(
                user=user, role=role, district=district, department=department
            )
            audit_record(
                action="role.granted",
                actor=by,
                subject=_user_subject(user),
                data=_binding_data(binding=binding),
            )
    except IntegrityError:
        raise RoleError("duplicate", _("This person already holds this role in this district.")) from None
    return binding


def role_revoke(*, binding: RoleBinding, by: User | None) -> None:
    """Remove a role binding. Audited role.revoked, with `by` as the actor."""
    with transaction.atomic():
        data = _binding_data(binding=binding)
        subject = f"user:{binding.user_id}"
        RoleBinding.objects.filter(pk=binding.pk).delete()
        audit_record(action="role.revoked", actor=by, subject=subject, data=data)


def national_id_read_record(*, reader: User, citizen: User, address: str | None = None) -> None:
    """Record that a staff member was shown a citizen's national ID (audit national_id.read)."""
    audit_record(action="national_id.read", actor=reader, subject=_user_subject(citizen), address=address)
