import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import translation

from pishkhan.cases.services import case_advance, case_payment_confirmed
from tests.cases.factories import (
    SMALL_FEE,
    T0,
    make_district,
    make_office,
    make_operator,
    make_staff,
    publish_definition,
    small_process,
    submit_case,
)

HOUR = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _english():
    """Messages are read in English (their msgids) unless a test switches language itself."""
    with translation.override("en"):
        yield


@pytest.fixture
def world(db):
    """A district with a clerk and an inspector, the small process, and an office with an operator."""
    district = make_district()
    office = make_office(district=district)
    return SimpleNamespace(
        district=district,
        clerk=make_staff(role="clerk", district=district),
        inspector=make_staff(role="inspector", district=district),
        service=publish_definition(small_process()),
        office=office,
        operator=make_operator(office=office),
    )


def file_case(world, *, now=T0, office=None, operator=None):
    """A case filed through the office (by its operator) at `now`."""
    return submit_case(
        service=world.service,
        district=world.district,
        channel="office",
        filed_by=operator or world.operator,
        office=office or world.office,
        now=now,
    )


def return_case(world, case, *, now):
    case_advance(
        case=case,
        step_id="review",
        outcome="return",
        actor=world.clerk,
        request={"missing": [], "message": "The deed scan is unreadable.", "due_days": 5},
        now=now,
    )


def pay_case(world, case, *, now, reference):
    """Move the case through the checks and pay its fee (SMALL_FEE) at `now`."""
    case_advance(case=case, step_id="review", outcome="approve", actor=world.clerk, now=now - 3 * HOUR)
    case_advance(case=case, step_id="inspect", outcome="done", actor=world.inspector, now=now - 2 * HOUR)
    case_advance(case=case, step_id="tech_review", outcome="approve", actor=world.clerk, now=now - HOUR)
    return case_payment_confirmed(case=case, step_id="pay", amount=SMALL_FEE, reference=reference, now=now)
