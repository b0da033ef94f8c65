"""Filing a case over the API: citizens for themselves, offices and counters for a walk-in citizen,
with an Idempotency-Key so a retried request never makes a second case."""

import threading
import uuid

import pytest
from django.db import connection, connections

from pishkhan.accounts.models import User, UserKind
from pishkhan.cases.models import Case
from pishkhan.core.models import AuditEvent
from tests.cases.factories import (
    SMALL_ANSWERS,
    make_citizen,
    make_district,
    make_office,
    make_operator,
    make_staff,
    national_id_new,
    publish_definition,
    small_process,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/cases/"


@pytest.fixture
def service(db):
    make_district("d01")
    return publish_definition(small_process())


def body(**changes):
    return {"service": "small-permit", "answers": dict(SMALL_ANSWERS), "district": "d01", **changes}


def submit(client, data, key="key-1", **headers):
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(URL, data, format="json", **headers)


def test_a_citizen_files_a_case_and_gets_its_tracking_code_status_and_first_step(service, client_for):
    citizen = make_citizen()
    response = submit(client_for(citizen), body())
    assert response.status_code == 201, response.content
    data = response.json()
    case = Case.objects.get(tracking_code=data["tracking_code"])
    assert (case.applicant, case.filed_by, case.channel, case.office) == (citizen, citizen, "online", None)
    assert data["status"] == "open"
    assert data["service"] == "small-permit" and data["district"] == "d01"
    assert data["due_at"]
    assert [(p["step_id"], p["state"]) for p in data["positions"]] == [("review", "queued")]
    assert data["positions"][0]["due_at"]


def test_a_retry_with_the_same_key_answers_200_with_the_same_case_and_makes_no_second_one(
    service, client_for
):
    client = client_for(make_citizen())
    first = submit(client, body())
    again = submit(client, body())
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["tracking_code"] == first.json()["tracking_code"]
    assert Case.objects.count() == 1


def test_the_same_key_with_a_different_body_is_refused_with_409_and_makes_nothing(service, client_for):
    client = client_for(make_citizen())
    submit(client, body())
    response = submit(client, body(answers={"area_m2": 99}))
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_conflict"
    assert Case.objects.count() == 1


def test_keys_belong_to_the_caller_so_two_citizens_may_pick_the_same_one(service, client_for):
    first = submit(client_for(make_citizen()), body(), key="same")
    second = submit(client_for(make_citizen()), body(), key="same")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["tracking_code"] != second.json()["tracking_code"]


@pytest.mark.parametrize(
    "key", [None, "", "has spaces", "x" * 101], ids=["missing", "empty", "spaces", "long"]
)
def test_a_post_without_a_usable_idempotency_key_is_refused_and_the_answer_says_why(service, client_for, key):
    response = submit(client_for(make_citizen()), body(), key=key, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "idempotency_key"
    assert "Idempotency-Key" in data["errors"]
    assert "retry" in data["detail"]
    assert not Case.objects.exists()


def test_a_refused_request_does_not_use_up_its_key(service, client_for):
    client = client_for(make_citizen())
    assert submit(client, body(answers={"area_m2": 5000})).status_code == 400
    assert submit(client, body()).status_code == 201


def test_wrong_answers_are_refused_naming_each_field_from_the_root_of_the_request(service, client_for):
    response = submit(
        client_for(make_citizen()),
        body(answers={"area_m2": 5000, "night_work": True, "colour": "red"}),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "invalid_answers"
    assert set(data["errors"]) == {"answers.area_m2", "answers.night_reason", "answers.colour"}
    assert "1000" in data["errors"]["answers.area_m2"][0]
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"answers": {}}, "service"),
        (body(service="no-such-service"), "service"),
        (body(service="Not a slug!"), "service"),
        (body(district="d99"), "district"),
        (body(answers=["not", "an", "object"]), "answers"),
    ],
    ids=["no service", "unknown service", "malformed service", "unknown district", "answers not an object"],
)
def test_bad_input_names_the_field(service, client_for, data, field):
    response = submit(client_for(make_citizen()), data)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


def test_a_citizen_cannot_file_in_someone_elses_name(service, client_for):
    applicant = {"national_id": national_id_new(), "mobile": "09351234567"}
    response = submit(client_for(make_citizen()), body(applicant=applicant))
    assert response.status_code == 400
    assert "applicant" in response.json()["errors"]


def test_an_office_files_for_a_walk_in_citizen_who_gets_an_account(service, client_for):
    office = make_office(district=make_district("d01"))
    operator = make_operator(office=office)
    national_id = national_id_new()
    response = submit(
        client_for(operator, token=True),
        body(applicant={"national_id": national_id, "mobile": "+98 935 123 4567"}),
    )
    assert response.status_code == 201, response.content
    case = Case.objects.get(tracking_code=response.json()["tracking_code"])
    citizen = User.objects.get(national_id=national_id)
    assert (citizen.kind, citizen.mobile) == (UserKind.CITIZEN, "09351234567")
    assert (case.applicant, case.filed_by, case.office, case.channel) == (citizen, operator, office, "office")
    registered = AuditEvent.objects.get(action="citizen.registered")
    assert (registered.actor, registered.subject) == (operator, f"user:{citizen.pk}")


def test_an_office_files_for_a_citizen_who_already_has_an_account(service, client_for):
    citizen = make_citizen()
    response = submit(
        client_for(make_operator()),
        body(applicant={"national_id": citizen.national_id, "mobile": citizen.mobile}),
    )
    assert response.status_code == 201
    assert Case.objects.get().applicant == citizen
    assert User.objects.filter(kind=UserKind.CITIZEN).count() == 1


def test_an_office_cannot_file_under_a_national_id_with_someone_elses_mobile(service, client_for):
    citizen = make_citizen()
    response = submit(
        client_for(make_operator()),
        body(applicant={"national_id": citizen.national_id, "mobile": "09359999999"}),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "mismatch"
    assert list(response.json()["errors"]) == ["applicant"]
    assert not Case.objects.exists()


def test_a_citizen_who_signed_in_by_sms_but_never_gave_a_national_id_gets_it_recorded(service, client_for):
    citizen = make_citizen(national_id=None)
    User.objects.filter(pk=citizen.pk).update(national_id=None)
    national_id = national_id_new()
    response = submit(
        client_for(make_operator()), body(applicant={"national_id": national_id, "mobile": citizen.mobile})
    )
    assert response.status_code == 201
    citizen.refresh_from_db()
    assert citizen.national_id == national_id
    assert Case.objects.get().applicant == citizen
    assert AuditEvent.objects.filter(
        action="citizen.national_id_recorded", subject=f"user:{citizen.pk}"
    ).exists()


def test_a_staff_members_mobile_cannot_be_filed_as_a_citizens(service, client_for):
    clerk = make_staff(role="clerk", mobile="09121110000")
    response = submit(
        client_for(make_operator()),
        body(applicant={"national_id": national_id_new(), "mobile": clerk.mobile}),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "not_citizen"


def test_an_office_must_name_the_applicant_and_their_identifiers_are_checked(service, client_for):
    client = client_for(make_operator())
    assert "applicant" in submit(client, body(), key="a").json()["errors"]
    response = submit(client, body(applicant={"national_id": "0012345678", "mobile": "0211234567"}), key="b")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"applicant.national_id", "applicant.mobile"}


def test_when_the_engine_refuses_the_case_no_account_is_left_behind_for_the_walk_in(service, client_for):
    national_id = national_id_new()
    response = submit(
        client_for(make_operator()),
        body(answers={"area_m2": 0}, applicant={"national_id": national_id, "mobile": "09351234567"}),
    )
    assert response.status_code == 400
    assert not User.objects.filter(national_id=national_id).exists()


def test_a_suspended_office_cannot_file(service, client_for):
    operator = make_operator(office=make_office(status="suspended"))
    response = submit(
        client_for(operator), body(applicant={"national_id": national_id_new(), "mobile": "09351234567"})
    )
    assert response.status_code == 403
    assert response.json()["code"] == "office_suspended"


def test_a_clerk_files_at_the_counter_for_a_walk_in_citizen(service, client_for):
    clerk = make_staff(role="clerk", district=make_district("d01"))
    response = submit(
        client_for(clerk), body(applicant={"national_id": national_id_new(), "mobile": "09351234567"})
    )
    assert response.status_code == 201, response.content
    case = Case.objects.get()
    assert (case.channel, case.filed_by, case.office) == ("counter", clerk, None)


def test_staff_without_a_role_and_anonymous_callers_cannot_file(service, client_for):
    roleless = make_staff()
    assert submit(client_for(roleless), body()).status_code == 403
    assert submit(client_for(None), body()).status_code == 401
    assert not Case.objects.exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite serialises writing transactions, so the requests cannot interleave",
)
@pytest.mark.django_db(transaction=True)
def test_parallel_retries_with_one_key_make_one_case(client_for):
    make_district("d01")
    publish_definition(small_process())
    operator = make_operator()
    key = str(uuid.uuid4())
    data = body(applicant={"national_id": national_id_new(), "mobile": "09351234567"})
    requests = 6
    barrier = threading.Barrier(requests, timeout=30)
    answers = []
    clients = [client_for(operator, token=True) for _ in range(requests)]

    def post(client):
        try:
            barrier.wait()
            response = submit(client, data, key=key)
            answers.append((response.status_code, response.json().get("tracking_code")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Case.objects.count() == 1
    code = Case.objects.get().tracking_code
    # Each request got the one case, or a 409 saying the same request is still being processed.
    for status, tracking_code in answers:
        assert (status, tracking_code) in {(201, code), (200, code), (409, None)}, answers
    assert sum(1 for status, _ in answers if status == 201) == 1
    assert User.objects.filter(kind=UserKind.CITIZEN).count() == 1
