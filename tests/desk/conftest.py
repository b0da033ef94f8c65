import pytest

from tests.portal.factories import make_clerk, make_owner, publish_kiosk


@pytest.fixture
def owner(db):
    return make_owner()


@pytest.fixture
def clerk(db):
    return make_clerk()


@pytest.fixture
def kiosk(owner):
    """The kiosk permit, version 1, published by the owner."""
    return publish_kiosk(owner)


@pytest.fixture
def english(client):
    client.cookies["django_language"] = "en"
    return client
