"""The applicant's side of a case over the API: the list and its filters, a case, its timeline,
its documents (download and upload), answering a correction and withdrawing."""

import pytest

from pishkhan.cases.models import CaseDocument
from pishkhan.cases.services import case_advance, case_claim

from .conftest import pdf_upload

pytestmark = pytest.mark.django_db


def case_url(case, rest=""):
    return f"/api/v1/cases/{case.tracking_code}/{rest}"


def test_my_cases_filter_by_status_and_a_bad_status_is_named(city, client_for):
    client = client_for(city.citizen1, language="en")
    client.post(case_url(city.online_a, "withdraw/"), {}, format="json")
    open_cases = client.get("/api/v1/cases/?status=open").json()
    withdrawn = client.get("/api/v1/cases/?status=withdrawn").json()
    assert open_cases["count"] == 0
    assert [row["tracking_code"] for row in withdrawn["results"]] == [city.online_a.tracking_code]
    bad = client.get("/api/v1/cases/?status=lost")
    assert bad.status_code == 400
    assert list(bad.json()["errors"]) == ["status"]


def test_the_search_takes_a_tracking_code_as_people_type_it(city, client_for):
    code = city.online_a.tracking_code
    persian = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    typed = f"{persian[:4]}-{persian[4:8]} {persian[8:]}"
    response = client_for(city.citizen1).get("/api/v1/cases/", {"q": typed})
    assert [row["tracking_code"] for row in response.json()["results"]] == [code]


def test_a_case_is_found_by_its_code_typed_in_persian_digits(city, client_for):
    code = city.online_a.tracking_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    response = client_for(city.citizen1).get(f"/api/v1/cases/{code}/")
    assert response.status_code == 200
    assert response.json()["tracking_code"] == city.online_a.tracking_code


def test_the_citizens_timeline_names_roles_never_staff_while_staff_see_who_acted(city, client_for):
    case = city.online_a
    case_claim(position=case.positions.get(step_id="review"), actor=city.clerk_a)
    case_advance(case=case, step_id="review", outcome="approve", actor=city.clerk_a)
    citizen_view = client_for(city.citizen1, language="en").get(case_url(case, "timeline/")).json()
    staff_view = client_for(city.clerk_a, language="en").get(case_url(case, "timeline/")).json()

    assert [e["activity"] for e in citizen_view] == ["submitted", "document_uploaded", "completed"]
    completed = citizen_view[-1]
    assert (completed["step_id"], completed["outcome"], completed["role"]) == ("review", "approve", "clerk")
    assert completed["step_title"] == "Check the documents"
    assert all(entry["actor_name"] is None for entry in citizen_view)
    for name in (city.clerk_a.first_name, city.clerk_a.last_name, city.clerk_a.username):
        assert name not in str(citizen_view)

    assert "claimed" in [e["activity"] for e in staff_view]
    assert staff_view[-1]["actor_name"] == str(city.clerk_a)


def test_a_document_downloads_as_an_attachment_that_no_browser_may_sniff(city, client_for):
    case = city.online_a
    document = case.documents.get()
    listing = client_for(city.citizen1).get(case_url(case, "documents/")).json()
    assert [(d["id"], d["document_type"], d["content_type"]) for d in listing] == [
        (document.pk, "deed", "application/pdf")
    ]
    response = client_for(city.citizen1).get(listing[0]["download"], HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="deed.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


def test_a_document_of_another_case_is_not_found_through_this_one(city, client_for):
    other = city.office_a.documents.get()
    # Citizen 1 names their own case but citizen 2's document id.
    response = client_for(city.citizen1).get(case_url(city.online_a, f"documents/{other.pk}/download/"))
    assert response.status_code == 404


def test_an_upload_is_checked_by_its_content_and_a_refusal_says_why(city, client_for):
    client = client_for(city.citizen1, language="en")
    disguised = pdf_upload(name="deed.pdf", content=b"<html><script>alert(1)</script></html>")
    response = client.post(
        case_url(city.online_a, "documents/"),
        {"document_type": "deed", "file": disguised},
        format="multipart",
    )
    assert response.status_code == 400
    data = response.json()
    assert list(data["errors"]) == ["file"]
    assert data["detail"] == data["errors"]["file"][0]
    assert city.online_a.documents.count() == 1


def test_an_upload_of_a_document_the_service_does_not_ask_for_names_the_document_type(city, client_for):
    response = client_for(city.citizen1).post(
        case_url(city.online_a, "documents/"),
        {"document_type": "passport", "file": pdf_upload()},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_document"
    assert list(response.json()["errors"]) == ["document_type"]


def test_an_upload_without_a_file_names_the_field(city, client_for):
    response = client_for(city.citizen1).post(
        case_url(city.online_a, "documents/"), {"document_type": "deed"}, format="multipart"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["file"]


def test_the_applicant_uploads_what_was_asked_and_answers_the_correction(city, client_for):
    case = city.online_a
    request = {"missing": ["deed"], "message": "The deed is unreadable.", "due_days": 5}
    case_advance(case=case, step_id="review", outcome="return", actor=city.clerk_a, request=request)
    client = client_for(city.citizen1, language="en")

    shown = client.get(case_url(case)).json()
    assert shown["status"] == "with_citizen"
    assert shown["positions"][0]["request"]["message"] == "The deed is unreadable."

    early = client.post(case_url(case, "answer/"), {"message": "Here."}, format="json")
    assert early.status_code == 400
    assert early.json()["code"] == "documents_missing"
    assert list(early.json()["errors"]) == ["documents.deed"]

    uploaded = client.post(
        case_url(case, "documents/"), {"document_type": "deed", "file": pdf_upload()}, format="multipart"
    )
    assert uploaded.status_code == 201
    answered = client.post(case_url(case, "answer/"), {"message": "Here."}, format="json")
    assert answered.status_code == 200
    assert answered.json()["status"] == "open"
    assert CaseDocument.objects.filter(case=case).count() == 2


def test_answering_when_nothing_waits_for_a_correction_is_a_409_that_changes_nothing(city, client_for):
    before = city.online_a.event_seq
    response = client_for(city.citizen1).post(case_url(city.online_a, "answer/"), {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "nothing_to_answer"
    city.online_a.refresh_from_db()
    assert city.online_a.event_seq == before


def test_the_office_that_filed_a_case_withdraws_it_and_a_second_withdrawal_is_refused(city, client_for):
    client = client_for(city.operator_x)
    first = client.post(case_url(city.office_a, "withdraw/"), {"reason": "The citizen changed their mind."})
    assert first.status_code == 200
    assert first.json()["status"] == "withdrawn"
    assert first.json()["positions"] == []
    again = client.post(case_url(city.office_a, "withdraw/"), {})
    assert again.status_code == 409
    assert again.json()["code"] == "closed"


def test_the_clerk_who_may_see_a_case_still_may_not_withdraw_it(city, client_for):
    response = client_for(city.clerk_a).post(case_url(city.online_a, "withdraw/"), {})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
