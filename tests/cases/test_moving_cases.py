import datetime as dt

import pytest
from django.db import transaction

from pishkhan.cases.events import case_chains_verify
from pishkhan.cases.models import CaseDocument, CaseEvent, CaseStatus, Position, PositionState, StoredFile
from pishkhan.cases.services import (
    CaseError,
    case_advance,
    case_answer,
    case_claim,
    case_payment_confirmed,
    case_reassign,
    case_release,
    case_withdraw,
)
from pishkhan.core.calendar import local_date, working_calendar
from tests.cases.factories import (
    SMALL_FEE,
    T0,
    make_citizen,
    make_district,
    make_operator,
    make_staff,
    publish_definition,
    small_process,
    submit_case,
)

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def open_steps(case):
    return dict(case.positions.values_list("step_id", "state"))


def activities(case):
    return list(case.events.order_by("seq").values_list("activity", "step_id", "outcome"))


def through_checks(case, world, now=T0):
    case_advance(case=case, step_id="review", outcome="approve", actor=world.clerk, now=now + HOUR)
    case_advance(case=case, step_id="inspect", outcome="done", actor=world.inspector, now=now + 2 * HOUR)
    case_advance(case=case, step_id="tech_review", outcome="approve", actor=world.clerk, now=now + 3 * HOUR)


def refused(code, call, **kwargs) -> CaseError:
    with pytest.raises(CaseError) as error:
        call(**kwargs)
    assert error.value.code == code, error.value.message
    return error.value


def test_a_case_runs_through_review_parallel_checks_payment_and_issue_to_approval(
    world, issued, django_capture_on_commit_callbacks
):
    case = submit_case(service=world.service, district=world.district, now=T0)
    assert open_steps(case) == {"review": PositionState.QUEUED}

    case_advance(case=case, step_id="review", outcome="approve", actor=world.clerk, now=T0 + HOUR)
    assert open_steps(case) == {
        "checks_done": PositionState.WAITING_JOIN,
        "inspect": PositionState.QUEUED,
        "tech_review": PositionState.QUEUED,
    }
    branches = dict(case.positions.values_list("step_id", "branch_of"))
    assert branches == {"checks_done": "", "inspect": "checks", "tech_review": "checks"}

    case_advance(case=case, step_id="inspect", outcome="done", actor=world.inspector, now=T0 + 2 * HOUR)
    assert case.positions.get(step_id="checks_done").arrivals == 1
    case_advance(case=case, step_id="tech_review", outcome="approve", actor=world.clerk, now=T0 + 3 * HOUR)
    assert open_steps(case) == {"pay": PositionState.WITH_CITIZEN}
    assert case.status == CaseStatus.WITH_CITIZEN and case.suspended_since == T0 + 3 * HOUR

    with django_capture_on_commit_callbacks(execute=True):
        case_payment_confirmed(
            case=case, step_id="pay", amount=SMALL_FEE, reference="SHP-1", now=T0 + 4 * HOUR
        )
    case.refresh_from_db()

    assert issued == [(case.pk, "permit")]
    assert case.status == CaseStatus.APPROVED and case.closed_at is not None
    assert open_steps(case) == {}
    assert activities(case) == [
        ("submitted", "", ""),
        ("completed", "review", "approve"),
        ("completed", "inspect", "done"),
        ("completed", "tech_review", "approve"),
        ("paid", "pay", "done"),
        ("completed", "issue", "done"),
        ("ended", "issued", "approved"),
    ]
    fork_event = case.events.get(seq=2)
    assert fork_event.data == {"entered": ["checks", "inspect", "tech_review"], "left": ["review"]}
    join_event = case.events.get(seq=4)
    assert join_event.data == {"entered": ["checks_done", "pay"], "left": ["tech_review", "checks_done"]}
    assert case.events.get(activity="completed", step_id="issue").data["issued"] == "TEST-1"
    assert case_chains_verify() == []


def test_the_event_records_who_did_what_as_which_role_and_when_the_step_was_queued_and_started(world):
    case = submit_case(service=world.service, district=world.district, now=T0)
    case_claim(position=case.positions.get(step_id="review"), actor=world.clerk, now=T0 + HOUR)
    event = case_advance(
        case=case,
        step_id="review",
        outcome="approve",
        actor=world.clerk,
        reason="all in order",
        now=T0 + 2 * HOUR,
    )
    assert (event.activity, event.step_id, event.outcome) == ("completed", "review", "approve")
    assert (event.actor, event.actor_role, event.district) == (world.clerk, "clerk", world.district)
    assert (event.assigned_at, event.started_at, event.completed_at) == (T0, T0 + HOUR, T0 + 2 * HOUR)
    assert event.reason == "all in order" and event.office is None


def test_an_operator_acting_on_a_citizen_step_is_recorded_with_their_office(world):
    process = small_process(code="sign-undertaking")
    process["steps"][0]["outcomes"][0]["to"] = "undertaking"
    process["steps"].insert(
        1,
        {
            "id": "undertaking",
            "title": {"fa": "امضای تعهدنامه", "en": "Sign the undertaking"},
            "role": "clerk",
            "kind": "citizen",
            "deadline_days": 5,
            "legal_basis": {"law": "آیین‌نامه آزمایشی"},
            "outcomes": [{"outcome": "done", "to": "checks"}],
        },
    )
    service = publish_definition(process)
    operator = make_operator(office=None)
    office = operator.office_operator.office
    case = submit_case(
        service=service, district=world.district, channel="office", filed_by=operator, office=office
    )
    case_advance(case=case, step_id="review", outcome="approve", actor=world.clerk)
    assert open_steps(case) == {"undertaking": PositionState.WITH_CITIZEN}
    refused("forbidden", case_advance, case=case, step_id="undertaking", outcome="done", actor=world.clerk)
    event = case_advance(case=case, step_id="undertaking", outcome="done", actor=operator)
    assert event.office == office


def test_a_return_stops_the_clock_and_the_answer_restarts_it_moving_the_deadline_by_the_days_waited(world):
    case = submit_case(service=world.service, district=world.district, now=T0)
    deadline_before = case.due_at
    returned_at = T0 + HOUR  # Saturday
    event = case_advance(
        case=case,
        step_id="review",
        outcome="return",
        actor=world.clerk,
        request={"missing": [], "message": "The deed scan is unreadable.", "due_days": 5},
        now=returned_at,
    )
    assert event.activity == "returned" and event.reason == "The deed scan is unreadable."
    case.refresh_from_db()
    assert case.status == CaseStatus.WITH_CITIZEN and case.suspended_since == returned_at
    position = case.positions.get(step_id="review")
    assert position.state == PositionState.WITH_CITIZEN
    assert position.request["message"] == "The deed scan is unreadable." and position.request["due_days"] == 5
    calendar = working_calendar()
    assert position.due_at == calendar.deadline_for(started_at=returned_at, working_days=5)

    # The clerk cannot act on it while it is with the applicant.
    refused("with_citizen", case_advance, case=case, step_id="review", outcome="approve", actor=world.clerk)

    answered_at = T0 + 9 * DAY  # Monday week: Sunday to Thursday, then Saturday to Monday
    waited = calendar.working_days_between(local_date(returned_at), local_date(answered_at))
    assert waited == 8
    event = case_answer(case=case, actor=case.applicant, message="Scanned again.", now=answered_at)
    assert event.activity == "answered" and event.reason == "Scanned again."
    assert event.data == {"steps": ["review"], "suspended_working_days": 8}
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and case.suspended_since is None and case.suspended_days == 8
    assert calendar.working_days_between(local_date(deadline_before), local_date(case.due_at)) == 8
    position.refresh_from_db()
    assert position.state == PositionState.QUEUED and position.request == {}
    assert position.assigned_at == answered_at


def test_a_correction_asking_for_documents_is_answered_only_once_they_are_uploaded(world):
    case = submit_case(service=world.service, district=world.district, now=T0)
    case_advance(
        case=case,
        step_id="review",
        outcome="return",
        actor=world.clerk,
        request={"missing": ["deed"], "message": "Upload the deed.", "due_days": 3},
        now=T0,
    )
    error = refused("documents_missing", case_answer, case=case, actor=case.applicant, now=T0 + DAY)
    assert list(error.field_errors) == ["deed"] and error.status == 400
    stored = StoredFile.objects.create(
        sha256="a" * 64, size=1, content_type="application/pdf", storage_name="x"
    )
    CaseDocument.objects.create(
        case=case, document_type="deed", file=stored, original_name="deed.pdf", uploaded_by=case.applicant
    )
    case_answer(case=case, actor=case.applicant, now=T0 + DAY)
    assert open_steps(case) == {"review": PositionState.QUEUED}


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (None, "message"),
        ({"missing": ["passport"], "message": "x", "due_days": 3}, "missing"),
        ({"missing": [], "message": "  ", "due_days": 3}, "message"),
        ({"missing": [], "message": "x", "due_days": 0}, "due_days"),
    ],
)
def test_a_return_needs_a_complete_request(world, request_, field):
    case = submit_case(service=world.service, district=world.district)
    error = refused(
        "invalid_request",
        case_advance,
        case=case,
        step_id="review",
        outcome="return",
        actor=world.clerk,
        request=request_,
    )
    assert field in error.field_errors
    assert case.events.count() == 1 and open_steps(case) == {"review": PositionState.QUEUED}


def test_only_the_applicant_or_their_office_answers(world):
    case = submit_case(service=world.service, district=world.district)
    refused("nothing_to_answer", case_answer, case=case, actor=case.applicant)
    case_advance(
        case=case,
        step_id="review",
        outcome="return",
        actor=world.clerk,
        request={"message": "Sign the form.", "due_days": 2},
    )
    refused("forbidden", case_answer, case=case, actor=make_citizen())
    refused("forbidden", case_answer, case=case, actor=world.clerk)


def test_an_unknown_outcome_is_refused_listing_the_allowed_ones_and_changes_nothing(world):
    case = submit_case(service=world.service, district=world.district)
    error = refused(
        "unknown_outcome", case_advance, case=case, step_id="review", outcome="done", actor=world.clerk
    )
    assert error.status == 400
    assert "approve, return, reject" in error.message
    assert case.events.count() == 1 and open_steps(case) == {"review": PositionState.QUEUED}


def test_a_step_of_another_case_is_refused(world):
    case = submit_case(service=world.service, district=world.district)
    other = publish_definition(
        small_process(
            code="other-permit",
            start="other_step",
            steps=[
                {
                    "id": "other_step",
                    "title": {"fa": "دیگر"},
                    "role": "clerk",
                    "kind": "review",
                    "deadline_days": 1,
                    "legal_basis": {"law": "قانون"},
                    "outcomes": [{"outcome": "approve", "to": "done_end"}],
                },
                {"id": "done_end", "kind": "end", "result": "approved"},
            ],
            fees=[],
            documents=[],
            outputs=[],
        )
    )
    other_case = submit_case(service=other, district=world.district)
    error = refused(
        "unknown_step", case_advance, case=case, step_id="other_step", outcome="approve", actor=world.clerk
    )
    assert error.status == 404
    # A step both define but that is open only in the other case: stale for this one.
    case_advance(case=case, step_id="review", outcome="approve", actor=world.clerk)
    second = submit_case(service=world.service, district=world.district)
    error = refused("stale", case_advance, case=case, step_id="review", outcome="approve", actor=world.clerk)
    assert error.status == 409
    assert open_steps(second) == {"review": PositionState.QUEUED} and open_steps(other_case) == {
        "other_step": PositionState.QUEUED
    }


def test_acting_twice_on_the_same_step_is_refused_as_stale_and_leaves_one_event(world):
    case = submit_case(service=world.service, district=world.district)
    page = type(case).objects.get(pk=case.pk)  # what a second browser tab loaded earlier
    case_advance(case=case, step_id="review", outcome="approve", actor=world.clerk)
    error = refused("stale", case_advance, case=page, step_id="review", outcome="approve", actor=world.clerk)
    assert error.status == 409 and "already done" in error.message
    assert case.events.filter(activity="completed", step_id="review").count() == 1


def test_a_claimed_step_cannot_be_acted_on_by_another_clerk(world):
    other_clerk = make_staff(role="clerk", district=world.district)
    case = submit_case(service=world.service, district=world.district)
    position = case.positions.get(step_id="review")
    claim = case_claim(position=position, actor=world.clerk)
    assert claim.activity == "claimed"
    assert case_claim(position=position, actor=world.clerk) == claim  # a double click changes nothing
    refused("claimed", case_claim, position=position, actor=other_clerk)
    refused("claimed", case_advance, case=case, step_id="review", outcome="approve", actor=other_clerk)
    refused("forbidden", case_release, position=position, actor=other_clerk)
    case_release(position=position, actor=world.clerk)
    position.refresh_from_db()
    assert position.state == PositionState.QUEUED and position.assignee is None
    case_advance(case=case, step_id="review", outcome="approve", actor=other_clerk)
    assert [a for a, _s, _o in activities(case)] == ["submitted", "claimed", "released", "completed"]


def test_staff_without_the_role_in_the_district_cannot_act(world):
    case = submit_case(service=world.service, district=world.district)
    elsewhere = make_staff(role="clerk", district=make_district())
    refused("forbidden", case_advance, case=case, step_id="review", outcome="approve", actor=world.inspector)
    refused("forbidden", case_advance, case=case, step_id="review", outcome="approve", actor=elsewhere)
    refused("forbidden", case_claim, position=case.positions.get(), actor=elsewhere)
    city_wide = make_staff(role="clerk", district=None)
    case_advance(case=case, step_id="review", outcome="approve", actor=city_wide)


def test_only_a_manager_of_the_district_reassigns_and_says_why(world):
    colleague = make_staff(role="clerk", district=world.district)
    case = submit_case(service=world.service, district=world.district)
    position = case.positions.get(step_id="review")
    case_claim(position=position, actor=world.clerk)

    refused("forbidden", case_reassign, position=position, to=colleague, by=world.clerk, reason="leave")
    manager_elsewhere = make_staff(role="manager", district=make_district())
    refused("forbidden", case_reassign, position=position, to=colleague, by=manager_elsewhere, reason="leave")
    refused("reason_required", case_reassign, position=position, to=colleague, by=world.manager, reason=" ")
    refused(
        "not_eligible", case_reassign, position=position, to=world.inspector, by=world.manager, reason="leave"
    )

    event = case_reassign(position=position, to=colleague, by=world.manager, reason="on leave")
    assert (event.activity, event.reason, event.actor_role) == ("reassigned", "on leave", "manager")
    assert event.data == {"from": world.clerk.pk, "to": colleague.pk}
    position.refresh_from_db()
    assert position.assignee == colleague and position.state == PositionState.CLAIMED
    refused("claimed", case_advance, case=case, step_id="review", outcome="approve", actor=world.clerk)
    case_advance(case=case, step_id="review", outcome="approve", actor=colleague)


def test_reject_needs_a_reason_and_ends_the_case(world, notified):
    case = submit_case(service=world.service, district=world.district)
    refused("reason_required", case_advance, case=case, step_id="review", outcome="reject", actor=world.clerk)
    case_advance(case=case, step_id="review", outcome="reject", actor=world.clerk, reason="Not the owner.")
    assert case.status == CaseStatus.REJECTED and open_steps(case) == {}
    assert activities(case)[-2:] == [("completed", "review", "reject"), ("ended", "rejected", "rejected")]
    assert notified == [(case.pk, "submitted"), (case.pk, "ended")]
    refused("closed", case_advance, case=case, step_id="review", outcome="approve", actor=world.clerk)


def test_the_applicant_withdraws_an_open_case_and_nobody_else_can(world):
    operator = make_operator()
    case = submit_case(service=world.service, district=world.district)
    case_advance(case=case, step_id="review", outcome="approve", actor=world.clerk)
    refused("forbidden", case_withdraw, case=case, actor=world.clerk)
    refused("forbidden", case_withdraw, case=case, actor=operator)
    refused("forbidden", case_withdraw, case=case, actor=make_citizen())
    event = case_withdraw(case=case, actor=case.applicant, reason="Changed my mind.")
    assert event.activity == "withdrawn" and event.reason == "Changed my mind."
    assert case.status == CaseStatus.WITHDRAWN and case.closed_at is not None
    assert open_steps(case) == {}
    assert set(event.data["left"]) == {"inspect", "tech_review", "checks_done"}
    refused("closed", case_withdraw, case=case, actor=case.applicant)


def test_the_filing_office_may_withdraw_for_the_applicant(world):
    operator = make_operator()
    office = operator.office_operator.office
    case = submit_case(service=world.service, district=world.district, channel="office", filed_by=operator)
    assert case.office == office
    case_withdraw(case=case, actor=operator)
    assert case.status == CaseStatus.WITHDRAWN


def test_a_payment_must_be_the_fee_due_and_its_reference_new(world):
    case = submit_case(service=world.service, district=world.district, answers={"area_m2": 12.5})
    through_checks(case, world)
    due = 500_000 + 1_250_000
    error = refused(
        "amount_mismatch", case_payment_confirmed, case=case, step_id="pay", amount=due - 1, reference="R"
    )
    assert error.status == 400
    refused("not_payment", case_payment_confirmed, case=case, step_id="review", amount=due, reference="R")
    refused("invalid_reference", case_payment_confirmed, case=case, step_id="pay", amount=due, reference=" ")
    with transaction.atomic():
        event = case_payment_confirmed(case=case, step_id="pay", amount=due, reference="SHP-77")
    assert event.activity == "paid" and event.actor is None
    assert event.data["amount"] == due and event.data["reference"] == "SHP-77"

    another = submit_case(service=world.service, district=world.district)
    through_checks(another, world)
    refused(
        "reference_reused",
        case_payment_confirmed,
        case=another,
        step_id="pay",
        amount=SMALL_FEE,
        reference="SHP-77",
    )
    refused("payment_pending", case_advance, case=another, step_id="pay", outcome="done", actor=world.clerk)


def test_automatic_steps_run_after_commit_and_only_once(world, issued, django_capture_on_commit_callbacks):
    case = submit_case(service=world.service, district=world.district)
    through_checks(case, world)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case_payment_confirmed(case=case, step_id="pay", amount=SMALL_FEE, reference="R-1")
    # Not run inside the transaction: the step waits as `automatic` until the commit.
    assert issued == [] and open_steps(case) == {"issue": PositionState.AUTOMATIC}
    assert len(callbacks) == 1
    callbacks[0]()
    callbacks[0]()  # a second delivery of the task finds nothing to do
    assert issued == [(case.pk, "permit")]
    assert case.events.filter(step_id="issue").count() == 1
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED


@pytest.mark.db_tasks
def test_with_the_queue_in_the_database_a_step_and_its_task_commit_together(
    world, issued, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    from pishkhan.cases.services import case_run_automatic

    case = submit_case(service=world.service, district=world.district)
    through_checks(case, world)
    # The request fails after the payment step moved on: neither the step nor its task remains.
    with pytest.raises(RuntimeError), transaction.atomic():
        case_payment_confirmed(case=case, step_id="pay", amount=SMALL_FEE, reference="R-3")
        assert DBTaskResult.objects.count() == 1
        raise RuntimeError("the request broke after the step")
    assert not DBTaskResult.objects.exists()
    case.refresh_from_db()
    assert set(open_steps(case)) == {"pay"}
    # Committed, the task is in the queue already: nothing waits for an after-commit hook.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case_payment_confirmed(case=case, step_id="pay", amount=SMALL_FEE, reference="R-4")
    assert callbacks == []
    task = DBTaskResult.objects.get()
    assert task.task_path.endswith("case_run_automatic")
    assert task.args_kwargs["kwargs"] == {"case_id": case.pk, "step_id": "issue"}
    assert open_steps(case) == {"issue": PositionState.AUTOMATIC} and issued == []
    case_run_automatic(case_id=case.pk, step_id="issue")  # what the worker runs
    assert issued == [(case.pk, "permit")]


def test_a_failing_automatic_step_leaves_the_case_waiting_for_a_retry(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    from pishkhan.cases import issuing
    from pishkhan.cases.services import case_run_automatic

    def broken(**kwargs):
        raise RuntimeError("PDF renderer down")

    monkeypatch.setattr(issuing, "document_issue", broken)
    case = submit_case(service=world.service, district=world.district)
    through_checks(case, world)
    with django_capture_on_commit_callbacks(execute=True):
        case_payment_confirmed(case=case, step_id="pay", amount=SMALL_FEE, reference="R-2")
    assert open_steps(case) == {"issue": PositionState.AUTOMATIC}
    with pytest.raises(RuntimeError):
        case_run_automatic(case_id=case.pk, step_id="issue")
    monkeypatch.setattr(issuing, "document_issue", lambda **kwargs: None)
    assert case_run_automatic(case_id=case.pk, step_id="issue").outcome == "done"


def test_a_condition_on_an_outcome_routes_by_the_answers(world):
    process = small_process(code="routed-permit")
    process["steps"][0]["outcomes"] = [
        {"outcome": "approve", "to": "checks", "when": "area_m2 > 100"},
        {"outcome": "approve", "to": "pay"},
        {"outcome": "reject", "to": "rejected"},
    ]
    service = publish_definition(process)
    small = submit_case(service=service, district=world.district, answers={"area_m2": 20})
    large = submit_case(service=service, district=world.district, answers={"area_m2": 200})
    case_advance(case=small, step_id="review", outcome="approve", actor=world.clerk)
    case_advance(case=large, step_id="review", outcome="approve", actor=world.clerk)
    assert set(open_steps(small)) == {"pay"}
    assert set(open_steps(large)) == {"inspect", "tech_review", "checks_done"}


def test_the_positions_follow_the_district_variant(world):
    from pishkhan.catalog.selectors import version_current
    from pishkhan.catalog.services import variant_set

    variant_district = make_district()
    variant_set(
        version=version_current(world.service),
        district=variant_district,
        patch={
            "change_steps": {"tech_review": {"outcomes": [{"outcome": "approve", "to": "deputy"}]}},
            "add_steps": [
                {
                    "id": "deputy",
                    "title": {"fa": "امضای معاون", "en": "Deputy's signature"},
                    "role": "signatory",
                    "kind": "signature",
                    "deadline_days": 2,
                    "discretionary": True,
                    "outcomes": [{"outcome": "approve", "to": "checks_done"}],
                }
            ],
        },
        by=None,
    )
    case = submit_case(service=world.service, district=variant_district)
    assert case.variant is not None and case.variant.district == variant_district
    clerk_there = make_staff(role="clerk", district=variant_district)
    case_advance(case=case, step_id="review", outcome="approve", actor=clerk_there)
    case_advance(case=case, step_id="tech_review", outcome="approve", actor=clerk_there)
    assert open_steps(case)["deputy"] == PositionState.QUEUED
    standard = submit_case(service=world.service, district=world.district)
    assert standard.variant is None


def test_every_position_sits_in_its_steps_role_queue_in_the_cases_district(world):
    case = submit_case(service=world.service, district=world.district, now=T0)
    case_advance(case=case, step_id="review", outcome="approve", actor=world.clerk, now=T0)
    rows = {p.step_id: (p.role, p.district_id) for p in Position.objects.filter(case=case)}
    assert rows["inspect"] == ("inspector", world.district.pk)
    assert rows["tech_review"] == ("clerk", world.district.pk)
    assert CaseEvent.objects.filter(case=case).count() == 2


def test_the_tests_run_tasks_through_the_immediate_backend():
    # django-tasks drops its cached backends on setting_changed, so conftest's override holds.
    from django_tasks import task_backends
    from django_tasks.backends.immediate import ImmediateBackend

    assert isinstance(task_backends["default"], ImmediateBackend)


def test_a_wrong_payment_amount_is_refused_with_both_amounts_in_persian_digits(world):
    from django.utils import translation

    case = submit_case(service=world.service, district=world.district, answers={"area_m2": 12.5})
    through_checks(case, world)
    with translation.override("fa"):
        error = refused(
            "amount_mismatch",
            case_payment_confirmed,
            case=case,
            step_id="pay",
            amount=1_000_000,
            reference="R",
        )
    assert "۱٬۰۰۰٬۰۰۰" in error.message and "۱٬۷۵۰٬۰۰۰" in error.message


def test_a_numeric_bank_reference_is_refused_the_second_time(world):
    # Bank references are digits; the check reads them back out of the events' JSON, where a
    # database could hand back a number rather than the text that was stored.
    first = submit_case(service=world.service, district=world.district)
    through_checks(first, world)
    with transaction.atomic():
        case_payment_confirmed(case=first, step_id="pay", amount=SMALL_FEE, reference="12345678901234")
    second = submit_case(service=world.service, district=world.district)
    through_checks(second, world)
    refused(
        "reference_reused",
        case_payment_confirmed,
        case=second,
        step_id="pay",
        amount=SMALL_FEE,
        reference="12345678901234",
    )


def test_the_reused_reference_check_reads_an_index_not_every_payment(world):
    from django.db import connection

    from pishkhan.cases.store import _PAID_REFERENCE

    sql = _PAID_REFERENCE[connection.vendor].replace("%s", "'12345'")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SET LOCAL enable_seqscan = off"
            )  # an empty table: make the plan show what it can use
            cursor.execute("EXPLAIN " + sql)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "cases_paid_reference" in plan
