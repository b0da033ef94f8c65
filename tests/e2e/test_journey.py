"""The service desk's acceptance journey in a real browser, on the real excavation permit: a citizen
applies on a phone, a clerk at a desktop returns the case for a missing document, the citizen
uploads it and answers, the inspector walks the route from his inbox, the citizen pays through the
sandbox gateway, the signatory signs from her inbox, the inspector supervises and inspects the
work, and the citizen downloads the issued permit, whose QR code opens the public verification
page. Another citizen cannot open the first one's case or documents.

Staff sign in with a TOTP code, so every actor is signed in through Django's test client and the
session cookie handed to the browser. Steps outside the story (the other reviewers, the work on
site) are moved through cases.services, each with a comment."""

import subprocess
from pathlib import Path

import pyotp
import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from pishkhan.accounts.models import User
from pishkhan.accounts.services import staff_totp_enrol
from pishkhan.cases.documents import document_upload
from pishkhan.cases.models import Case, CaseStatus, PositionState
from pishkhan.cases.services import case_advance
from pishkhan.core.text import to_persian_digits
from tests.cases.factories import (
    make_citizen,
    make_district,
    make_staff,
    publish_definition,
    small_process,
    submit_case,
)
from tests.cases.test_issuing import need, run
from tests.e2e.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.e2e

PROCESS = Path(__file__).resolve().parents[2] / "processes" / "excavation-permit.yaml"

# Every staff role the excavation permit's steps name, besides the story's three actors.
BACK_OFFICE_ROLES = [
    "excavation_coordinator",
    "traffic_expert",
    "green_space_expert",
    "utilities_liaison",
    "head_urban_services",
    "revenue_clerk",
    "restoration_contractor",
    "clerk",
]


def minimal_pdf() -> bytes:
    """A small valid one-page PDF, with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def qr_urls_of(path: Path, folder: Path) -> list[str]:
    """Render every page as a phone camera would see it and decode the QR codes on them (the
    excavation permit's many answers push its QR code onto the second page)."""
    run(need("pdftoppm"), "-r", "150", "-png", str(path), str(folder / "page"))
    urls = []
    for image in sorted(folder.glob("page*.png")):
        found = subprocess.run(
            [need("zbarimg"), "--quiet", "--raw", "-Sqrcode.enable", str(image)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        urls += found.stdout.split()  # exit status 4: no code on this page
    return urls


def signed_in_page(browser, live_server, user, viewport, *, script: bool = True):
    """A page of a new browser context signed in as `user`; with script=False the browser runs
    no JavaScript."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    context = browser.new_context(
        viewport=viewport, base_url=live_server.url, accept_downloads=True, java_script_enabled=script
    )
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    return context.new_page()


def desk_act(page, code: str, step: str, outcome: str) -> None:
    """Open the case in the desk inbox and complete `step` with `outcome` (approve or done); an
    inspection is recorded with its findings (its photos and place: test_inspection_signature)."""
    page.goto(f"/desk/inbox/{code}/")
    form = page.locator(f"section[aria-labelledby=act-{step}] form.outcome-{outcome}")
    findings = form.locator("textarea[name=findings]")
    if findings.count():
        findings.fill("مسیر مطابق نقشه است.")
    button = form.locator(f"button[name=outcome][value={outcome}]")
    if not button.count():
        button = form.locator("button[type=submit]")
    with page.expect_navigation():
        button.click()
    assert page.locator("#action-error").count() == 0, page.locator("#action-error").inner_text()
    assert page.locator(".error-summary").count() == 0, page.locator(".error-summary").inner_text()


def open_steps(case: Case) -> set[str]:
    """The steps open now (a position is deleted when its step is done); joins left out."""
    positions = case.positions.exclude(state=PositionState.WAITING_JOIN)
    return set(positions.values_list("step_id", flat=True))


def advance(case: Case, step: str, outcome: str, actor) -> None:
    """Complete a step outside the story through the engine, as the desk would."""
    case_advance(case=Case.objects.get(pk=case.pk), step_id=step, outcome=outcome, actor=actor)


def test_the_excavation_permit_from_application_to_the_verified_permit(
    browser, live_server, screenshots, settings, tmp_path
):
    # Made after the browser is up: see the conftest on database calls beside Playwright's loop.
    settings.PUBLIC_BASE_URL = live_server.url  # the QR code must lead to this server
    service = publish_definition(PROCESS.read_text(encoding="utf-8"))
    district = make_district()
    # The form has a map point, so the engine finds the district from its boundary, not a list.
    district.boundary = {
        "type": "Polygon",
        "coordinates": [[[54.30, 31.85], [54.40, 31.85], [54.40, 31.95], [54.30, 31.95], [54.30, 31.85]]],
    }
    district.save(update_fields=["boundary"])
    citizen = make_citizen(first_name="مریم", last_name="کریمی")
    clerk = make_staff(role="eservice_office", district=district, first_name="Kaveh", last_name="Clerk")
    inspector = make_staff(role="inspector", district=district, first_name="Iraj", last_name="Inspector")
    signatory = make_staff(role="services_deputy", district=district, first_name="Sima", last_name="Signer")
    back_office = make_staff(role=BACK_OFFICE_ROLES, district=district, first_name="Bahram")
    staff_totp_enrol(user=signatory)  # she signs with a code from her authenticator app
    User.objects.filter(pk=signatory.pk).update(totp_confirmed=True)
    signatory.refresh_from_db()
    authenticator = pyotp.TOTP(signatory.totp_secret, interval=30)
    shot = 0

    def snap(page, name: str) -> None:
        nonlocal shot
        shot += 1
        page.screenshot(path=str(screenshots / f"journey-{shot:02d}-{name}.png"), full_page=True)

    pages = []

    def open_page(user, viewport):
        pages.append(signed_in_page(browser, live_server, user, viewport))
        return pages[-1]

    try:
        # 1. The citizen applies on a phone.
        phone = open_page(citizen, PHONE)
        phone.goto(f"/services/{service.code}/apply/")
        assert phone.locator("html[lang=fa][dir=rtl]").count() == 1
        phone.locator("[name=applicant_type][value=water]").check()
        phone.locator("[name=company_name]").fill("شرکت آب و فاضلاب")
        phone.locator("[name=project_title]").fill("اصلاح شبکه آب")
        phone.locator("[name=street_name]").fill("خیابان امام")
        phone.locator('[name="route_start.lat"]').fill("31.8974")
        phone.locator('[name="route_start.lng"]').fill("54.3569")
        phone.locator("[name=length_m]").fill("۲۰")
        phone.locator("[name=width_m]").fill("0.5")
        phone.locator("[name=depth_m]").fill("1")
        phone.locator("[name=surface][value=asphalt]").check()
        phone.locator("[name=start_date]").fill("1406/01/20")
        phone.locator("[name=duration_days]").fill("۱۰")
        phone.locator("[name=restoration_by][value=municipality]").check()
        phone.locator("[name=contractor_name]").fill("پیمانکار نمونه")
        phone.locator("[name=applicant_mobile]").fill(citizen.mobile)
        # The map point gives the district, so the page asks none; pick it if it ever does.
        district_select = phone.locator("main form select")
        if district_select.count():
            district_select.select_option(district.code)
        snap(phone, "apply-phone")
        with phone.expect_navigation():
            phone.get_by_role("button", name="ارسال درخواست").click()
        assert "/services/my/" in phone.url, phone.locator(".error").all_inner_texts()
        case = Case.objects.get(applicant=citizen)
        code = case.tracking_code
        assert to_persian_digits(code) in phone.locator(".messages").inner_text()
        assert open_steps(case) == {"file_request"}
        snap(phone, "filed-phone")

        # 2. The e-service office clerk, at a desktop, returns it: the route map is missing.
        # (file_request is the first step with a `return` outcome; its role is eservice_office.)
        desk = open_page(clerk, DESKTOP)
        desk.goto("/desk/inbox/")
        with desk.expect_navigation():
            desk.locator(f"a[href='/desk/inbox/{code}/']").first.click()
        form = desk.locator("section[aria-labelledby=act-file_request] form.outcome-return")
        form.locator("input[name=missing][value=route_map]").check()
        form.locator("textarea[name=message]").fill("نقشه مسیر حفاری پیوست نشده است.")
        form.locator("input[name=due_days]").fill("5")
        snap(desk, "desk-return")
        with desk.expect_navigation():
            form.locator("button[type=submit]").click()
        assert desk.locator("#action-error").count() == 0, desk.locator("#action-error").inner_text()
        position = Case.objects.get(pk=case.pk).positions.get(step_id="file_request")
        assert position.state == PositionState.WITH_CITIZEN
        snap(desk, "desk-returned")

        # 3. The citizen sees what is missing, why and by when; uploads it and answers.
        phone.goto(f"/services/my/{code}/")
        correction = phone.locator("section[aria-labelledby=correction-file_request]")
        assert "پیوست نشده است" in correction.inner_text()  # why
        assert correction.locator("time").count() >= 1  # by when
        assert correction.locator("#file-route_map").count() == 1  # what
        assert "نقشه مسیر حفاری" in correction.locator(".missing-documents").inner_text()
        snap(phone, "correction-phone")
        pdf = tmp_path / "route-map.pdf"
        pdf.write_bytes(minimal_pdf())
        phone.locator("#file-route_map").set_input_files(str(pdf))
        upload = phone.locator("form", has=phone.locator("#file-route_map"))
        with phone.expect_navigation():
            upload.locator("button[type=submit]").click()
        assert Case.objects.get(pk=case.pk).documents.filter(document_type="route_map").exists()
        phone.locator("#answer-message").fill("نقشه پیوست شد.")
        with phone.expect_navigation():
            phone.get_by_role("button", name="ارسال پاسخ").click()
        position = Case.objects.get(pk=case.pk).positions.get(step_id="file_request")
        assert position.state == PositionState.QUEUED  # back in the clerk's queue
        snap(phone, "answered-phone")

        # 4. The clerk approves the corrected request.
        desk_act(desk, code, "file_request", "approve")
        # Not in the story: the coordinator and the three parallel reviewers.
        advance(case, "check_coordination", "approve", back_office)
        for step in ("traffic_review", "green_space_review", "utilities_conflict_inquiry"):
            advance(case, step, "approve", back_office)
        assert open_steps(case) == {"route_site_visit"}

        # 5. The inspector walks the route before the dig.
        inspector_desk = open_page(inspector, DESKTOP)
        desk_act(inspector_desk, code, "route_site_visit", "done")
        snap(inspector_desk, "inspector-done")
        # Not in the story: the head's visa and the revenue clerk's fee calculation.
        advance(case, "head_services_visa", "approve", back_office)
        advance(case, "calculate_fees", "approve", back_office)
        assert open_steps(case) == {"pay_fees"}

        # 6. The citizen pays through the sandbox gateway: 20 m × 0.5 m of asphalt restored by the
        # municipality (90,000,000) plus supervision (10% + 2,000,000 = 11,000,000).
        phone.goto(f"/services/my/{code}/")
        assert "۱۰۱٬۰۰۰٬۰۰۰ ریال" in phone.locator("main").inner_text()
        snap(phone, "pay-phone")
        with phone.expect_navigation(url="**/payments/sandbox/**"):
            phone.locator("form[action*='/payments/start/'] button[type=submit]").click()
        snap(phone, "gateway-phone")
        with phone.expect_navigation(url="**/payments/result/**"):
            phone.get_by_role("button", name="پرداخت", exact=True).click()
        snap(phone, "paid-phone")
        assert open_steps(case) == {"sign_permit"}  # the case moved on

        # 7. The signatory signs — confirming and typing a fresh authenticator code; the permit is
        # issued at once (the tests' immediate task backend).
        signer_desk = open_page(signatory, DESKTOP)
        signer_desk.goto(f"/desk/inbox/{code}/")
        signing = signer_desk.locator("section[aria-labelledby=act-sign_permit] form.signature-form")
        signing.locator("input[name=confirm]").check()
        signing.locator("input[name=code]").fill(authenticator.now())
        with signer_desk.expect_navigation():
            signing.locator("button[type=submit]").click()
        assert signer_desk.locator(".error-summary, #action-error").count() == 0
        snap(signer_desk, "signed")
        assert Case.objects.get(pk=case.pk).issued.count() == 1
        assert open_steps(case) == {"excavation_work"}
        # Not in the story: the dig itself (the applicant's own citizen step) ...
        advance(case, "excavation_work", "done", citizen)
        desk_act(inspector_desk, code, "supervise_work", "done")
        # ... and the district contractor's restoration.
        advance(case, "municipal_restoration", "approve", back_office)
        desk_act(inspector_desk, code, "restoration_inspection", "done")
        # Not in the story: the revenue clerk releases the deposit.
        advance(case, "release_deposit", "approve", back_office)
        assert Case.objects.get(pk=case.pk).status == CaseStatus.APPROVED

        # 8. The citizen sees the case approved, downloads the permit and checks its QR code.
        phone.goto(f"/services/my/{code}/")
        with translation.override("fa"):
            assert phone.locator(".badge").first.inner_text() == str(CaseStatus.APPROVED.label)
        snap(phone, "approved-phone")
        with phone.expect_download() as download:
            phone.locator(f"a[href^='/cases/{code}/issued/']").click()
        permit = tmp_path / "permit.pdf"
        download.value.save_as(permit)
        assert permit.read_bytes().startswith(b"%PDF")
        urls = qr_urls_of(permit, tmp_path)
        assert len(urls) == 1, urls
        assert urls[0].startswith(f"{live_server.url}/verify/")
        phone.goto(urls[0])
        assert phone.locator('[data-state="valid"]').count() == 1  # genuine
        snap(phone, "verified-phone")
    finally:
        for page in pages:
            page.context.close()


def test_another_citizen_cannot_open_someone_elses_case_or_documents(browser, live_server, tmp_path):
    # Made after the browser is up: see the conftest on database calls beside Playwright's loop.
    owner = make_citizen()
    case = submit_case(service=publish_definition(small_process()), applicant=owner)
    document = document_upload(
        case=case,
        document_type="deed",
        upload=SimpleUploadedFile("deed.pdf", minimal_pdf(), content_type="application/pdf"),
        by=owner,
    )
    owner_page = signed_in_page(browser, live_server, owner, PHONE)
    other_page = signed_in_page(browser, live_server, make_citizen(), PHONE)
    case_url = f"/services/my/{case.tracking_code}/"
    document_url = f"/cases/{case.tracking_code}/documents/{document.pk}/"
    try:
        assert owner_page.goto(case_url).status == 200  # the URLs are right: the owner opens them
        assert owner_page.request.get(live_server.url + document_url).status == 200
        assert other_page.goto(case_url).status == 404
        assert other_page.request.get(live_server.url + document_url).status == 404
    finally:
        owner_page.context.close()
        other_page.context.close()
