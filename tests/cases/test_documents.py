"""Documents of a case: who may upload, what the definition allows, that a refused upload leaves
nothing behind, and that files are only ever served after the case's permission check."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from pishkhan.cases.documents import document_rules, document_upload
from pishkhan.cases.files import DocumentRejected
from pishkhan.cases.issuing import document_issue
from pishkhan.cases.models import CaseDocument, CaseEvent, StoredFile
from pishkhan.cases.services import case_withdraw
from tests.cases import hostile
from tests.cases.factories import (
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

DOCUMENTS = [
    {
        "id": "deed",
        "title": {"fa": "سند مالکیت"},
        "formats": ["pdf", "jpg"],
        "max_size_mb": 1,
        "step": "review",
    },
    {
        "id": "photo",
        "title": {"fa": "عکس محل"},
        "formats": ["jpg", "png", "tiff"],
        "max_size_mb": 8,
        "required": False,
        "step": "inspect",
    },
    {
        "id": "drawings",
        "title": {"fa": "نقشه‌ها"},
        "formats": ["zip", "dwg"],
        "max_size_mb": 5,
        "required": False,
        "step": "review",
    },
]
MB = 1024 * 1024


@pytest.fixture
def district():
    return make_district("d03")


@pytest.fixture
def service():
    return publish_definition(small_process(code="fence-permit", documents=DOCUMENTS))


@pytest.fixture
def case(service, district):
    return submit_case(service=service, district=district, applicant=make_citizen())


def upload(content: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, content, content_type="application/pdf"
    )  # what the browser says is ignored


def files_in_storage() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def assert_nothing_stored(case):
    assert StoredFile.objects.count() == 0
    assert CaseDocument.objects.count() == 0
    assert files_in_storage() == []
    assert not CaseEvent.objects.filter(case=case, activity="document_uploaded").exists()


# --- uploading ----------------------------------------------------------------------------------


def test_the_applicant_uploads_a_document_and_the_log_records_it(case):
    document = document_upload(
        case=case, document_type="deed", upload=upload(hostile.pdf(), "سند.pdf"), by=case.applicant
    )
    assert document.case == case
    assert document.original_name == "سند.pdf"
    assert document.file.content_type == "application/pdf"
    assert document.replaces is None
    event = CaseEvent.objects.get(case=case, activity="document_uploaded")
    assert event.actor == case.applicant
    assert event.data["document"] == "deed"
    assert event.data["document_id"] == document.pk
    assert event.data["sha256"] == document.file.sha256
    case.refresh_from_db()
    assert case.event_seq == event.seq  # the chain's head moved


def test_the_same_file_uploaded_twice_is_stored_once_and_the_second_replaces_the_first(case):
    first = document_upload(
        case=case, document_type="photo", upload=upload(hostile.png(), "a.png"), by=case.applicant
    )
    second = document_upload(
        case=case, document_type="photo", upload=upload(hostile.png(), "b.png"), by=case.applicant
    )
    assert first.file_id == second.file_id
    assert second.replaces == first
    assert StoredFile.objects.count() == 1
    assert len(files_in_storage()) == 1
    assert files_in_storage()[0].name == first.file.sha256


@pytest.mark.parametrize(
    ("document_type", "content", "name"),
    [
        ("deed", hostile.jpeg(), "deed.jpg"),
        ("photo", hostile.tiff(), "site.tiff"),
        ("drawings", hostile.zip_of({"plan.pdf": hostile.pdf()}), "plans.zip"),
    ],
)
def test_each_document_takes_the_formats_its_definition_lists(case, document_type, content, name):
    document = document_upload(
        case=case, document_type=document_type, upload=upload(content, name), by=case.applicant
    )
    assert document.document_type == document_type


def test_the_operator_of_the_filing_office_may_upload(service, district):
    office = make_office(district=district)
    operator = make_operator(office=office)
    case = submit_case(service=service, district=district, channel="office", filed_by=operator, office=office)
    document = document_upload(
        case=case, document_type="deed", upload=upload(hostile.pdf(), "deed.pdf"), by=operator
    )
    event = CaseEvent.objects.get(case=case, activity="document_uploaded")
    assert event.office == office
    assert document.uploaded_by == operator


def test_a_clerk_who_holds_the_case_in_their_queue_may_upload(case, district):
    clerk = make_staff(role="clerk", district=district)
    document_upload(
        case=case, document_type="deed", upload=upload(hostile.pdf(), "scan.pdf"), by=clerk, step_id="review"
    )
    assert CaseDocument.objects.get().step_id == "review"


@pytest.mark.parametrize(
    "who",
    [
        "another citizen",
        "a clerk of another district",
        "an auditor",
        "an operator of another office",
        "nobody",
    ],
)
def test_others_may_not_upload(case, who):
    uploader = {
        "another citizen": lambda: make_citizen(),
        "a clerk of another district": lambda: make_staff(role="clerk", district=make_district("d09")),
        "an auditor": lambda: make_staff(role="auditor"),  # reads every case, changes none
        "an operator of another office": lambda: make_operator(),
        "nobody": lambda: None,
    }[who]()
    with pytest.raises(DocumentRejected) as refused:
        document_upload(
            case=case, document_type="deed", upload=upload(hostile.pdf(), "deed.pdf"), by=uploader
        )
    assert (refused.value.code, refused.value.status) == ("forbidden", 403)
    assert_nothing_stored(case)


def test_a_document_the_process_does_not_ask_for_is_refused(case):
    with pytest.raises(DocumentRejected) as refused:
        document_upload(
            case=case, document_type="passport", upload=upload(hostile.pdf(), "p.pdf"), by=case.applicant
        )
    assert refused.value.code == "unknown_document"
    assert_nothing_stored(case)


def test_a_closed_case_takes_no_more_documents(case):
    case_withdraw(case=case, actor=case.applicant)
    case.refresh_from_db()
    with pytest.raises(DocumentRejected) as refused:
        document_upload(
            case=case, document_type="deed", upload=upload(hostile.pdf(), "deed.pdf"), by=case.applicant
        )
    assert (refused.value.code, refused.value.status) == ("closed", 409)
    assert_nothing_stored(case)


def test_the_size_limit_is_the_documents_capped_by_the_citys(case, settings):
    assert document_rules(case, "photo").max_bytes == 8 * MB
    settings.UPLOAD_MAX_MB = 2
    assert document_rules(case, "photo").max_bytes == 2 * MB
    assert document_rules(case, "deed").max_bytes == 1 * MB


# --- the hostile set through document_upload: refused, nothing stored --------------------------


@pytest.mark.parametrize(
    ("document_type", "content", "name", "code"),
    [
        ("deed", b"", "deed.pdf", "empty"),
        ("deed", hostile.padded_pdf(1 * MB + 1), "deed.pdf", "too_large"),
        ("deed", hostile.docx(), "deed.docx", "type_not_allowed"),
        ("deed", hostile.exe(), "deed.pdf", "type_not_allowed"),
        ("deed", hostile.png(), "deed.png", "type_not_allowed"),  # PNG is not among the deed's formats
        ("photo", hostile.png(), "site.jpg", "extension_mismatch"),
        ("photo", hostile.jpeg_with_zip(), "site.jpg", "polyglot"),
        ("deed", hostile.pdf_with_html_appended(), "deed.pdf", "polyglot"),
        ("photo", hostile.png_with_html(), "site.png", "polyglot"),
        ("photo", hostile.svg_with_script(), "site.svg", "svg"),
        ("deed", hostile.html_page(), "deed.pdf", "markup"),
        ("drawings", hostile.zip_bomb(50), "plans.zip", "zip_bomb"),
        ("drawings", hostile.zip_nested(), "plans.zip", "nested_archive"),
        ("deed", hostile.pdf_with_javascript(), "deed.pdf", "active_content"),
        ("photo", hostile.png_claiming(100_000, 100_000), "site.png", "image_too_large"),
    ],
    ids=[
        "empty",
        "one-byte-over",
        "docx-for-pdf",
        "exe-renamed-pdf",
        "type-not-listed",
        "name-says-jpg",
        "jpeg+zip",
        "pdf+html",
        "png-with-html",
        "svg-with-script",
        "html-named-pdf",
        "zip-bomb",
        "nested-zip",
        "pdf-javascript",
        "absurd-dimensions",
    ],
)
def test_a_hostile_upload_is_refused_with_its_own_message_and_nothing_is_stored(
    case, document_type, content, name, code
):
    with pytest.raises(DocumentRejected) as refused:
        document_upload(
            case=case, document_type=document_type, upload=upload(content, name), by=case.applicant
        )
    assert refused.value.code == code
    assert refused.value.message  # a sentence a person can act on
    assert_nothing_stored(case)


def test_the_refusal_of_an_oversized_file_names_the_limit(case):
    with pytest.raises(DocumentRejected) as refused:
        document_upload(
            case=case,
            document_type="deed",
            upload=upload(hostile.padded_pdf(MB + 1), "d.pdf"),
            by=case.applicant,
        )
    assert refused.value.message == "The file is larger than 1 MB, the limit for this document."


def test_the_refusal_of_a_type_says_which_are_allowed(case):
    with pytest.raises(DocumentRejected) as refused:
        document_upload(
            case=case, document_type="deed", upload=upload(hostile.docx(), "d.docx"), by=case.applicant
        )
    assert (
        refused.value.message
        == "This file is a ZIP archive; only PDF or JPEG files are accepted for this document."
    )


# --- downloading --------------------------------------------------------------------------------


@pytest.fixture
def deed(case):
    return document_upload(
        case=case, document_type="deed", upload=upload(hostile.pdf(), "deed.pdf"), by=case.applicant
    )


def fetch(client, url):
    """GET `url` and read a streamed body into `response.body`. Reading it to the end closes the
    response and its file (the test client wraps the stream so), without closing the database
    connection as an explicit `close()` would."""
    response = client.get(url)
    response.body = b"".join(response.streaming_content) if response.streaming else response.content
    return response


def url_of(document) -> str:
    return f"/cases/{document.case.tracking_code}/documents/{document.pk}/"


def test_the_applicant_downloads_their_document_as_an_attachment(client, deed):
    client.force_login(deed.case.applicant)
    response = fetch(client, url_of(deed))
    assert response.status_code == 200
    assert response.body == hostile.pdf()
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="deed.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Cache-Control"] == "private, no-store"
    assert "blobs/" not in response["Content-Disposition"]  # the storage name never leaks


def test_a_preview_shows_a_pdf_or_image_inline(client, case):
    png = document_upload(
        case=case, document_type="photo", upload=upload(hostile.png(), "site.png"), by=case.applicant
    )
    drawings = document_upload(
        case=case,
        document_type="drawings",
        upload=upload(hostile.zip_of({"a.txt": b"a"}), "d.zip"),
        by=case.applicant,
    )
    client.force_login(case.applicant)
    image = fetch(client, url_of(png) + "?preview=1")
    assert image["Content-Disposition"].startswith("inline;")
    assert image["Content-Type"] == "image/png"
    assert image["Content-Security-Policy"] == "sandbox"
    assert image["X-Frame-Options"] == "SAMEORIGIN"  # the staff desk shows it in a frame
    archive = fetch(client, url_of(drawings) + "?preview=1")
    assert archive["Content-Disposition"].startswith("attachment;")  # an archive is never shown


def test_a_pdf_preview_is_served_inline_without_the_sandbox_chrome_refuses(client, deed):
    client.force_login(deed.case.applicant)
    response = fetch(client, url_of(deed) + "?preview=1")
    assert response["Content-Disposition"].startswith("inline;")
    assert "Content-Security-Policy" not in response
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_name_of_a_download_always_ends_in_what_the_file_is(client, case):
    document = document_upload(
        case=case, document_type="photo", upload=upload(hostile.png(), "عکس-محل"), by=case.applicant
    )
    client.force_login(case.applicant)
    disposition = fetch(client, url_of(document))["Content-Disposition"]
    assert "%D8%B9%DA%A9%D8%B3-%D9%85%D8%AD%D9%84.png" in disposition  # RFC 5987, UTF-8


@pytest.mark.parametrize(
    "who", ["another citizen", "a clerk of another district", "an operator of another office"]
)
def test_others_get_not_found_not_forbidden(client, deed, who):
    person = {
        "another citizen": make_citizen,
        "a clerk of another district": lambda: make_staff(role="clerk", district=make_district("d09")),
        "an operator of another office": make_operator,
    }[who]()
    client.force_login(person)
    assert fetch(client, url_of(deed)).status_code == 404


def test_anyone_signed_out_is_sent_to_sign_in(client, deed):
    response = fetch(client, url_of(deed))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/")


def test_staff_who_may_see_the_case_download_it(client, deed, district):
    for person in (make_staff(role="clerk", district=district), make_staff(role="auditor")):
        client.force_login(person)
        assert fetch(client, url_of(deed)).status_code == 200


def test_a_document_is_only_found_under_its_own_case(client, deed, service, district):
    other = submit_case(service=service, district=district, applicant=deed.case.applicant)
    client.force_login(deed.case.applicant)
    assert fetch(client, f"/cases/{other.tracking_code}/documents/{deed.pk}/").status_code == 404
    assert fetch(client, f"/cases/0000000000/documents/{deed.pk}/").status_code == 404


def test_an_issued_pdf_is_downloaded_by_the_applicant_only(client, case):
    issued = document_issue(case=case, output_id="permit")
    url = f"/cases/{case.tracking_code}/issued/{issued.number}.pdf"
    client.force_login(case.applicant)
    response = fetch(client, url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{issued.number}.pdf"' in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    client.force_login(make_citizen())
    assert fetch(client, url).status_code == 404
