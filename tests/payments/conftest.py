from types import SimpleNamespace

import pytest
from django.utils import translation

from pishkhan.cases.services import case_advance
from tests.cases.factories import make_district, make_staff, publish_definition, small_process, submit_case


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _sandbox(settings):
    settings.PAYMENT_GATEWAY = "sandbox"


@pytest.fixture
def world(db):
    """A district with a clerk and an inspector, and the small process published."""
    district = make_district()
    return SimpleNamespace(
        district=district,
        clerk=make_staff(role="clerk", district=district),
        inspector=make_staff(role="inspector", district=district),
        service=publish_definition(small_process()),
    )


@pytest.fixture
def case_at_pay(world):
    """A citizen's case whose checks are done: it waits for the payment of step `pay`."""
    case = submit_case(service=world.service, district=world.district)
    case_advance(case=case, step_id="review", outcome="approve", actor=world.clerk)
    case_advance(case=case, step_id="inspect", outcome="done", actor=world.inspector)
    case_advance(case=case, step_id="tech_review", outcome="approve", actor=world.clerk)
    case.refresh_from_db()
    return case
