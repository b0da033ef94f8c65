"""Issued documents: a permit rendered to PDF in Persian with Vazirmatn, its QR code opening the public
verification page, which says it is genuine and unchanged and shows nobody's personal data.

The PDF is read back with Debian's poppler-utils (pdftotext, pdffonts, pdftoppm) and the QR code
decoded with zbar-tools (zbarimg), as a person's phone would: from the rendered page image."""

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from pishkhan.cases.files import blob_name, file_open
from pishkhan.cases.issuing import (
    _static_only_fetcher,
    document_issue,
    issued_check_code,
    issued_status,
    issued_verify_url,
)
from pishkhan.cases.models import CaseEvent, IssuedDocument, StoredFile
from pishkhan.core.text import to_persian_digits
from tests.cases.factories import make_citizen, make_district, publish_definition, small_process, submit_case

pytestmark = pytest.mark.django_db

# 1404-01-05 in Tehran (2025-03-25 11:30 +03:30).
ISSUED_AT = dt.datetime(2025, 3, 25, 8, 0, tzinfo=dt.UTC)
PUBLIC = "https://shahr.example.ir"
BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def need(tool: str) -> str:
    """The path of a Debian tool; skipped on a developer's machine without it, failed under CI."""
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} is missing: run scripts/system-deps test (poppler-utils, zbar-tools)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


def run(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=60).stdout


def issue_permit(*, now):
    """A permit of the small process issued at `now` to Maryam Karimi, in district 7 of Yazd."""
    district = make_district("d07")
    applicant = make_citizen(
        first_name="مریم", last_name="کریمی", mobile="09127654321", national_id="0684159414"
    )
    case = submit_case(service=publish_definition(small_process()), applicant=applicant, district=district)
    return document_issue(case=case, output_id="permit", now=now)


@pytest.fixture
def city(settings):
    settings.PUBLIC_BASE_URL = PUBLIC
    settings.CITY_NAME_FA = "یزد"


@pytest.fixture
def permit(city):
    """Issued on a known day, for what the PDF prints (1404-01-05, valid a year)."""
    return issue_permit(now=ISSUED_AT)


@pytest.fixture
def current_permit(city):
    """Issued now, so still valid whatever day the tests run on."""
    return issue_permit(now=timezone.now())


def pdf_path(issued: IssuedDocument, tmp_path: Path) -> Path:
    path = tmp_path / f"{issued.number}.pdf"
    with file_open(issued.file) as stored:
        path.write_bytes(stored.read())
    return path


def pdf_text(path: Path) -> str:
    text = run(need("pdftotext"), "-enc", "UTF-8", str(path), "-")
    return re.sub(r"\s+", " ", BIDI_MARKS.sub("", text))


def test_issuing_numbers_the_document_stores_the_pdf_by_its_hash_and_logs_an_event(permit):
    assert re.fullmatch(r"1404-SP-00001", permit.number)
    assert len(permit.verification_code) >= 22 and permit.verification_code not in permit.number
    assert permit.issued_at == ISSUED_AT
    assert permit.valid_until == dt.date(2025, 3, 25) + dt.timedelta(days=365)
    assert permit.title_fa == "مجوز آزمایشی"
    assert permit.file.content_type == "application/pdf"
    assert permit.file.storage_name == blob_name(permit.file.sha256)
    assert default_storage.exists(permit.file.storage_name)
    event = CaseEvent.objects.get(case=permit.case, activity="document_issued")
    assert event.data["number"] == permit.number
    assert event.data["sha256"] == permit.file.sha256


def test_issuing_twice_returns_the_same_document(permit):
    again = document_issue(case=permit.case, output_id="permit", now=ISSUED_AT + dt.timedelta(hours=1))
    assert again.pk == permit.pk
    assert IssuedDocument.objects.count() == 1
    assert CaseEvent.objects.filter(case=permit.case, activity="document_issued").count() == 1


def test_a_revoked_document_is_issued_anew_with_the_next_number(permit):
    IssuedDocument.objects.filter(pk=permit.pk).update(revoked_at=ISSUED_AT + dt.timedelta(days=1))
    renewed = document_issue(case=permit.case, output_id="permit", now=ISSUED_AT + dt.timedelta(days=2))
    assert renewed.pk != permit.pk
    assert renewed.number == "1404-SP-00002"
    assert renewed.verification_code != permit.verification_code


def test_an_output_the_process_does_not_have_is_refused(permit):
    from pishkhan.cases.errors import CaseError

    with pytest.raises(CaseError) as refused:
        document_issue(case=permit.case, output_id="no_such_output")
    assert refused.value.code == "unknown_output"


def jalali_day_in(text: str, day: str, month: str, year: str) -> bool:
    """Whether a Jalali date is in pdftotext's output. pdftotext puts Persian words in reading order
    but leaves runs of digits where they stand on the page, so in a right-to-left line the date can
    come out as `۱۴۰۴ فروردین ۵`; either order proves the words and digits are there."""
    # Spaces next to a digit run are not reliable in that extraction either: compare without them.
    squeezed = text.replace(" ", "")
    return f"{day}{month}{year}" in squeezed or f"{year}{month}{day}" in squeezed


def test_the_pdf_shows_the_persian_title_and_jalali_dates_in_persian_digits(permit, tmp_path):
    text = pdf_text(pdf_path(permit, tmp_path))
    # Whole words in logical order: shaped glyphs that map back to the letters typed.
    assert "مجوز آزمایشی" in text
    assert "یزد" in text
    assert "مریم کریمی" in text  # the holder, on the permit they hold
    assert jalali_day_in(text, "۵", "فروردین", "۱۴۰۴")  # issued, Jalali, Persian digits
    assert jalali_day_in(text, "۵", "فروردین", "۱۴۰۵")  # valid for 365 days
    # pdftotext may move the hyphens of a mixed-direction run ("۱۴۰۴SP-۰۰۰۰۱"): compare without them.
    assert to_persian_digits(permit.number).replace("-", "") in text.replace("-", "").replace(" ", "")
    assert to_persian_digits(permit.case.tracking_code) in text
    # No isolated presentation forms (U+FB50–FDFF, FE70–FEFF), which a broken shaper leaves behind.
    assert not re.search("[\ufb50-\ufdff\ufe70-\ufeff]", text)


def test_the_pdf_carries_no_national_id_or_mobile(permit, tmp_path):
    text = pdf_text(pdf_path(permit, tmp_path))
    for secret in ("0684159414", "09127654321"):
        assert secret not in text and to_persian_digits(secret) not in text


def test_the_pdf_embeds_vazirmatn_and_no_other_font(permit, tmp_path):
    listing = run(need("pdffonts"), str(pdf_path(permit, tmp_path)))
    fonts = [line.split()[0] for line in listing.splitlines()[2:] if line.strip()]
    assert fonts, listing
    # Subset names look like ABCDEF+Vazirmatn-Bold; "yes" in the emb column: embedded.
    assert all(re.fullmatch(r"[A-Z]{6}\+Vazirmatn[-\w]*", name) for name in fonts), listing
    assert all(line.split()[-5] == "yes" for line in listing.splitlines()[2:] if line.strip()), listing


def qr_url_of(path: Path, tmp_path: Path) -> str:
    """Render the first page as a phone camera would see it and decode the QR code on it."""
    run(need("pdftoppm"), "-r", "150", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "page"))
    image = next(tmp_path.glob("page*.png"))
    decoded = run(need("zbarimg"), "--quiet", "--raw", "-Sqrcode.enable", str(image)).split()
    assert len(decoded) == 1, decoded
    return decoded[0]


def test_the_qr_code_opens_the_verification_page_which_confirms_the_document(
    current_permit, tmp_path, client
):
    permit = current_permit
    url = qr_url_of(pdf_path(permit, tmp_path), tmp_path)
    assert url == issued_verify_url(permit) == f"{PUBLIC}/verify/{permit.verification_code}/"

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(url.removeprefix(PUBLIC))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-state="valid"' in html
    assert "Genuine" in html
    assert permit.number in html
    assert permit.title_fa in html
    assert "منطقه 7" in html  # the issuing district (an English page keeps Latin digits)
    assert permit.file.sha256 in html  # the fingerprint of the PDF the city issued
    assert issued_check_code(permit) in html
    assert page["X-Robots-Tag"] == "noindex"


def test_the_verification_page_shows_no_personal_data(current_permit, client):
    permit = current_permit
    applicant = permit.case.applicant
    for language in ("fa", "en"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        html = client.get(f"/verify/{permit.verification_code}/").content.decode()
        for private in (
            applicant.first_name,
            applicant.last_name,
            applicant.national_id,
            applicant.mobile,
            permit.case.tracking_code,
        ):
            assert private not in html
            assert to_persian_digits(private) not in html


def test_the_verification_page_in_persian_shows_the_number_in_persian_digits(permit, client):
    html = client.get(f"/verify/{permit.verification_code}/").content.decode()
    assert to_persian_digits(permit.number) in html
    assert "۵ فروردین ۱۴۰۴" in html


def test_posting_the_issued_pdf_says_identical_and_a_changed_one_says_different(current_permit, client):
    permit = current_permit
    with file_open(permit.file) as stored:
        original = stored.read()
    url = f"/verify/{permit.verification_code}/"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    same = client.post(url, {"file": SimpleUploadedFile("permit.pdf", original, "application/pdf")})
    assert same.status_code == 200
    assert 'data-comparison="identical"' in same.content.decode()

    # One changed byte in the middle of the file, where a forger would edit a date or a name.
    middle = len(original) // 2
    changed = original[:middle] + bytes([original[middle] ^ 0x01]) + original[middle + 1 :]
    other = client.post(url, {"file": SimpleUploadedFile("permit.pdf", changed, "application/pdf")})
    assert 'data-comparison="different"' in other.content.decode()

    longer = client.post(url, {"file": SimpleUploadedFile("permit.pdf", original + b"\n", "application/pdf")})
    assert 'data-comparison="different"' in longer.content.decode()
    # Nothing sent for comparison is kept.
    assert StoredFile.objects.count() == 1


def test_an_unknown_code_is_not_found_and_says_not_to_rely_on_the_paper(client):
    page = client.get("/verify/made-up-code-0000000000/")
    assert page.status_code == 404
    assert 'data-state="unknown"' in page.content.decode()


def test_expired_and_revoked_documents_say_so(permit, client):
    assert issued_status(permit, today=permit.valid_until) == "valid"
    assert issued_status(permit, today=permit.valid_until + dt.timedelta(days=1)) == "expired"
    if timezone.now().date() > permit.valid_until + dt.timedelta(days=1):  # the day the tests run on
        assert 'data-state="expired"' in client.get(f"/verify/{permit.verification_code}/").content.decode()
    IssuedDocument.objects.filter(pk=permit.pk).update(revoked_at=ISSUED_AT + dt.timedelta(days=3))
    permit.refresh_from_db()
    assert issued_status(permit) == "revoked"
    html = client.get(f"/verify/{permit.verification_code}/").content.decode()
    assert 'data-state="revoked"' in html


def test_the_number_and_check_code_lead_to_the_verification_page(permit, client):
    code = issued_check_code(permit)
    found = client.post(
        "/verify/", {"number": to_persian_digits(permit.number), "check_code": code.lower().replace("-", "")}
    )
    assert found.status_code == 302
    assert found["Location"] == f"/verify/{permit.verification_code}/"
    wrong = client.post("/verify/", {"number": permit.number, "check_code": "AAAA-AAAA"})
    assert wrong.status_code == 404


def test_the_renderer_fetches_only_our_static_files():
    from weasyprint.urls import FatalURLFetchingError

    fetcher = _static_only_fetcher()
    font = Path(settings.STATICFILES_DIRS[0]) / "vendor" / "vazirmatn" / "Vazirmatn-Variable.woff2"
    assert fetcher.fetch(font.as_uri()).read()[:4] == b"wOF2"
    for url in (
        "https://fonts.example.com/vazirmatn.woff2",
        "http://127.0.0.1:8000/static/pishkhan/css/pishkhan.css",
        "file:///etc/passwd",
        font.parent.as_uri() + "/../../../settings.py",
        "ftp://example.com/x",
    ):
        with pytest.raises(FatalURLFetchingError):
            fetcher.fetch(url)


def test_a_certificate_output_uses_the_certificate_template(city, tmp_path):
    definition = small_process(code="completion-certificate")
    # A title without lam-alef: pdftotext writes that ligature's two letters in visual order.
    definition["outputs"] = [
        {
            "id": "certificate",
            "kind": "certificate",
            "title": {"fa": "گواهی پایان‌کار", "en": "Completion certificate"},
        }
    ]
    definition["steps"][-3]["output"] = "certificate"
    case = submit_case(service=publish_definition(definition), applicant=make_citizen())
    issued = document_issue(case=case, output_id="certificate", now=ISSUED_AT)
    assert issued.number == "1404-CC-00001"
    assert issued.valid_until is None
    text = pdf_text(pdf_path(issued, tmp_path))
    assert "گواهی پایان‌کار" in text or "گواهی پایانکار" in text


def test_an_issued_pdf_passes_the_upload_checks_so_a_holder_can_file_it_again(permit):
    from pishkhan.cases.files import file_check

    with file_open(permit.file) as stored:
        content = stored.read()
    upload = SimpleUploadedFile(f"{permit.number}.pdf", content, "application/pdf")
    with file_check(upload=upload, allowed_formats=["pdf"], max_bytes=len(content)) as checked:
        assert checked.sha256 == permit.file.sha256
