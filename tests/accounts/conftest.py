import pytest


@pytest.fixture(autouse=True)
def _sms_to_file(settings):
    """Text messages go to the per-test SMS file (tests/conftest.py), where tests read the codes."""
    settings.SMS_PROVIDER = "file"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 at production strength costs a quarter of a second per password; these tests are
    about the sign-in rules, not the hash."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
