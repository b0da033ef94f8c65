"""The issue's acceptance item: every endpoint that takes a tracking code or an id, and every list and
search, checks ownership through the one rule (cases.selectors.cases_for).

The city (tests/api/conftest.py): districts A and B; citizen 1's case filed online in A; office X's
case for citizen 2 in A; citizen 3's case in B; office Y and clerk B have nothing to do with the
cases in A. For each endpoint and each of the three cases, every intruder — another citizen,
another office, the other district's clerk, an anonymous caller — is refused without learning
anything (404, exactly as for a code that does not exist; 401 when anonymous) and without changing
anything; then the rightful caller succeeds.

A new endpoint is one line in ENDPOINTS. The city's process is the small one with its technical
review signed (city_process), so the signature's two endpoints are in the matrix too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyotp
import pytest

from pishkhan.accounts.models import Role, RoleBinding, User
from pishkhan.accounts.services import staff_totp_enrol
from pishkhan.cases.models import Case
from pishkhan.cases.services import case_advance, case_claim
from pishkhan.cases.signatures import signature_sheet
from pishkhan.cases.tracking import verhoeff_check_digit
from tests.cases.factories import small_process

from .conftest import pdf_upload

pytestmark = pytest.mark.django_db


def city_process() -> dict:
    """The small process, with the clerk's technical review (a branch of the parallel checks)
    completed by a signature."""
    process = small_process()
    next(step for step in process["steps"] if step["id"] == "tech_review")["signature"] = True
    return process


# --- what the rightful call needs first ------------------------------------------------------


def clerk_of(city, case):
    return city.clerk_b if case.district_id == city.b.pk else city.clerk_a


def returned_for_correction(city, case):
    """The clerk sends the case back to the applicant asking for a signature."""
    request = {"missing": [], "message": "Sign page 2 of the form.", "due_days": 5}
    case_advance(case=case, step_id="review", outcome="return", actor=clerk_of(city, case), request=request)


def claimed_by_the_clerk(city, case):
    case_claim(position=case.positions.get(step_id="review"), actor=clerk_of(city, case))


def at_the_signature(city, case):
    """Past the review, at the parallel checks; the district's clerk has an authenticator."""
    clerk = clerk_of(city, case)
    case_advance(case=case, step_id="review", outcome="approve", actor=clerk)
    staff_totp_enrol(user=clerk)
    User.objects.filter(pk=clerk.pk).update(totp_confirmed=True)


def signed(city, case) -> dict:
    """What the clerk sends to sign the technical review: a fresh code, the sheet's digest."""
    secret = User.objects.get(pk=clerk_of(city, case).pk).totp_secret
    return {
        "outcome": "approve",
        "confirm": True,
        "code": pyotp.TOTP(secret, interval=30).now(),
        "sha256": signature_sheet(case, step_id="tech_review").sha256,
    }


def at_the_site_visit(city, case):
    """Past the review, at the site inspection, which the district's clerk may also do."""
    clerk = clerk_of(city, case)
    case_advance(case=case, step_id="review", outcome="approve", actor=clerk)
    RoleBinding.objects.create(
        user=clerk, role=Role.objects.get(code="inspector"), district_id=case.district_id
    )


@dataclass(frozen=True)
class Endpoint:
    """One endpoint of the matrix. `path` has {code} (the case's tracking code) and {document} (the
    id of its title deed); `actor` says who the rightful caller is: "reader" (everyone who may see
    the case), "applicant" (the citizen, or the office that filed the case) or "staff" (the clerk
    of the case's district)."""

    name: str
    method: str
    path: str
    actor: str = "reader"
    body: Callable[[], dict] | None = None
    multipart: bool = False
    prepare: Callable | None = None
    ok: int = 200

    def call(self, client, city, case):
        url = self.path.format(code=case.tracking_code, document=case.deed.pk)
        body = self.body(city, case) if self.body else {}
        if self.method == "get":
            response = client.get(url)
        elif self.multipart:
            response = client.post(url, body, format="multipart")
        else:
            response = client.post(url, body, format="json")
        if getattr(response, "streaming", False):
            # Reading a streamed answer to the end closes it the way the test client expects.
            response.content_for_test = b"".join(response.streaming_content)
        else:
            response.content_for_test = response.content
        return response


CASE = "/api/v1/cases/{code}"
ENDPOINTS = [
    Endpoint("detail", "get", CASE + "/"),
    Endpoint("timeline", "get", CASE + "/timeline/"),
    Endpoint("documents", "get", CASE + "/documents/"),
    Endpoint("download", "get", CASE + "/documents/{document}/download/"),
    Endpoint(
        "upload",
        "post",
        CASE + "/documents/",
        actor="applicant",
        body=lambda *_: {"document_type": "deed", "file": pdf_upload()},
        multipart=True,
        ok=201,
    ),
    Endpoint(
        "answer",
        "post",
        CASE + "/answer/",
        actor="applicant",
        body=lambda *_: {"message": "Signed."},
        prepare=returned_for_correction,
    ),
    Endpoint(
        "withdraw", "post", CASE + "/withdraw/", actor="applicant", body=lambda *_: {"reason": "Moved."}
    ),
    Endpoint("claim", "post", CASE + "/steps/review/claim/", actor="staff"),
    Endpoint("release", "post", CASE + "/steps/review/release/", actor="staff", prepare=claimed_by_the_clerk),
    Endpoint(
        "act", "post", CASE + "/steps/review/act/", actor="staff", body=lambda *_: {"outcome": "approve"}
    ),
    Endpoint(
        "inspection",
        "post",
        CASE + "/steps/inspect/inspection/",
        actor="staff",
        body=lambda *_: {"outcome": "done", "findings": "The site matches the plan."},
        multipart=True,
        prepare=at_the_site_visit,
    ),
    Endpoint(
        "signature sheet",
        "get",
        CASE + "/steps/tech_review/signature/",
        actor="staff",
        prepare=at_the_signature,
    ),
    Endpoint(
        "sign",
        "post",
        CASE + "/steps/tech_review/signature/",
        actor="staff",
        body=signed,
        prepare=at_the_signature,
    ),
]


# --- the three cases: who may, who may not ------------------------------------------------------


@dataclass(frozen=True)
class Target:
    case: str  # attribute of the city
    readers: tuple[str, ...]  # everyone who may see it
    applicant: str  # who acts for the applicant over the API
    staff: str
    intruders: dict[str, str | None]  # label → attribute of the city (None: anonymous)

    def rightful(self, actor: str) -> tuple[str, ...]:
        return self.readers if actor == "reader" else (getattr(self, actor),)


TARGETS = {
    "citizen 1's online case in A": Target(
        case="online_a",
        readers=("citizen1", "clerk_a"),
        applicant="citizen1",
        staff="clerk_a",
        intruders={
            "another citizen": "citizen2",
            "an office that did not file it": "operator_x",
            "another office": "operator_y",
            "the other district's clerk": "clerk_b",
            "anonymous": None,
        },
    ),
    "office X's case for citizen 2 in A": Target(
        case="office_a",
        readers=("citizen2", "operator_x", "clerk_a"),
        applicant="operator_x",
        staff="clerk_a",
        intruders={
            "another citizen": "citizen1",
            "another office": "operator_y",
            "the other district's clerk": "clerk_b",
            "anonymous": None,
        },
    ),
    "citizen 3's case in B": Target(
        case="online_b",
        readers=("citizen3", "clerk_b"),
        applicant="citizen3",
        staff="clerk_b",
        intruders={
            "another citizen": "citizen1",
            "an office": "operator_x",
            "the other district's clerk": "clerk_a",
            "anonymous": None,
        },
    ),
}


def snapshot(case: Case):
    """Everything a refused call must leave as it was."""
    case = Case.objects.get(pk=case.pk)
    return (
        case.status,
        case.event_seq,
        case.event_hash,
        sorted(case.positions.values_list("step_id", "state", "assignee_id")),
        case.documents.count(),
    )


def refused_without_a_trace(response, case) -> str | None:
    """None when the answer is a refusal that reveals nothing; else what is wrong with it."""
    body = response.content_for_test.decode("utf-8", "replace")
    if response.status_code not in (401, 403, 404):
        return f"answered {response.status_code}"
    if case.tracking_code in body or "deed.pdf" in body or "%PDF" in body:
        return "the refusal shows the case's data"
    return None


@pytest.mark.parametrize("target", TARGETS.values(), ids=TARGETS.keys())
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_intruders_are_refused_and_change_nothing_then_the_rightful_caller_succeeds(
    city, client_for, endpoint, target
):
    case = getattr(city, target.case)
    case.deed = Case.objects.get(pk=case.pk).documents.get()
    if endpoint.prepare:
        endpoint.prepare(city, case)
    before = snapshot(case)

    problems = []
    for label, who in target.intruders.items():
        response = endpoint.call(client_for(getattr(city, who) if who else None), city, case)
        problem = refused_without_a_trace(response, case)
        expected = (401,) if who is None else (404,)
        if problem is None and response.status_code not in expected:
            problem = f"answered {response.status_code}, expected {expected}"
        if problem:
            problems.append(f"{label}: {problem}")
        if snapshot(case) != before:
            problems.append(f"{label}: changed the case")
    assert not problems, f"{endpoint.name} on {target.case}: " + "; ".join(problems)

    for who in target.rightful(endpoint.actor):
        response = endpoint.call(client_for(getattr(city, who)), city, case)
        assert response.status_code == endpoint.ok, (who, response.content_for_test[:500])


def test_a_code_that_does_not_exist_gets_the_very_same_answer_as_someone_elses_case(city, client_for):
    client = client_for(city.citizen2)
    theirs = client.get(f"/api/v1/cases/{city.online_a.tracking_code}/")
    body = "10000000000"
    code = body + verhoeff_check_digit(body)  # well formed, check digit right, no such case
    assert not Case.objects.filter(tracking_code=code).exists()
    nobody = client.get(f"/api/v1/cases/{code}/")
    assert theirs.status_code == nobody.status_code == 404
    assert theirs.json() == nobody.json()


# --- lists and search -----------------------------------------------------------------------------


def listed(client, query="") -> set[str]:
    response = client.get(f"/api/v1/cases/{query}")
    assert response.status_code == 200, response.content
    return {row["tracking_code"] for row in response.json()["results"]}


@pytest.mark.parametrize("target", TARGETS.values(), ids=TARGETS.keys())
def test_my_cases_and_the_tracking_code_search_only_ever_look_inside_what_the_caller_may_see(
    city, client_for, target
):
    case = getattr(city, target.case)
    search = f"?q={case.tracking_code}"
    for label, who in target.intruders.items():
        client = client_for(getattr(city, who) if who else None)
        if who is None:
            assert client.get("/api/v1/cases/").status_code == 401
            assert client.get("/api/v1/cases/" + search).status_code == 401
            continue
        assert case.tracking_code not in listed(client), label
        assert listed(client, search) == set(), label
        # A part of the code finds nothing either.
        assert listed(client, f"?q={case.tracking_code[2:9]}") <= listed(client), label
        assert case.tracking_code not in listed(client, f"?q={case.tracking_code[2:9]}"), label
    for who in target.readers:
        client = client_for(getattr(city, who))
        assert case.tracking_code in listed(client), who
        assert listed(client, search) == {case.tracking_code}, who


def queued(client, query="") -> set[str]:
    response = client.get(f"/api/v1/queue/{query}")
    assert response.status_code == 200, response.content
    return {row["tracking_code"] for row in response.json()["results"]}


def test_the_queue_never_shows_another_districts_steps_even_when_asked_for_that_district(city, client_for):
    clerk_a, clerk_b = client_for(city.clerk_a), client_for(city.clerk_b)
    assert queued(clerk_a, "?district=d02") == set()
    assert city.online_b.tracking_code not in queued(clerk_a)
    assert queued(clerk_a) == {city.online_a.tracking_code, city.office_a.tracking_code}
    assert queued(clerk_b, "?district=d02") == {city.online_b.tracking_code}
    assert queued(clerk_b, "?district=d01") == set()


@pytest.mark.parametrize(
    ("who", "status"),
    [("citizen1", 403), ("operator_x", 403), (None, 401)],
    ids=["a citizen", "an office operator", "anonymous"],
)
def test_the_queue_is_for_staff_only(city, client_for, who, status):
    response = client_for(getattr(city, who) if who else None).get("/api/v1/queue/?district=d02")
    assert response.status_code == status
    assert city.online_b.tracking_code not in response.content.decode()
