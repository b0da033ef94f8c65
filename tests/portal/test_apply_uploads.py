"""Files inside the application form: a file is checked as it arrives (with the form, or alone
through the upload endpoint the form's script uses), kept with the draft so nothing typed or
uploaded is lost, replaced or removed, and attached to the case as its document when the form is
sent. Hostile and oversized files are refused next to their field with nothing stored. The same at
the office counter, where the documents are kept with the citizen's consent. Also: a date as the
calendar writes it, and a map point."""

import hashlib
import html as htmllib
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from pishkhan.cases.models import Case, CaseDocument, StoredFile
from pishkhan.portal.models import ApplicationDraft
from tests.cases import hostile
from tests.cases.factories import (
    make_staff,
    mobile_new,
    national_id_new,
    publish_definition,
    small_process,
)
from tests.portal.test_counter import give_consent

pytestmark = pytest.mark.django_db
LIMIT_MB = 1


def upload_process(code: str = "upload-permit") -> dict:
    """small_process with a required deed scan in the form (a file field), an ID card the first
    step asks for (a document no field uploads), a later step's site plan, a date and a map point."""
    label = lambda fa, en: {"fa": fa, "en": en}  # noqa: E731
    return small_process(
        code=code,
        documents=[
            {
                "id": "deed",
                "title": label("سند مالکیت", "Title deed"),
                "formats": ["pdf", "jpg"],
                "max_size_mb": LIMIT_MB,
                "step": "review",
            },
            {
                "id": "id_card",
                "title": label("کارت ملی", "National ID card"),
                "formats": ["pdf", "jpg", "png"],
                "step": "review",
            },
            {
                "id": "site_plan",
                "title": label("نقشه محل", "Site plan"),
                "formats": ["pdf"],
                "required": False,
                "step": "inspect",
            },
        ],
        fields=[
            {
                "id": "area_m2",
                "type": "number",
                "label": label("مساحت", "Area"),
                "required": True,
                "min": 1,
                "max": 1000,
            },
            {"id": "start_on", "type": "jalali_date", "label": label("تاریخ شروع", "Start date")},
            {"id": "site", "type": "map_point", "label": label("محل", "Site")},
            {
                "id": "deed_scan",
                "type": "file",
                "label": label("تصویر سند", "Deed scan"),
                "document": "deed",
                "required": True,
            },
        ],
    )


@pytest.fixture
def service():
    return publish_definition(upload_process())


def apply_url(service) -> str:
    return reverse("portal:apply", args=[service.code])


def upload_url(service) -> str:
    return reverse("portal:apply_upload", args=[service.code])


def token_of(response) -> str:
    return re.search(r'name="_token" value="([^"]+)"', response.content.decode()).group(1)


def a_file(content: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def kept(citizen, service) -> dict:
    draft = ApplicationDraft.objects.filter(user=citizen, service=service).first()
    return (draft.data.get("files") or {}) if draft else {}


def text_of(response) -> str:
    return htmllib.unescape(response.content.decode())


def answers(district, **changes) -> dict:
    values = {"area_m2": "12", "_district": district.code, "site.lat": "", "site.lng": ""}
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


# --- the form's upload controls -----------------------------------------------------------------


def test_each_file_field_and_first_step_document_gets_an_upload_control_with_its_formats(signed_in, service):
    page = text_of(signed_in.get(apply_url(service)))

    assert 'enctype="multipart/form-data"' in page
    assert f'data-upload-url="{upload_url(service)}"' in page
    deed = re.search(r'<input type="file" id="f-deed_scan" name="deed_scan" accept="([^"]+)"', page)
    assert deed and ".pdf" in deed.group(1) and ".jpeg" in deed.group(1) and ".png" not in deed.group(1)
    assert "PDF or JPEG; up to 1 MB." in page
    assert 'name="_document.id_card"' in page
    # The deed is uploaded by its field, not twice; the site plan is asked later, on the case page.
    assert 'name="_document.deed"' not in page and "site_plan" not in page
    assert "uploads.js" in page and "datepicker.js" in page


def test_leaflet_and_the_district_outlines_load_only_on_a_form_with_a_map_point(signed_in, service, district):
    district.boundary = {
        "type": "Polygon",
        "coordinates": [[[51.3, 35.6], [51.5, 35.6], [51.5, 35.8], [51.3, 35.8], [51.3, 35.6]]],
    }
    district.save(update_fields=["boundary"])
    with_map = text_of(signed_in.get(apply_url(service)))
    plain = text_of(signed_in.get(apply_url(publish_definition(small_process(code="no-map")))))

    assert "vendor/leaflet/leaflet.js" in with_map and "mappoint.js" in with_map
    data = json.loads(
        re.search(r'<script id="apply-map" type="application/json">(.*?)</script>', with_map).group(1)
    )
    assert (
        data["districts"][0]["code"] == district.code
        and data["districts"][0]["boundary"] == district.boundary
    )
    assert "leaflet" not in plain and "apply-map" not in plain and "datepicker.js" not in plain


# --- keeping a file with the draft --------------------------------------------------------------


def test_a_file_sent_with_a_wrong_answer_is_kept_and_the_corrected_form_files_it(
    signed_in, service, district, citizen
):
    content = hostile.pdf()
    token = token_of(signed_in.get(apply_url(service)))

    refused = signed_in.post(
        apply_url(service),
        {**answers(district, area_m2="5000"), "_token": token, "deed_scan": a_file(content, "deed.pdf")},
    )

    assert refused.status_code == 400 and not Case.objects.exists()
    page = text_of(refused)
    assert "Kept with this form:" in page and "deed.pdf" in page
    assert kept(citizen, service)["deed_scan"]["sha256"] == sha(content)
    assert StoredFile.objects.filter(sha256=sha(content)).exists()

    # Sent again, corrected, without choosing the file again.
    filed = signed_in.post(apply_url(service), {**answers(district), "_token": token})

    case = Case.objects.get()
    assert filed.status_code == 302 and filed["Location"] == reverse(
        "portal:my_case", args=[case.tracking_code]
    )
    assert case.answers["deed_scan"] == sha(content)
    document = CaseDocument.objects.get(case=case)
    assert document.document_type == "deed" and document.file.sha256 == sha(content)
    assert document.original_name == "deed.pdf" and document.uploaded_by == citizen
    assert document.step_id == "review"
    assert case.events.filter(activity="document_uploaded").count() == 1
    assert not ApplicationDraft.objects.filter(user=citizen).exists()
    assert "deed.pdf" in text_of(signed_in.get(filed["Location"]))


def test_a_file_uploaded_alone_is_still_there_when_the_draft_is_opened_later(signed_in, service, citizen):
    content = hostile.jpeg()

    answer = signed_in.post(upload_url(service), {"slot": "deed_scan", "file": a_file(content, "سند.jpg")})

    assert answer.status_code == 200
    assert answer.json()["name"] == "سند.jpg" and answer.json()["size"].endswith("KB")
    signed_in.post(apply_url(service), {"area_m2": "7", "_action": "draft"})
    later = Client()
    later.cookies["django_language"] = "en"
    later.force_login(citizen)
    page = text_of(later.get(apply_url(service)))
    assert "Your saved draft was opened" in page
    assert re.search(r'class="upload-kept" id="f-deed_scan-kept">', page)  # shown, not hidden
    assert "سند.jpg" in page and 'value="7"' in page


def test_choosing_another_file_replaces_the_kept_one(signed_in, service, district, citizen):
    first, second = hostile.pdf(), hostile.jpeg()
    signed_in.post(upload_url(service), {"slot": "deed_scan", "file": a_file(first, "old.pdf")})
    signed_in.post(upload_url(service), {"slot": "deed_scan", "file": a_file(second, "new.jpg")})

    assert kept(citizen, service)["deed_scan"]["name"] == "new.jpg"
    token = token_of(signed_in.get(apply_url(service)))
    signed_in.post(apply_url(service), {**answers(district), "_token": token})
    document = CaseDocument.objects.get()
    assert document.file.sha256 == sha(second) and document.original_name == "new.jpg"


def test_a_kept_file_can_be_removed_with_or_without_the_script(signed_in, service, district, citizen):
    signed_in.post(upload_url(service), {"slot": "deed_scan", "file": a_file(hostile.pdf(), "deed.pdf")})

    # Without the script: the Remove button sends the form, and what was typed comes back.
    removed = signed_in.post(apply_url(service), {**answers(district, area_m2="33"), "_remove": "deed_scan"})
    assert removed.status_code == 200 and "The file was removed." in text_of(removed)
    assert 'value="33"' in text_of(removed)
    assert "deed_scan" not in kept(citizen, service)

    # With the script: the endpoint forgets it.
    signed_in.post(upload_url(service), {"slot": "deed_scan", "file": a_file(hostile.pdf(), "deed.pdf")})
    answer = signed_in.post(upload_url(service), {"slot": "deed_scan", "remove": "1"})
    assert answer.status_code == 200 and answer.json()["removed"] is True
    assert "deed_scan" not in kept(citizen, service)

    token = token_of(signed_in.get(apply_url(service)))
    refused = signed_in.post(apply_url(service), {**answers(district), "_token": token})
    assert refused.status_code == 400 and 'id="f-deed_scan-error"' in refused.content.decode()
    assert "Deed scan is required." in text_of(refused)


# --- refused files ------------------------------------------------------------------------------


def test_a_hostile_file_is_refused_next_to_its_field_and_nothing_is_stored(
    signed_in, service, district, citizen
):
    token = token_of(signed_in.get(apply_url(service)))

    refused = signed_in.post(
        apply_url(service),
        {
            **answers(district),
            "_token": token,
            "deed_scan": a_file(hostile.pdf_with_javascript(), "deed.pdf"),
        },
    )

    assert refused.status_code == 400 and not Case.objects.exists()
    page = text_of(refused)
    field_error = re.search(r'<p class="error" id="f-deed_scan-error">([^<]+)</p>', page).group(1)
    assert field_error.startswith("Deed scan: The PDF contains JavaScript")
    summary = page.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert 'href="#f-deed_scan"' in summary
    assert not StoredFile.objects.exists() and kept(citizen, service) == {}

    # Through the endpoint: the same message, as JSON.
    answer = signed_in.post(
        upload_url(service), {"slot": "deed_scan", "file": a_file(hostile.exe(), "deed.pdf")}
    )
    assert answer.status_code == 400 and answer.json()["error"].startswith(
        "Deed scan: This file is a program"
    )
    assert not StoredFile.objects.exists()


def test_a_refused_replacement_leaves_the_kept_file_as_it_was(signed_in, service, citizen):
    good = hostile.pdf()
    signed_in.post(upload_url(service), {"slot": "deed_scan", "file": a_file(good, "deed.pdf")})

    answer = signed_in.post(
        upload_url(service), {"slot": "deed_scan", "file": a_file(hostile.svg_with_script(), "x.jpg")}
    )

    assert answer.status_code == 400 and "SVG images are never accepted" in answer.json()["error"]
    assert kept(citizen, service)["deed_scan"]["sha256"] == sha(good)
    assert StoredFile.objects.count() == 1


def test_a_file_over_the_documents_limit_is_refused_with_the_limit(signed_in, service, district, citizen):
    too_big = hostile.padded_pdf(LIMIT_MB * 1024 * 1024 + 1)
    token = token_of(signed_in.get(apply_url(service)))

    refused = signed_in.post(
        apply_url(service), {**answers(district), "_token": token, "deed_scan": a_file(too_big, "deed.pdf")}
    )

    assert refused.status_code == 413
    assert "Deed scan: The file is larger than 1 MB, the limit for this document." in text_of(refused)
    assert not StoredFile.objects.exists() and not Case.objects.exists()
    # The page tells the script the limit, so it can refuse before sending.
    assert f'data-max-bytes="{LIMIT_MB * 1024 * 1024}"' in refused.content.decode()


def test_an_upload_to_a_slot_the_form_does_not_have_is_refused(signed_in, service):
    answer = signed_in.post(
        upload_url(service), {"slot": "_document.site_plan", "file": a_file(hostile.pdf(), "p.pdf")}
    )
    assert answer.status_code == 400 and "no such upload" in answer.json()["error"]
    assert not StoredFile.objects.exists()


# --- filing -------------------------------------------------------------------------------------


def test_a_first_step_document_becomes_a_case_document_too(signed_in, service, district, citizen):
    token = token_of(signed_in.get(apply_url(service)))
    signed_in.post(
        apply_url(service),
        {
            **answers(district),
            "_token": token,
            "deed_scan": a_file(hostile.pdf(), "deed.pdf"),
            "_document.id_card": a_file(hostile.png(), "card.png"),
        },
    )

    case = Case.objects.get()
    assert sorted(case.documents.values_list("document_type", flat=True)) == ["deed", "id_card"]


def test_the_same_form_sent_again_after_it_worked_leads_to_the_same_case(signed_in, service, district):
    token = token_of(signed_in.get(apply_url(service)))
    form = {**answers(district), "_token": token, "deed_scan": a_file(hostile.pdf(), "deed.pdf")}
    first = signed_in.post(apply_url(service), form)
    again = signed_in.post(apply_url(service), {**answers(district), "_token": token})

    case = Case.objects.get()
    assert first["Location"] == again["Location"] == reverse("portal:my_case", args=[case.tracking_code])
    assert case.documents.count() == 1


def test_a_date_as_the_calendar_writes_it_and_a_map_point_are_stored(signed_in, service, district):
    token = token_of(signed_in.get(apply_url(service)))
    signed_in.post(upload_url(service), {"slot": "deed_scan", "file": a_file(hostile.pdf(), "deed.pdf")})

    signed_in.post(
        apply_url(service),
        {
            **answers(district),
            "_token": token,
            "start_on": "۱۴۰۳/۰۵/۱۲",
            "site.lat": "35.7",
            "site.lng": "51.4",
        },
    )

    case = Case.objects.get()
    assert case.answers["start_on"] == "2024-08-02"
    assert case.answers["site"] == {"lat": 35.7, "lng": 51.4}


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("1403-05-12", "2024-08-02"),
        ("۱۴۰۳/۱۲/۳۰", "2025-03-20"),
        ("1404/01/01", "2025-03-21"),
        ("1399/12/30", "2021-03-20"),
    ],
)
def test_dates_typed_or_picked_in_either_digits_are_read_by_the_server(
    signed_in, service, district, typed, stored
):
    signed_in.post(upload_url(service), {"slot": "deed_scan", "file": a_file(hostile.pdf(), "deed.pdf")})
    token = token_of(signed_in.get(apply_url(service)))
    signed_in.post(apply_url(service), {**answers(district), "_token": token, "start_on": typed})
    assert Case.objects.get().answers["start_on"] == stored


def test_a_date_that_does_not_exist_is_refused_and_the_kept_file_stays(signed_in, service, district, citizen):
    signed_in.post(upload_url(service), {"slot": "deed_scan", "file": a_file(hostile.pdf(), "deed.pdf")})
    token = token_of(signed_in.get(apply_url(service)))
    refused = signed_in.post(
        apply_url(service), {**answers(district), "_token": token, "start_on": "1404/12/30"}
    )
    assert refused.status_code == 400 and 'id="f-start_on-error"' in refused.content.decode()
    assert "deed_scan" in kept(citizen, service) and "deed.pdf" in text_of(refused)


# --- the office counter -------------------------------------------------------------------------


def test_the_operator_uploads_the_scans_and_they_become_the_cases_documents(counter, service):
    client, office, operator = counter
    national_id = national_id_new()
    give_consent(client, service, national_id=national_id, mobile=mobile_new())
    form_page = text_of(client.get(reverse("portal:counter_file")))
    assert (
        'name="deed_scan"' in form_page
        and f'data-upload-url="{reverse("portal:counter_upload")}"' in form_page
    )

    answer = client.post(
        reverse("portal:counter_upload"), {"slot": "deed_scan", "file": a_file(hostile.pdf(), "d.pdf")}
    )
    assert answer.status_code == 200
    refused = client.post(reverse("portal:counter_file"), {"_token": "c1", "area_m2": "0"})
    assert refused.status_code == 400 and "d.pdf" in text_of(refused)  # kept through the error
    filed = client.post(
        reverse("portal:counter_file"),
        {"_token": "c2", "area_m2": "20", "_document.id_card": a_file(hostile.jpeg(), "card.jpg")},
    )

    case = Case.objects.get()
    assert filed.status_code == 302 and case.office == office and case.applicant.national_id == national_id
    documents = {d.document_type: d for d in case.documents.all()}
    assert set(documents) == {"deed", "id_card"}
    assert all(d.uploaded_by == operator for d in documents.values())
    assert case.events.filter(activity="document_uploaded", office=office).count() == 2


def test_the_next_citizens_form_at_the_counter_starts_without_the_last_ones_files(counter, service):
    client, _office, _operator = counter
    give_consent(client, service, national_id=national_id_new(), mobile=mobile_new())
    client.post(
        reverse("portal:counter_upload"), {"slot": "deed_scan", "file": a_file(hostile.pdf(), "first.pdf")}
    )
    assert "first.pdf" in text_of(client.get(reverse("portal:counter_file")))

    give_consent(client, service, national_id=national_id_new(), mobile=mobile_new())

    assert "first.pdf" not in text_of(client.get(reverse("portal:counter_file")))


def test_a_hostile_scan_at_the_counter_is_refused_with_its_field_named(counter, service):
    client, _office, _operator = counter
    give_consent(client, service, national_id=national_id_new(), mobile=mobile_new())

    refused = client.post(
        reverse("portal:counter_file"),
        {"_token": "c3", "area_m2": "20", "deed_scan": a_file(hostile.html_page(), "deed.pdf")},
    )

    assert refused.status_code == 400 and not Case.objects.exists() and not StoredFile.objects.exists()
    assert re.search(r'id="f-deed_scan-error">Deed scan: This file is a web page', text_of(refused))


def test_the_counter_upload_needs_a_live_consent(counter, service):
    client, _office, _operator = counter
    answer = client.post(
        reverse("portal:counter_upload"), {"slot": "deed_scan", "file": a_file(hostile.pdf(), "d.pdf")}
    )
    assert answer.status_code == 403 and not StoredFile.objects.exists()


def test_one_person_may_send_only_so_many_files_an_hour(signed_in, service, settings, monkeypatch):
    from pishkhan.portal import uploads

    monkeypatch.setattr(uploads, "UPLOADS_PER_HOUR", 2)
    for name in ("a.pdf", "b.pdf"):
        assert (
            signed_in.post(
                upload_url(service), {"slot": "deed_scan", "file": a_file(hostile.pdf(), name)}
            ).status_code
            == 200
        )

    answer = signed_in.post(
        upload_url(service), {"slot": "deed_scan", "file": a_file(hostile.jpeg(), "c.jpg")}
    )

    assert answer.status_code == 429 and "too many files" in answer.json()["error"]
    assert not StoredFile.objects.filter(sha256=sha(hostile.jpeg())).exists()


def test_staff_read_a_file_answer_as_the_documents_name_with_a_link_not_its_digest(
    signed_in, service, district, client
):
    content = hostile.pdf()
    token = token_of(signed_in.get(apply_url(service)))
    signed_in.post(
        apply_url(service), {**answers(district), "_token": token, "deed_scan": a_file(content, "deed.pdf")}
    )
    case = Case.objects.get()
    document = CaseDocument.objects.get(case=case)
    client.force_login(make_staff(role="clerk", district=district))

    page = client.get(reverse("desk:inbox_case", kwargs={"tracking_code": case.tracking_code}))

    answers_part = page.content.decode().split('id="answers-heading"')[1].split("</section>")[0]
    assert "deed.pdf" in answers_part and sha(content) not in answers_part
    download = reverse(
        "cases:document_download", kwargs={"tracking_code": case.tracking_code, "document_id": document.pk}
    )
    assert f'href="{download}"' in answers_part
