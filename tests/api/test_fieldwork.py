# ruff: noqa: F811 - the tests take the fieldwork fixtures imported below as arguments
"""Site inspections and signatures over the API: the same rule as the staff desk's. A visit is
recorded with its report (findings, where, photos taken there), a signature with the signatory's
confirmation and a fresh authenticator code; the plain "act" endpoint completes neither."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pishkhan.cases.models import CaseDocument
from pishkhan.cases.signatures import signature_sheet
from tests.cases import hostile
from tests.cases.factories import make_district, make_staff
from tests.desk.test_inbox_fieldwork import (  # noqa: F401 - world and issued are fixtures
    at_signature,
    authenticator,
    issued,
    open_steps,
    photo,
    world,
)

pytestmark = pytest.mark.django_db


def url(case, step, action):
    return f"/api/v1/cases/{case.tracking_code}/steps/{step}/{action}/"


def snapshot(case):
    case.refresh_from_db()
    return case.event_seq, open_steps(case), CaseDocument.objects.filter(case=case).count()


def test_the_plain_act_endpoint_completes_neither_a_visit_nor_a_signature(client_for, world):
    case = world.case
    before = snapshot(case)
    response = client_for(world.inspector, language="en").post(
        url(case, "visit", "act"), {"outcome": "done"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "report_required"
    assert "/steps/visit/inspection/" in response.json()["detail"]
    assert snapshot(case) == before

    at_signature(world)
    before = snapshot(case)
    response = client_for(world.signatory, language="en").post(
        url(case, "sign", "act"), {"outcome": "approve"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "signature_required"
    assert snapshot(case) == before


def test_an_inspector_records_the_visit_with_findings_location_and_photos(client_for, world):
    case = world.case
    response = client_for(world.inspector, token=True).post(
        url(case, "visit", "inspection"),
        {
            "outcome": "done",
            "findings": "The trench line is clear of trees.",
            "latitude": "35.70",
            "longitude": "51.40",
            "accuracy_m": "12",
            "photos": [photo("a.jpg"), photo("b.png", kind="png")],
        },
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    assert {p["step_id"] for p in response.json()["positions"]} == {"sign"}
    report = case.events.get(step_id="visit", activity="completed").data["evidence"]["inspection"]
    assert report["findings"] == "The trench line is clear of trees."
    assert report["location"] == {"lat": 35.7, "lng": 51.4, "accuracy_m": 12.0, "source": "device"}
    assert len(report["photos"]) == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"findings": ""}, "findings"),
        ({"latitude": "35.7"}, "longitude"),
        ({"latitude": "91", "longitude": "51.4"}, "latitude"),
        (
            {"photos": [SimpleUploadedFile("site.jpg", hostile.html_page(), content_type="image/jpeg")]},
            "photos",
        ),
    ],
)
def test_a_report_with_a_bad_field_or_photo_is_refused_naming_it_and_stores_nothing(
    client_for, world, fields, field
):
    case = world.case
    before = snapshot(case)
    body = {"outcome": "done", "findings": "Clear.", **fields}
    response = client_for(world.inspector, language="en").post(
        url(case, "visit", "inspection"), body, format="multipart"
    )
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert snapshot(case) == before


def test_the_signatory_reads_the_sheet_and_signs_with_a_fresh_code(
    client_for, world, django_capture_on_commit_callbacks
):
    case = at_signature(world)
    app = authenticator(world.signatory)
    client = client_for(world.signatory, token=True)

    sheet = client.get(url(case, "sign", "signature"))
    assert sheet.status_code == 200
    assert sheet.json()["sha256"] == signature_sheet(case, step_id="sign").sha256
    assert [draft["output"] for draft in sheet.json()["drafts"]] == ["permit"]

    refused = client.post(
        url(case, "sign", "signature"),
        {"outcome": "approve", "confirm": True, "code": "000000", "sha256": sheet.json()["sha256"]},
        format="json",
    )
    assert refused.status_code == 403 and "code" in refused.json()["errors"]
    assert open_steps(case) == {"sign"}

    with django_capture_on_commit_callbacks(execute=True):
        signed = client.post(
            url(case, "sign", "signature"),
            {"outcome": "approve", "confirm": True, "code": app.now(), "sha256": sheet.json()["sha256"]},
            format="json",
        )
    assert signed.status_code == 200, signed.json()
    evidence = case.events.get(step_id="sign", activity="completed").data["evidence"]["signature"]
    assert (evidence["signed_by"], evidence["method"]) == (world.signatory.pk, "totp")
    assert world.issued == [(case.pk, "permit")]


def test_a_sheet_that_changed_since_it_was_read_signs_nothing(client_for, world):
    case = at_signature(world)
    app = authenticator(world.signatory)
    response = client_for(world.signatory).post(
        url(case, "sign", "signature"),
        {"outcome": "approve", "confirm": True, "code": app.now(), "sha256": "0" * 64},
        format="json",
    )
    assert response.status_code == 409
    assert open_steps(case) == {"sign"}


def test_staff_of_another_district_or_role_get_nothing(client_for, world):
    case = at_signature(world)
    elsewhere = make_staff(role="signatory", district=make_district("d09"))
    assert client_for(elsewhere).get(url(case, "sign", "signature")).status_code == 404
    assert client_for(world.inspector).post(
        url(case, "sign", "signature"),
        {"outcome": "approve", "confirm": True, "code": "123456", "sha256": "0" * 64},
        format="json",
    ).status_code in (403, 409)
    assert open_steps(case) == {"sign"}
