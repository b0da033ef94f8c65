"""Fixtures the application-form tests share (a module's own fixture of the same name wins)."""

import pytest

from tests.cases.factories import make_citizen, make_district, make_office, make_operator


@pytest.fixture
def district():
    return make_district()


@pytest.fixture
def citizen():
    return make_citizen()


@pytest.fixture
def signed_in(client, citizen):
    """The client, signed in as `citizen`, reading English pages."""
    client.cookies["django_language"] = "en"
    client.force_login(citizen)
    return client


@pytest.fixture
def counter(client, settings):
    """The client, signed in as an operator of an active office: (client, office, operator)."""
    settings.SMS_PROVIDER = "file"
    office = make_office(district=make_district())
    operator = make_operator(office=office)
    client.cookies["django_language"] = "en"
    client.force_login(operator)
    return client, office, operator
