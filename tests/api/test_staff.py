"""The staff side over the API: the queue, claiming and releasing a step, and acting on it — with
every refusal (an unknown outcome, a step of another case, a step already done) a 4xx that says why
and changes nothing."""

import pytest

from pishkhan.cases.models import Case
from pishkhan.cases.services import case_advance
from tests.cases.factories import make_staff

pytestmark = pytest.mark.django_db


def step_url(case, step, action):
    return f"/api/v1/cases/{case.tracking_code}/steps/{step}/{action}/"


def state(case):
    case = Case.objects.get(pk=case.pk)
    return case.status, case.event_seq, sorted(case.positions.values_list("step_id", "state", "assignee_id"))


def test_the_queue_lists_open_steps_by_due_date_and_filters_by_role_and_alert(city, client_for):
    client = client_for(city.clerk_a)
    rows = client.get("/api/v1/queue/").json()["results"]
    assert {(r["tracking_code"], r["step_id"], r["role"], r["district"]) for r in rows} == {
        (city.online_a.tracking_code, "review", "clerk", "d01"),
        (city.office_a.tracking_code, "review", "clerk", "d01"),
    }
    assert client.get("/api/v1/queue/?role=inspector").json()["results"] == []
    assert client.get("/api/v1/queue/?alert=overdue").json()["results"] == []
    bad = client.get("/api/v1/queue/?alert=late&district=d99")
    assert bad.status_code == 400
    assert list(bad.json()["errors"]) == ["alert"]
    assert list(client.get("/api/v1/queue/?district=d99").json()["errors"]) == ["district"]


def test_a_clerk_claims_releases_and_claims_again(city, client_for):
    client = client_for(city.clerk_a)
    claimed = client.post(step_url(city.online_a, "review", "claim"))
    assert claimed.status_code == 200
    assert claimed.json()["positions"][0]["state"] == "claimed"
    assert claimed.json()["positions"][0]["claimed_by_me"] is True
    released = client.post(step_url(city.online_a, "review", "release"))
    assert released.json()["positions"][0]["state"] == "queued"
    assert client.post(step_url(city.online_a, "review", "claim")).status_code == 200


def test_a_step_someone_else_holds_cannot_be_claimed_released_or_completed(city, client_for):
    colleague = make_staff(role="clerk", district=city.a)
    client_for(colleague).post(step_url(city.online_a, "review", "claim"))
    before = state(city.online_a)
    client = client_for(city.clerk_a, language="en")
    for action, body in (("claim", {}), ("release", {}), ("act", {"outcome": "approve"})):
        response = client.post(step_url(city.online_a, "review", action), body, format="json")
        assert 400 <= response.status_code < 500, action
        assert response.json()["detail"], action
    assert state(city.online_a) == before


def test_a_clerk_approves_and_the_case_moves_to_the_parallel_checks(city, client_for):
    response = client_for(city.clerk_a).post(
        step_url(city.online_a, "review", "act"), {"outcome": "approve"}, format="json"
    )
    assert response.status_code == 200
    assert {p["step_id"] for p in response.json()["positions"]} == {"inspect", "tech_review", "checks_done"}


def test_acting_on_a_step_already_done_is_a_409_that_changes_nothing(city, client_for):
    client = client_for(city.clerk_a, language="en")
    client.post(step_url(city.online_a, "review", "act"), {"outcome": "approve"}, format="json")
    before = state(city.online_a)
    again = client.post(
        step_url(city.online_a, "review", "act"), {"outcome": "reject", "reason": "x"}, format="json"
    )
    assert again.status_code == 409
    assert again.json()["code"] == "stale"
    assert "already done" in again.json()["detail"]
    assert client.post(step_url(city.online_a, "review", "claim")).status_code == 409
    assert state(city.online_a) == before


def test_a_step_of_another_process_or_none_at_all_is_404_and_changes_nothing(city, client_for):
    client = client_for(city.clerk_a, language="en")
    before = state(city.online_a)
    for action in ("claim", "release", "act"):
        response = client.post(
            step_url(city.online_a, "no_such_step", action), {"outcome": "approve"}, format="json"
        )
        assert response.status_code == 404, action
        assert response.json()["code"] == "unknown_step"
    assert state(city.online_a) == before


def test_a_step_open_in_another_case_is_not_open_in_this_one(city, client_for):
    # The office's case is at `review`; citizen 1's case moves on to the parallel checks. Asking
    # for `tech_review` on the office's case names a real step that is open elsewhere, not here.
    case_advance(case=city.online_a, step_id="review", outcome="approve", actor=city.clerk_a)
    before = state(city.office_a)
    response = client_for(city.clerk_a, language="en").post(
        step_url(city.office_a, "tech_review", "act"), {"outcome": "approve"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "stale"
    assert state(city.office_a) == before


@pytest.mark.parametrize(
    ("body", "status", "code", "fields"),
    [
        ({}, 400, "invalid", {"outcome"}),
        ({"outcome": "teleport"}, 400, "invalid", {"outcome"}),
        ({"outcome": "done"}, 400, "unknown_outcome", {"outcome"}),
        ({"outcome": "reject"}, 400, "reason_required", set()),
        ({"outcome": "return"}, 400, "invalid_request", {"request.message"}),
        (
            {"outcome": "return", "request": {"missing": ["passport"], "message": "", "due_days": 0}},
            400,
            "invalid",
            {"request.message", "request.due_days"},
        ),
        (
            {"outcome": "return", "request": {"missing": ["passport"], "message": "Bring it", "due_days": 3}},
            400,
            "invalid_request",
            {"request.missing"},
        ),
    ],
    ids=[
        "no outcome",
        "no such outcome",
        "an outcome the step does not have",
        "reject without a reason",
        "return without a request",
        "return with an empty request",
        "return asking for a document the process does not have",
    ],
)
def test_bad_actions_are_refused_naming_the_field_and_change_nothing(
    city, client_for, body, status, code, fields
):
    before = state(city.online_a)
    response = client_for(city.clerk_a, language="en").post(
        step_url(city.online_a, "review", "act"), body, format="json"
    )
    assert response.status_code == status, response.content
    data = response.json()
    assert data["code"] == code
    assert data["detail"]
    assert set(data.get("errors", {})) == fields
    assert state(city.online_a) == before


def test_an_outcome_the_step_does_not_have_lists_those_it_has(city, client_for):
    data = (
        client_for(city.clerk_a)
        .post(step_url(city.online_a, "review", "act"), {"outcome": "done"}, format="json")
        .json()
    )
    assert data["allowed"] == ["approve", "return", "reject"]


def test_a_clerk_returns_a_case_to_the_applicant_with_what_to_correct(city, client_for):
    request = {"missing": ["deed"], "message": "The deed is unreadable.", "due_days": 5}
    response = client_for(city.clerk_a).post(
        step_url(city.online_a, "review", "act"), {"outcome": "return", "request": request}, format="json"
    )
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "with_citizen"
    assert data["suspended_since"]
    assert data["positions"][0]["request"]["missing"] == ["deed"]


def test_an_auditor_reads_every_case_but_acts_on_none(city, client_for):
    auditor = client_for(make_staff(role="auditor"))
    assert auditor.get(f"/api/v1/cases/{city.online_b.tracking_code}/").status_code == 200
    before = state(city.online_b)
    response = auditor.post(step_url(city.online_b, "review", "act"), {"outcome": "approve"}, format="json")
    assert response.status_code == 403
    assert state(city.online_b) == before
