"""The staff inbox at the steps done away from the desk's usual decisions: an inspector records a
site visit (findings, where, photos taken there) and a signatory signs what will be issued, with
an explicit confirmation and a fresh authenticator code. And experts never see the applicant's
contact details, even when the form asked for them."""

import io
from types import SimpleNamespace

import pyotp
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from pishkhan.accounts.models import User
from pishkhan.accounts.services import staff_totp_enrol, staff_totp_verify
from pishkhan.cases.documents import INSPECTION_PHOTO, document_upload
from pishkhan.cases.models import CaseDocument, CaseStatus, Position, PositionState
from pishkhan.cases.services import case_advance
from pishkhan.cases.signatures import signature_sheet
from tests.cases import hostile
from tests.cases.factories import make_district, make_staff, publish_definition, small_process, submit_case

from .helpers import text_of

pytestmark = pytest.mark.django_db

OWNER_MOBILE = "09351239876"


def fieldwork_process() -> dict:
    """visit (inspector, inspection: done → sign, refer → visit_review) → sign (signatory,
    signature: approve → issue, reject → rejected) → issue (issue_document `permit`) → issued.
    The form asks for the owner's mobile, which no expert may see."""
    base = small_process(code="fieldwork-permit")
    fields = [
        *base["fields"],
        {"id": "owner_mobile", "type": "mobile", "label": {"fa": "تلفن همراه مالک", "en": "Owner's mobile"}},
    ]
    legal = {"law": "آیین‌نامه آزمایشی", "article": "ماده ۱"}
    steps = [
        {
            "id": "visit",
            "title": {"fa": "بازدید از محل", "en": "Visit the site"},
            "role": "inspector",
            "kind": "inspection",
            "deadline_days": 3,
            "legal_basis": legal,
            "outcomes": [
                {"outcome": "done", "to": "sign"},
                {
                    "outcome": "refer",
                    "to": "visit_review",
                    "label": {"fa": "تخلف در محل", "en": "Violation on site"},
                },
            ],
        },
        {
            "id": "visit_review",
            "title": {"fa": "بررسی تخلف", "en": "Review the violation"},
            "role": "clerk",
            "kind": "review",
            "deadline_days": 2,
            "legal_basis": legal,
            "outcomes": [{"outcome": "approve", "to": "sign"}],
        },
        {
            "id": "sign",
            "title": {"fa": "امضای مجوز", "en": "Sign the permit"},
            "role": "signatory",
            "kind": "signature",
            "deadline_days": 2,
            "legal_basis": legal,
            "outcomes": [{"outcome": "approve", "to": "issue"}, {"outcome": "reject", "to": "rejected"}],
        },
        next(step for step in base["steps"] if step["id"] == "issue"),
        *(step for step in base["steps"] if step["kind"] == "end"),
    ]
    documents = [{**base["documents"][0], "step": "visit"}]
    return {**base, "start": "visit", "steps": steps, "fields": fields, "documents": documents, "fees": []}


@pytest.fixture
def issued(monkeypatch):
    """Stands in for cases.issuing.document_issue (tested on its own): no PDF is rendered here."""
    from pishkhan.cases import issuing

    calls = []

    def document_issue(*, case, output_id, now=None):
        calls.append((case.pk, output_id))
        return SimpleNamespace(number=f"TEST-{len(calls)}")

    monkeypatch.setattr(issuing, "document_issue", document_issue)
    return calls


@pytest.fixture
def world(db, issued):
    district = make_district()
    service = publish_definition(fieldwork_process())
    case = submit_case(
        service=service,
        district=district,
        answers={"area_m2": 12, "night_work": False, "owner_mobile": OWNER_MOBILE},
    )
    return SimpleNamespace(
        district=district,
        service=service,
        case=case,
        inspector=make_staff(role="inspector", district=district, first_name="Iraj", last_name="Inspector"),
        signatory=make_staff(role="signatory", district=district, first_name="Sima", last_name="Signer"),
        issued=issued,
    )


def case_url(case) -> str:
    return reverse("desk:inbox_case", kwargs={"tracking_code": case.tracking_code})


def photo(name="site.jpg", kind="jpeg") -> SimpleUploadedFile:
    content = hostile.jpeg(64, 48) if kind == "jpeg" else hostile.png(64, 48)
    return SimpleUploadedFile(name, content, content_type=f"image/{kind}")


def visit(case, **fields):
    data = {"step": "visit", "outcome": "done", "findings": "The trench line is clear of trees."}
    data.update(fields)
    return data


def open_steps(case) -> set[str]:
    return set(case.positions.values_list("step_id", flat=True))


def authenticator(user: User) -> pyotp.TOTP:
    """Enrol `user`'s authenticator app (as the staff sign-in does) and return it."""
    staff_totp_enrol(user=user)
    User.objects.filter(pk=user.pk).update(totp_confirmed=True)
    user.refresh_from_db()
    return pyotp.TOTP(user.totp_secret, interval=30)


def at_signature(world):
    """The case after the inspector's visit: waiting at `sign`."""
    case_advance(case=world.case, step_id="visit", outcome="done", actor=world.inspector)
    assert open_steps(world.case) == {"sign"}
    return world.case


def sign(client, case, *, code, confirm=True, sha256=None):
    data = {
        "step": "sign",
        "outcome": "approve",
        "code": code,
        "shown_sha256": sha256 or signature_sheet(case, step_id="sign").sha256,
    }
    if confirm:
        data["confirm"] = "on"
    return client.post(case_url(case), data)


# --- inspection --------------------------------------------------------------------------------


def test_the_inspection_step_offers_the_report_with_camera_photos_and_location(client, english, world):
    client.force_login(world.inspector)

    response = client.get(case_url(world.case))

    page = response.content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'accept="image/*"' in page and 'capture="environment"' in page and "multiple" in page
    assert 'name="latitude"' in page and 'name="longitude"' in page
    assert "Use my current location" in page  # hidden until the script finds geolocation
    assert '<label for="visit-findings">What you found on site:</label>' in page
    text = text_of(response)
    assert "Record the visit and finish the step" in text
    assert "Violation on site" in text  # the definition's own label for `refer`


def test_an_inspector_records_the_visit_with_photos_location_and_findings(client, english, world):
    client.force_login(world.inspector)

    response = client.post(
        case_url(world.case),
        visit(
            world.case,
            latitude="۳۱٫۸۹۷۴۱۲",  # Persian digits and decimal separator, as the phone fills them
            longitude="54.356901",
            accuracy="12.5",
            location_source="device",
            photos=[photo("north.jpg"), photo("south.png", kind="png")],
        ),
    )

    assert response.status_code == 302
    photos = CaseDocument.objects.filter(case=world.case, document_type=INSPECTION_PHOTO).order_by("pk")
    assert [(p.original_name, p.step_id, p.uploaded_by) for p in photos] == [
        ("north.jpg", "visit", world.inspector),
        ("south.png", "visit", world.inspector),
    ]
    assert all(p.replaces is None for p in photos)  # the photos of a visit add up
    event = world.case.events.get(activity="completed", step_id="visit")
    assert (event.outcome, event.actor) == ("done", world.inspector)
    assert event.data["evidence"]["inspection"] == {
        "findings": "The trench line is clear of trees.",
        "location": {"lat": 31.897412, "lng": 54.356901, "accuracy_m": 12.5, "source": "device"},
        "photos": [p.pk for p in photos],
    }
    assert open_steps(world.case) == {"sign"}
    assert "The visit is recorded with 2 photos" in text_of(client.get(response["Location"]))


def test_staff_see_the_visit_later_with_thumbnails_served_after_the_permission_check(client, world):
    client.force_login(world.inspector)
    client.post(
        case_url(world.case), visit(world.case, latitude="31.8974", longitude="54.3569", photos=[photo()])
    )
    document = CaseDocument.objects.get(case=world.case, document_type=INSPECTION_PHOTO)
    download = reverse(
        "cases:document_download",
        kwargs={"tracking_code": world.case.tracking_code, "document_id": document.pk},
    )

    client.force_login(world.signatory)
    response = client.get(case_url(world.case))

    page = response.content.decode()
    assert f'<img src="{download}?preview=1"' in page
    assert "۳۱.۸۹۷۴, ۵۴.۳۵۶۹" in text_of(response)  # the place, in Persian digits
    assert "The trench line is clear of trees." in text_of(response)
    assert 'href="geo:31.8974,54.3569"' in page
    thumbnail = client.get(download + "?preview=1")
    assert (thumbnail.status_code, thumbnail["Content-Type"]) == (200, "image/jpeg")
    # Read, not close(): closing a response sends request_finished, which closes the database
    # connection under the test's transaction (PostgreSQL).
    assert b"".join(thumbnail.streaming_content).startswith(b"\xff\xd8")
    client.force_login(make_staff(role="signatory", district=make_district()))
    assert client.get(download + "?preview=1").status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("site.jpg", hostile.html_page(), "web page"),
        ("site.svg", hostile.svg_with_script(), "SVG"),
        ("site.jpg", hostile.jpeg_with_zip(), "ZIP"),
        ("deed.pdf", hostile.pdf(), "JPEG or PNG"),
    ],
    ids=["html-named-jpg", "svg-with-script", "jpeg-with-zip", "pdf"],
)
def test_a_refused_photo_stores_nothing_and_completes_nothing(client, english, world, name, content, reason):
    client.force_login(world.inspector)
    events_before = world.case.events.count()

    response = client.post(
        case_url(world.case),
        visit(
            world.case,
            latitude="31.8974",
            longitude="54.3569",
            photos=[photo("ok.jpg"), SimpleUploadedFile(name, content)],
        ),
    )

    assert response.status_code == 400
    text = text_of(response)
    assert f"Photo 2 ({name}) was not accepted" in text
    assert reason in text
    assert "The trench line is clear of trees." in response.content.decode()  # what was typed stays
    assert 'value="31.8974"' in response.content.decode()
    assert not CaseDocument.objects.filter(case=world.case).exists()
    assert world.case.events.count() == events_before
    assert open_steps(world.case) == {"visit"}


def test_an_oversized_photo_is_refused_with_the_limit(client, english, world, settings):
    settings.UPLOAD_MAX_MB = 1
    buffer = io.BytesIO()
    Image.effect_noise((1200, 1200), 100).convert("RGB").save(buffer, "PNG")
    assert buffer.tell() > 1024 * 1024
    client.force_login(world.inspector)

    response = client.post(
        case_url(world.case), visit(world.case, photos=[SimpleUploadedFile("big.png", buffer.getvalue())])
    )

    assert response.status_code == 413
    assert "1 MB" in text_of(response)
    assert not CaseDocument.objects.filter(case=world.case).exists()


def test_findings_are_required_and_the_location_needs_both_numbers(client, english, world):
    client.force_login(world.inspector)

    response = client.post(case_url(world.case), visit(world.case, findings="  ", latitude="31.89"))

    assert response.status_code == 400
    text = text_of(response)
    assert "Write what you found on site." in text
    assert "Give both the latitude and the longitude, or neither." in text
    assert 'aria-invalid="true"' in response.content.decode()
    assert open_steps(world.case) == {"visit"}


def test_a_location_outside_iran_is_refused_saying_which_number_comes_first(client, english, world):
    client.force_login(world.inspector)

    response = client.post(case_url(world.case), visit(world.case, latitude="54.3569", longitude="31.8974"))

    assert response.status_code == 400
    assert "Latitude comes first" in text_of(response)
    assert open_steps(world.case) == {"visit"}


def test_the_location_is_optional_and_shown_as_not_recorded(client, english, world):
    client.force_login(world.inspector)

    response = client.post(case_url(world.case), visit(world.case))

    assert response.status_code == 302
    event = world.case.events.get(activity="completed", step_id="visit")
    assert event.data["evidence"]["inspection"]["location"] is None
    assert "Location of the visit Not recorded." in text_of(client.get(case_url(world.case)))


def test_more_photos_than_a_visit_takes_are_refused(client, english, world):
    client.force_login(world.inspector)

    response = client.post(
        case_url(world.case), visit(world.case, photos=[photo(f"{n}.jpg") for n in range(11)])
    )

    assert response.status_code == 400
    assert "Send at most 10 photos of one visit." in text_of(response)
    assert not CaseDocument.objects.filter(case=world.case).exists()


def test_the_refer_outcome_records_the_visit_too(client, world):
    client.force_login(world.inspector)

    response = client.post(case_url(world.case), visit(world.case, outcome="refer", photos=[photo()]))

    assert response.status_code == 302
    event = world.case.events.get(activity="completed", step_id="visit")
    assert event.outcome == "refer"
    assert len(event.data["evidence"]["inspection"]["photos"]) == 1
    assert open_steps(world.case) == {"visit_review"}


def test_only_who_may_complete_the_step_records_a_visit(client, world):
    manager = make_staff(role="manager", district=world.district)  # sees every case of the district
    client.force_login(manager)
    assert client.post(case_url(world.case), visit(world.case, photos=[photo()])).status_code == 403

    client.force_login(make_staff(role="inspector", district=make_district()))
    assert client.post(case_url(world.case), visit(world.case, photos=[photo()])).status_code == 404

    other = make_staff(role="inspector", district=world.district)
    Position.objects.filter(case=world.case, step_id="visit").update(
        state=PositionState.CLAIMED, assignee=other
    )
    client.force_login(world.inspector)
    assert client.post(case_url(world.case), visit(world.case, photos=[photo()])).status_code == 409

    assert not CaseDocument.objects.filter(case=world.case).exists()
    assert not world.case.events.filter(activity="completed").exists()


def test_photos_of_a_visit_cannot_come_through_the_ordinary_upload(world):
    from pishkhan.cases.files import DocumentRejected

    upload = photo()
    with pytest.raises(DocumentRejected) as refused:
        document_upload(
            case=world.case, document_type=INSPECTION_PHOTO, upload=upload, by=world.case.applicant
        )
    assert refused.value.code == "unknown_document"  # not an inspection step
    with pytest.raises(DocumentRejected) as refused:
        document_upload(
            case=world.case,
            document_type=INSPECTION_PHOTO,
            upload=upload,
            by=world.case.applicant,
            step_id="visit",
        )
    assert refused.value.status == 403  # the applicant does not inspect


# --- signature ---------------------------------------------------------------------------------


def test_the_signatory_reads_what_is_signed_before_signing(client, english, world):
    case = at_signature(world)
    client.force_login(world.signatory)

    response = client.get(case_url(case))

    text = text_of(response)
    assert "What you are signing" in text
    assert "Draft: مجوز آزمایشی" in text  # the permit the signature issues, as it is printed
    assert "valid for 365 days from its issue" in text
    assert "مساحت (مترمربع) ۱۲" in text  # its key facts
    assert signature_sheet(case, step_id="sign").sha256 in text
    page = response.content.decode()
    assert 'name="confirm"' in page and 'autocomplete="one-time-code"' in page
    assert "I have read this and I sign it" in text
    assert OWNER_MOBILE not in page


def test_signing_with_a_fresh_code_records_who_when_and_the_digest_of_what_was_shown(
    client, world, django_capture_on_commit_callbacks
):
    case = at_signature(world)
    app = authenticator(world.signatory)
    digest = signature_sheet(case, step_id="sign").sha256
    client.force_login(world.signatory)

    with django_capture_on_commit_callbacks(execute=True):  # the permit is issued after commit
        response = sign(client, case, code=app.now())

    assert response.status_code == 302, text_of(response)
    event = case.events.get(activity="completed", step_id="sign")
    assert (event.outcome, event.actor) == ("approve", world.signatory)
    signature = event.data["evidence"]["signature"]
    assert signature["signed_by"] == world.signatory.pk
    assert signature["sha256"] == digest
    assert signature["method"] == "totp"
    assert signature["outputs"] == ["permit"]
    assert signature["signed_at"] == event.completed_at.isoformat()
    assert world.issued == [(case.pk, "permit")]  # the permit was issued on the strength of it
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED
    history = text_of(client.get(case_url(case)))
    assert digest[:16] in history


def test_a_wrong_code_is_refused_and_nothing_changes(client, english, world):
    case = at_signature(world)
    app = authenticator(world.signatory)
    wrong = app.at(0)  # 1970's code
    client.force_login(world.signatory)

    response = sign(client, case, code=wrong)

    assert response.status_code == 403
    assert "This authenticator code is not correct." in text_of(response)
    assert f'value="{wrong}"' not in response.content.decode()  # a new code is typed
    assert open_steps(case) == {"sign"}
    assert not case.events.filter(step_id="sign", activity="completed").exists()


def test_the_code_used_to_sign_in_cannot_sign(client, english, world):
    case = at_signature(world)
    app = authenticator(world.signatory)
    code = app.now()
    staff_totp_verify(user=world.signatory, code=code)  # the sign-in that just used it
    client.force_login(world.signatory)

    response = sign(client, case, code=code)

    assert response.status_code == 403
    assert "This code has already been used." in text_of(response)
    assert open_steps(case) == {"sign"}


def test_a_code_cannot_sign_twice(client, english, world):
    first = at_signature(world)
    second = submit_case(service=world.service, district=world.district)
    case_advance(case=second, step_id="visit", outcome="done", actor=world.inspector)
    code = authenticator(world.signatory).now()
    client.force_login(world.signatory)
    assert sign(client, first, code=code).status_code == 302

    replayed = sign(client, second, code=code)

    assert replayed.status_code == 403
    assert "This code has already been used." in text_of(replayed)
    assert not second.events.filter(step_id="sign", activity="completed").exists()


def test_signing_needs_the_explicit_confirmation_and_spends_no_code_without_it(client, english, world):
    case = at_signature(world)
    app = authenticator(world.signatory)
    client.force_login(world.signatory)

    response = sign(client, case, code=app.now(), confirm=False)

    assert response.status_code == 400
    assert "Tick the box to confirm that you have read it and sign it." in text_of(response)
    world.signatory.refresh_from_db()
    assert world.signatory.totp_last_step == 0  # the code can still be used
    assert open_steps(case) == {"sign"}


def test_a_case_that_changed_while_the_signatory_read_it_is_not_signed(client, english, world):
    case = at_signature(world)
    app = authenticator(world.signatory)
    shown = signature_sheet(case, step_id="sign").sha256
    # A document arrives after the page was shown: the sheet is no longer what was read.
    document_upload(
        case=case,
        document_type="deed",
        upload=SimpleUploadedFile("deed.pdf", hostile.pdf()),
        by=case.applicant,
    )
    client.force_login(world.signatory)

    response = sign(client, case, code=app.now(), sha256=shown)

    assert response.status_code == 409
    assert "The case changed while you were reading it" in text_of(response)
    assert signature_sheet(case, step_id="sign").sha256 in response.content.decode()  # the new sheet
    world.signatory.refresh_from_db()
    assert world.signatory.totp_last_step == 0
    assert open_steps(case) == {"sign"}


def test_rejecting_at_a_signature_step_needs_a_reason_but_no_code(client, english, world):
    case = at_signature(world)
    client.force_login(world.signatory)

    refused = client.post(case_url(case), {"step": "sign", "outcome": "reject", "reason_choice": ""})
    assert refused.status_code == 400
    assert "Choose the reason for rejecting" in text_of(refused)
    assert open_steps(case) == {"sign"}

    response = client.post(
        case_url(case),
        {"step": "sign", "outcome": "reject", "reason_choice": "other", "reason": "Outside the plan"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.REJECTED


def test_only_the_holder_of_the_signature_step_signs(client, world):
    case = at_signature(world)
    manager = make_staff(role="manager", district=world.district)
    manager_app = authenticator(manager)
    client.force_login(manager)
    assert sign(client, case, code=manager_app.now()).status_code == 403
    manager.refresh_from_db()
    assert manager.totp_last_step == 0  # refused before the code was spent

    stranger = make_staff(role="signatory", district=make_district())
    client.force_login(stranger)
    assert sign(client, case, code=authenticator(stranger).now()).status_code == 404

    other = make_staff(role="signatory", district=world.district)
    Position.objects.filter(case=case, step_id="sign").update(state=PositionState.CLAIMED, assignee=other)
    client.force_login(world.signatory)
    assert sign(client, case, code=authenticator(world.signatory).now()).status_code == 409

    assert open_steps(case) == {"sign"}
    assert not case.events.filter(step_id="sign", activity="completed").exists()


# --- privacy -----------------------------------------------------------------------------------


def test_experts_do_not_see_the_applicants_mobile_even_when_the_form_asked_for_it(client, english, world):
    client.force_login(world.inspector)

    response = client.get(case_url(world.case))

    page = response.content.decode()
    for secret in (
        OWNER_MOBILE,
        "۰۹۳۵۱۲۳۹۸۷۶",
        world.case.applicant.mobile,
        world.case.applicant.national_id,
    ):
        assert secret not in page
    assert "Owner's mobile Not shown: contact with the applicant goes through the system." in text_of(
        response
    )
