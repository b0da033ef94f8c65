import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import translation

from pishkhan.cases.models import Alert, CaseStatus
from pishkhan.cases.selectors import (
    case_by_tracking_code,
    case_payment_due,
    case_public_status,
    case_timeline,
    case_visible_to,
    cases_for,
    queue_for,
    workload,
)
from pishkhan.cases.services import case_advance, case_claim
from pishkhan.core.text import to_persian_digits
from tests.cases.factories import (
    SMALL_FEE,
    T0,
    bind_role,
    make_citizen,
    make_district,
    make_office,
    make_operator,
    make_staff,
    submit_case,
)

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def visible(user):
    return set(cases_for(user).values_list("pk", flat=True))


def test_who_sees_which_case(world):
    other_district = make_district()
    office = make_office()
    operator = make_operator(office=office)
    citizen = make_citizen()
    mine = submit_case(service=world.service, applicant=citizen, district=world.district)
    filed_by_office = submit_case(
        service=world.service, channel="office", filed_by=operator, district=world.district
    )
    elsewhere = submit_case(service=world.service, district=other_district)
    everything = {mine.pk, filed_by_office.pk, elsewhere.pk}

    assert visible(citizen) == {mine.pk}
    assert visible(operator) == {filed_by_office.pk}
    assert visible(make_operator()) == set()
    assert visible(AnonymousUser()) == set() and visible(None) == set()

    # Staff: open steps of their roles in their districts.
    assert visible(world.clerk) == {mine.pk, filed_by_office.pk}
    assert visible(world.inspector) == set()  # nothing of theirs is open yet
    assert visible(make_staff(role="clerk", district=None)) == everything
    assert visible(make_staff(role="process_owner", district=None)) == set()
    # Managers: every case of their district; auditors and council observers: every case.
    assert visible(world.manager) == {mine.pk, filed_by_office.pk}
    assert visible(make_staff(role="manager", district=None)) == everything
    assert visible(make_staff(role="auditor", district=other_district)) == everything
    assert visible(make_staff(role="council_observer")) == everything

    case_advance(case=mine, step_id="review", outcome="approve", actor=world.clerk)
    assert visible(world.inspector) == {mine.pk}
    # The clerk keeps seeing the case they acted on though their step is done.
    other_clerk = make_staff(role="clerk", district=world.district)
    case_advance(case=filed_by_office, step_id="review", outcome="approve", actor=world.clerk)
    case_advance(case=mine, step_id="tech_review", outcome="approve", actor=world.clerk)
    assert mine.pk in visible(world.clerk) and mine.pk not in visible(other_clerk)

    inactive = make_citizen()
    inactive_case = submit_case(service=world.service, applicant=inactive, district=world.district)
    inactive.is_active = False
    inactive.save()
    assert not case_visible_to(inactive, inactive_case)
    for user, case in [(citizen, mine), (operator, filed_by_office), (citizen, elsewhere)]:
        assert case_visible_to(user, case) == (case.pk in visible(user))


def test_a_counter_clerk_sees_what_they_filed(world):
    counter = make_staff(role="process_owner", district=world.district)
    case = submit_case(service=world.service, channel="counter", filed_by=counter, district=world.district)
    assert visible(counter) == {case.pk}


def test_a_case_is_found_by_its_tracking_code_typed_any_way(world):
    case = submit_case(service=world.service, district=world.district)
    code = case.tracking_code
    assert case_by_tracking_code(code) == case
    assert case_by_tracking_code(f"{to_persian_digits(code[:6])}-{code[6:]}") == case
    wrong_check = code[:-1] + str((int(code[-1]) + 1) % 10)
    assert case_by_tracking_code(wrong_check) is None


def test_the_queue_holds_queued_steps_of_my_roles_in_my_districts_and_what_i_claimed(world):
    colleague = make_staff(role="clerk", district=world.district)
    soon = submit_case(service=world.service, district=world.district, now=T0)
    later = submit_case(service=world.service, district=world.district, now=T0 + DAY)
    elsewhere = submit_case(service=world.service, district=make_district(), now=T0)

    queue = list(queue_for(world.clerk))
    assert [p.case_id for p in queue] == [soon.pk, later.pk]  # soonest due first
    assert elsewhere.pk not in {p.case_id for p in queue_for(world.clerk)}
    assert list(queue_for(world.inspector)) == []

    case_claim(position=soon.positions.get(), actor=colleague)
    assert [p.case_id for p in queue_for(world.clerk)] == [later.pk]
    assert [p.case_id for p in queue_for(colleague)] == [soon.pk, later.pk]
    assert [p.case_id for p in queue_for(colleague, alert=Alert.OVERDUE)] == []
    assert [p.case_id for p in queue_for(colleague, role="inspector")] == []

    city_wide = make_staff(role="clerk")
    assert {p.case_id for p in queue_for(city_wide)} == {later.pk, elsewhere.pk}
    assert [p.case_id for p in queue_for(city_wide, district=world.district)] == [later.pk]


def test_workload_counts_open_work_per_role_and_person_and_what_is_overdue(world):
    first = submit_case(service=world.service, district=world.district, now=T0)
    submit_case(service=world.service, district=world.district, now=T0)
    case_advance(case=first, step_id="review", outcome="approve", actor=world.clerk, now=T0)
    case_claim(position=first.positions.get(step_id="inspect"), actor=world.inspector, now=T0)

    counts = workload(district=world.district, now=T0)
    assert counts["total"] == 3 and counts["overdue"] == 0
    rows = {row["role"]: row for row in counts["by_role"]}
    assert (rows["clerk"]["open"], rows["clerk"]["queued"]) == (2, 2)
    assert (rows["inspector"]["claimed"], rows["inspector"]["open"]) == (1, 1)
    assert counts["by_assignee"] == [
        {"assignee_id": world.inspector.pk, "name": str(world.inspector), "open": 1, "overdue": 0}
    ]
    # A month later every step is overdue.
    assert workload(district=world.district, now=T0 + 30 * DAY)["overdue"] == 3
    assert workload(district=make_district())["total"] == 0


def test_the_timeline_names_steps_and_roles_but_never_the_clerk_for_the_citizen(world):
    case = submit_case(service=world.service, district=world.district, now=T0)
    case_claim(position=case.positions.get(), actor=world.clerk, now=T0)
    case_advance(
        case=case, step_id="review", outcome="reject", actor=world.clerk, reason="Not the owner.", now=T0
    )

    for_citizen = case_timeline(case, viewer=case.applicant)
    assert [(e.activity, e.step_title, e.outcome) for e in for_citizen] == [
        ("submitted", "", ""),
        ("completed", "Check the documents", "reject"),
        ("ended", "Rejected", "rejected"),
    ]
    completed = for_citizen[1]
    assert (completed.role_title, completed.reason, completed.actor_name) == (
        "Clerk / expert",
        "Not the owner.",
        None,
    )
    assert completed.outcome_label == "Rejected"
    assert all(entry.actor_name is None for entry in for_citizen)

    for_staff = case_timeline(case, viewer=world.manager)
    assert [e.activity for e in for_staff] == ["submitted", "claimed", "completed", "ended"]
    assert for_staff[2].actor_name == str(world.clerk)

    with translation.override("fa"):
        assert case_timeline(case)[1].step_title == "بررسی مدارک"
        assert case_timeline(case)[1].role_title == "کارشناس"


def test_the_public_status_needs_the_second_factor_and_shows_no_personal_data(world):
    citizen = make_citizen()
    case = submit_case(service=world.service, applicant=citizen, district=world.district, now=T0)
    assert case_public_status(tracking_code=case.tracking_code, second_factor="") is None
    assert case_public_status(tracking_code=case.tracking_code, second_factor="0912 000 0000") is None
    assert case_public_status(tracking_code="123", second_factor=citizen.national_id) is None

    status = case_public_status(
        tracking_code=case.tracking_code, second_factor=to_persian_digits(citizen.national_id)
    )
    assert status["service"] == "Test permit" and status["status"] == CaseStatus.OPEN
    assert status["stages"] == [
        {
            "title": "Check the documents",
            "role": "Clerk / expert",
            "with_applicant": False,
            "due_at": case.positions.get().due_at,
        }
    ]
    assert status["next_deadline"] == case.positions.get().due_at
    by_mobile = case_public_status(tracking_code=case.tracking_code, second_factor="+98" + citizen.mobile[1:])
    assert by_mobile == status
    shown = repr(status)
    for personal in (citizen.national_id, citizen.mobile, citizen.last_name, str(world.clerk)):
        assert personal not in shown


def test_the_payment_due_is_the_sum_of_the_steps_fees(world):
    case = submit_case(service=world.service, district=world.district)
    assert case_payment_due(case, step_id="pay") == SMALL_FEE
    assert case_payment_due(case, step_id="review") == 0


def test_a_manager_bound_in_two_districts_sees_both(world):
    second = make_district()
    bind_role(world.manager, "manager", second)
    here = submit_case(service=world.service, district=world.district)
    there = submit_case(service=world.service, district=second)
    assert visible(world.manager) == {here.pk, there.pk}
