import pytest


@pytest.fixture(autouse=True)
def _messages_to_files(settings):
    """SMS and email go to the per-test files (tests/conftest.py), where tests read them."""
    settings.SMS_PROVIDER = "file"
    settings.EMAIL_PROVIDER = "file"
