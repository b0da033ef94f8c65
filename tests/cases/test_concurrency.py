"""Races between real transactions, each thread on its own database connection. SQLite serialises
every writing transaction, so these only mean something on PostgreSQL."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from pishkhan.cases.events import case_chains_verify
from pishkhan.cases.models import Case, CaseEvent, SubmissionKey
from pishkhan.cases.services import CaseError, case_advance, case_claim
from tests.cases.factories import (
    make_citizen,
    make_district,
    make_staff,
    publish_definition,
    small_process,
    submit_case,
)

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason=(
            "needs PostgreSQL: SQLite serialises every writing transaction, so parallel threads cannot "
            "interleave and the race under test cannot happen there"
        ),
    ),
    pytest.mark.django_db(transaction=True),
]


def race(*calls):
    """Run the calls at the same instant, each in its own thread and connection; return what each
    returned or raised."""
    start = threading.Barrier(len(calls), timeout=30)

    def run(call):
        try:
            start.wait()
            return call()
        except Exception as error:  # the race's loser raises; that is the result we look at
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.fixture
def scene():
    district = make_district()
    service = publish_definition(small_process())
    return district, service


def test_two_clerks_acting_on_the_same_step_at_once_cannot_both_win(scene):
    district, service = scene
    first, second = make_staff(role="clerk", district=district), make_staff(role="clerk", district=district)
    case = submit_case(service=service, district=district)

    results = race(
        lambda: case_advance(
            case=Case.objects.get(pk=case.pk), step_id="review", outcome="approve", actor=first
        ),
        lambda: case_advance(
            case=Case.objects.get(pk=case.pk), step_id="review", outcome="approve", actor=second
        ),
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], CaseError) and errors[0].code == "stale"
    assert CaseEvent.objects.filter(case=case, activity="completed", step_id="review").count() == 1
    assert case_chains_verify() == []


def test_two_clerks_claiming_the_same_step_at_once_leave_one_holder(scene):
    district, service = scene
    first, second = make_staff(role="clerk", district=district), make_staff(role="clerk", district=district)
    case = submit_case(service=service, district=district)
    position = case.positions.get()
    results = race(
        lambda: case_claim(position=position, actor=first),
        lambda: case_claim(position=position, actor=second),
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and errors[0].code == "claimed"
    assert CaseEvent.objects.filter(case=case, activity="claimed").count() == 1


def test_concurrent_submissions_with_the_same_key_make_one_case(scene):
    district, service = scene
    citizen = make_citizen()

    def submit():
        return submit_case(
            service=service, applicant=citizen, district=district, idempotency_key="double-click"
        )

    results = race(submit, submit, submit)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({case.pk for case in results}) == 1
    assert Case.objects.count() == 1 and SubmissionKey.objects.count() == 1
    assert CaseEvent.objects.filter(activity="submitted").count() == 1
