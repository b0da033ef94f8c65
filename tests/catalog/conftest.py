import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english():
    """These tests read the validator's and the command line's messages in English, their msgids;
    since the catalog app has a Persian catalogue, the site's default language would translate them."""
    with translation.override("en"):
        yield
