"""Helpers for the people and sign-in tests: SMS codes read back from the file provider, small
account factories, and a fixed moment to pass as `now=`."""

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from django.db import connection

from pishkhan.accounts.models import User, UserKind
from pishkhan.accounts.sms.contrib.file.plugin import read_messages

STAFF_PASSWORD = "correct-horse-battery-staple"
# A fixed instant (2025-03-21 08:30 UTC, Nowruz 1404) for tests that pass `now=`.
T0 = datetime(2025, 3, 21, 8, 30, tzinfo=UTC)

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason=(
        "needs PostgreSQL: SQLite serialises every writing transaction (IMMEDIATE mode), so parallel "
        "threads cannot interleave and the race under test cannot happen there"
    ),
)


def sms_codes(mobile: str) -> list[str]:
    """The sign-in codes sent to `mobile`, oldest first, read from the SMS file."""
    return [re.search(r"\b(\d{6})\b", m["text"]).group(1) for m in read_messages() if m["to"] == mobile]


def last_sms_code(mobile: str) -> str:
    return sms_codes(mobile)[-1]


def make_staff(username="clerk01", *, kind=UserKind.STAFF, enrolled=True, mobile=None, **extra) -> User:
    user = User(username=username, kind=kind, mobile=mobile, **extra)
    user.set_password(STAFF_PASSWORD)
    if enrolled:
        user.totp_secret = pyotp.random_base32()
        user.totp_confirmed = True
    user.save()
    return user


def make_citizen(mobile="09121234567", national_id=None) -> User:
    user = User(username=f"citizen-{mobile}", kind=UserKind.CITIZEN, mobile=mobile, national_id=national_id)
    user.set_unusable_password()
    user.save()
    return user


def totp_code(user: User, at: datetime, *, steps: int = 0) -> str:
    """The authenticator code of `user` at `at`, `steps` 30-second steps later."""
    return pyotp.TOTP(user.totp_secret).at(at + timedelta(seconds=30 * steps))


def english(client):
    """Switch the test client to English, as the language menu does."""
    client.cookies["django_language"] = "en"
    return client
