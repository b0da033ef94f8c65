import datetime as dt

import pytest

from pishkhan.cases.models import Case, CaseStatus, PositionState, SubmissionKey
from pishkhan.cases.services import CaseError, case_submit
from pishkhan.cases.tracking import tracking_code_valid
from pishkhan.core.calendar import working_calendar
from pishkhan.offices.models import OfficeStatus
from tests.cases.factories import (
    SMALL_ANSWERS,
    T0,
    make_citizen,
    make_district,
    make_office,
    make_operator,
    make_staff,
    publish_definition,
    small_process,
    submit_case,
)

pytestmark = pytest.mark.django_db


def refused(code, **kwargs) -> CaseError:
    with pytest.raises(CaseError) as error:
        submit_case(**kwargs)
    assert error.value.code == code, error.value.message
    return error.value


def test_a_citizen_files_online_and_the_case_starts_at_the_first_step(world, notified):
    citizen = make_citizen()
    case = submit_case(service=world.service, applicant=citizen, district=world.district, now=T0)
    assert tracking_code_valid(case.tracking_code)
    assert (case.applicant, case.filed_by, case.office, case.channel) == (citizen, citizen, None, "online")
    assert case.version.number == 1 and case.variant is None and case.district == world.district
    assert case.status == CaseStatus.OPEN and case.submitted_at == T0
    assert case.answers == {"area_m2": 12, "night_work": False}
    assert case.due_at == working_calendar().deadline_for(started_at=T0, working_days=30)

    position = case.positions.get()
    assert (position.step_id, position.role, position.state) == ("review", "clerk", PositionState.QUEUED)
    assert position.due_at == working_calendar().deadline_for(started_at=T0, working_days=2)

    event = case.events.get()
    assert (event.seq, event.activity, event.actor, event.completed_at) == (1, "submitted", citizen, T0)
    assert event.data == {
        "applicant": citizen.pk,
        "channel": "online",
        "entered": ["review"],
        "variant": None,
        "version": 1,
    }
    assert notified == [(case.pk, "submitted")]


def test_an_office_files_for_a_citizen_and_both_are_recorded(world):
    office = make_office(district=world.district)
    operator = make_operator(office=office)
    citizen = make_citizen()
    case = case_submit(
        service=world.service, applicant=citizen, filed_by=operator, answers=SMALL_ANSWERS, channel="office"
    )
    assert (case.applicant, case.filed_by, case.office, case.channel) == (citizen, operator, office, "office")
    assert case.district == world.district  # the office's, since the form names none
    event = case.events.get()
    assert (event.actor, event.office) == (operator, office)


def test_a_suspended_office_or_one_with_an_expired_licence_may_not_file(world):
    suspended = make_operator(office=make_office(status=OfficeStatus.SUSPENDED))
    error = refused("office_suspended", service=world.service, channel="office", filed_by=suspended)
    assert error.status == 403
    expired = make_operator(office=make_office(licence_expires_on=dt.date(2025, 5, 2)))
    refused("office_licence_expired", service=world.service, channel="office", filed_by=expired, now=T0)
    # The licence runs to the end of its last day (Tehran time).
    last_day = make_operator(office=make_office(licence_expires_on=dt.date(2025, 5, 3)))
    submit_case(service=world.service, channel="office", filed_by=last_day, now=T0)
    assert not Case.objects.filter(filed_by__in=[suspended, expired]).exists()


def test_an_operator_files_for_their_own_office_only(world):
    operator = make_operator()
    refused("forbidden", service=world.service, channel="office", filed_by=operator, office=make_office())
    refused("forbidden", service=world.service, channel="office", filed_by=make_staff(role="clerk"))


def test_a_clerk_files_at_the_counter_and_a_citizen_cannot_file_for_someone_else(world):
    clerk = make_staff(role="clerk", district=world.district)
    case = submit_case(service=world.service, channel="counter", filed_by=clerk, district=world.district)
    assert (case.channel, case.filed_by) == ("counter", clerk)
    refused("forbidden", service=world.service, channel="counter", filed_by=make_citizen())
    refused("forbidden", service=world.service, channel="online", filed_by=make_citizen())
    refused("invalid_applicant", service=world.service, applicant=clerk, filed_by=clerk)


def test_a_channel_the_service_does_not_offer_is_refused(world):
    service = publish_definition(small_process(code="online-only", channels=["online"]))
    refused(
        "channel_not_offered",
        service=service,
        channel="office",
        filed_by=make_operator(),
        district=world.district,
    )


def test_invalid_answers_are_refused_with_a_message_per_field(world):
    error = refused("invalid_answers", service=world.service, answers={"area_m2": 0, "colour": "red"})
    assert error.status == 400
    assert error.field_errors == {
        "area_m2": ["Area (m²): enter a number no smaller than 1."],
        "colour": ["There is no field “colour” in this form."],
    }
    assert not Case.objects.exists()


def test_the_district_comes_from_a_district_answer_or_the_map_point_when_none_is_chosen(world):
    north = make_district()
    north.boundary = {
        "type": "Polygon",
        "coordinates": [[[51.30, 35.75], [51.60, 35.75], [51.60, 35.85], [51.30, 35.85], [51.30, 35.75]]],
    }
    north.save()
    fields = [
        *small_process()["fields"],
        {"id": "place", "type": "map_point", "label": {"fa": "محل", "en": "Place"}},
        {
            "id": "district",
            "type": "choice",
            "label": {"fa": "منطقه", "en": "District"},
            "options": [{"value": world.district.code, "label": {"fa": "منطقه"}}],
        },
    ]
    service = publish_definition(small_process(code="located-permit", fields=fields))
    by_answer = case_submit(
        service=service,
        applicant=(citizen := make_citizen()),
        filed_by=citizen,
        answers={**SMALL_ANSWERS, "district": world.district.code},
        channel="online",
    )
    assert by_answer.district == world.district
    by_map = case_submit(
        service=service,
        applicant=citizen,
        filed_by=citizen,
        answers={**SMALL_ANSWERS, "place": {"lat": 35.8, "lng": 51.4}},
        channel="online",
    )
    assert by_map.district == north
    with pytest.raises(CaseError) as error:
        case_submit(
            service=service,
            applicant=citizen,
            filed_by=citizen,
            answers={**SMALL_ANSWERS, "place": {"lat": 29.6, "lng": 52.5}},
            channel="online",
        )
    assert error.value.code == "district_required" and "district" in error.value.field_errors


def test_a_service_with_no_published_version_takes_no_requests(world):
    from pishkhan.catalog.selectors import version_current
    from pishkhan.catalog.services import version_retire
    from tests.cases.factories import process_owner

    version_retire(version=version_current(world.service), by=process_owner())
    error = refused("not_offered", service=world.service)  # the tests in this folder run in English
    assert error.status == 409
    assert world.service.title_en and world.service.title_en in error.message


def test_a_case_keeps_the_version_it_started_on(world):
    old = submit_case(service=world.service, district=world.district)
    publish_definition(small_process(service_norm_days=5))
    new = submit_case(service=world.service, district=world.district)
    assert (old.version.number, new.version.number) == (1, 2)


# --- idempotency --------------------------------------------------------------------------------


def test_the_same_key_twice_gives_the_same_case_and_no_new_event(world):
    citizen = make_citizen()
    first = submit_case(
        service=world.service, applicant=citizen, district=world.district, idempotency_key="k-1"
    )
    again = submit_case(
        service=world.service, applicant=citizen, district=world.district, idempotency_key="k-1"
    )
    assert again.pk == first.pk
    assert Case.objects.count() == 1 and first.events.count() == 1
    assert SubmissionKey.objects.get().case == first


def test_the_same_key_with_different_answers_is_a_conflict(world):
    citizen = make_citizen()
    submit_case(service=world.service, applicant=citizen, district=world.district, idempotency_key="k-1")
    with pytest.raises(CaseError) as error:
        submit_case(
            service=world.service,
            applicant=citizen,
            district=world.district,
            idempotency_key="k-1",
            answers={"area_m2": 13},
        )
    assert (error.value.code, error.value.status) == ("idempotency_conflict", 409)
    assert Case.objects.count() == 1


def test_keys_belong_to_the_person_who_files(world):
    one = submit_case(service=world.service, district=world.district, idempotency_key="same")
    other = submit_case(service=world.service, district=world.district, idempotency_key="same")
    assert one.pk != other.pk


def test_a_refused_submission_does_not_use_up_its_key(world):
    citizen = make_citizen()
    with pytest.raises(CaseError):
        submit_case(service=world.service, applicant=citizen, answers={"area_m2": 0}, idempotency_key="k-2")
    assert not SubmissionKey.objects.exists()
    case = submit_case(
        service=world.service, applicant=citizen, district=world.district, idempotency_key="k-2"
    )
    assert case.pk


def test_a_malformed_key_is_refused(world):
    refused("invalid_idempotency_key", service=world.service, idempotency_key="x" * 101)


def test_the_filing_offices_operator_confirms_the_intake_check(world):
    """The office role's first step (file_request: the file is complete) is what the operator does
    at the counter: case_office_intake completes it as them; filed online it waits for the
    district's e-service desk; another office's operator may not do it."""
    from pathlib import Path

    from pishkhan.cases.services import case_advance, case_office_intake
    from pishkhan.catalog.selectors import version_current, version_definition
    from pishkhan.demo.answers import sample_answers

    text = (Path(__file__).resolve().parents[2] / "processes" / "tax-clearance-certificate.yaml").read_text()
    service = publish_definition(text)
    answers = sample_answers(version_definition(version_current(service)))
    office = make_office(district=world.district)
    operator = make_operator(office=office)
    filed = case_submit(
        service=service, applicant=make_citizen(), filed_by=operator, answers=answers, channel="office"
    )
    assert filed.positions.get().step_id == "file_request"
    stranger = make_operator(office=make_office(district=world.district))
    with pytest.raises(CaseError) as error:
        case_advance(case=filed, step_id="file_request", outcome="approve", actor=stranger)
    assert error.value.status == 403

    (intake,) = case_office_intake(case=filed, operator=operator)
    assert (intake.activity, intake.step_id, intake.outcome) == ("completed", "file_request", "approve")
    assert (intake.actor, intake.office, intake.actor_role) == (operator, office, "eservice_office")
    assert not filed.positions.filter(step_id="file_request").exists() and filed.positions.exists()
    assert case_office_intake(case=filed, operator=operator) == []  # the form sent twice

    online = submit_case(service=service, district=world.district, answers=answers)
    assert online.positions.get().step_id == "file_request"
