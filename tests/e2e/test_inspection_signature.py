"""A site visit and a signature in a real browser, on the real excavation permit: the inspector, on
a phone at the route, writes what he found, fills the place from the phone's location and adds a
photo taken there; later the district deputy, at a desktop, sees that visit (the photo and the
place), reads the draft permit she signs, confirms and types a fresh authenticator code — in
Persian digits — and the permit is issued.

Staff sign in with a TOTP code, so each actor's session is made by Django's test client and its
cookie handed to the browser. The steps outside the story go through cases.services, as in
test_journey."""

import io
from pathlib import Path

import pyotp
import pytest
from PIL import Image

from pishkhan.accounts.models import User
from pishkhan.accounts.services import staff_totp_enrol
from pishkhan.cases.documents import INSPECTION_PHOTO
from pishkhan.cases.models import Case
from pishkhan.cases.selectors import case_payment_due
from pishkhan.cases.services import case_advance, case_payment_confirmed, case_submit
from pishkhan.cases.signatures import signature_sheet
from pishkhan.core.text import to_persian_digits
from tests.cases.factories import make_citizen, make_district, make_staff, publish_definition
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.test_journey import BACK_OFFICE_ROLES, open_steps, signed_in_page

pytestmark = pytest.mark.e2e

PROCESS = Path(__file__).resolve().parents[2] / "processes" / "excavation-permit.yaml"
SITE = {"latitude": 31.897412, "longitude": 54.356901, "accuracy": 8}
ANSWERS = {
    "applicant_type": "water",
    "company_name": "شرکت آب و فاضلاب",
    "project_title": "اصلاح شبکه آب",
    "street_name": "خیابان امام",
    "route_start": {"lat": 31.8974, "lng": 54.3569},
    "length_m": 20,
    "width_m": 0.5,
    "depth_m": 1,
    "surface": "asphalt",
    "start_date": "1406/01/20",
    "duration_days": 10,
    "restoration_by": "municipality",
    "contractor_name": "پیمانکار نمونه",
}


def site_photo(folder: Path, name: str, colour: str) -> Path:
    """A small JPEG, as a phone camera would save it."""
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(buffer, "JPEG", quality=85)
    path = folder / name
    path.write_bytes(buffer.getvalue())
    return path


def fits_the_screen(page) -> bool:
    """No sideways scrolling: nothing is wider than the viewport."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_inspector_records_a_visit_on_a_phone_and_the_signatory_signs_at_a_desk(
    browser, live_server, screenshots, tmp_path
):
    # Made after the browser is up: see the conftest on database calls beside Playwright's loop.
    service = publish_definition(PROCESS.read_text(encoding="utf-8"))
    district = make_district()
    citizen = make_citizen()
    answers = {**ANSWERS, "applicant_mobile": citizen.mobile}
    inspector = make_staff(role="inspector", district=district, first_name="ایرج", last_name="بازرس")
    signatory = make_staff(role="services_deputy", district=district, first_name="سیما", last_name="معاون")
    back_office = make_staff(role=[*BACK_OFFICE_ROLES, "eservice_office"], district=district)
    staff_totp_enrol(user=signatory)
    User.objects.filter(pk=signatory.pk).update(totp_confirmed=True)
    signatory.refresh_from_db()
    authenticator = pyotp.TOTP(signatory.totp_secret, interval=30)

    case = case_submit(
        service=service,
        applicant=citizen,
        filed_by=citizen,
        answers=answers,
        channel="online",
        district=district,
    )
    code = case.tracking_code
    # Not in the story: the office's check, the coordinator and the three parallel reviewers.
    for step in ("file_request", "check_coordination", "traffic_review", "green_space_review"):
        case_advance(case=Case.objects.get(pk=case.pk), step_id=step, outcome="approve", actor=back_office)
    case_advance(
        case=Case.objects.get(pk=case.pk),
        step_id="utilities_conflict_inquiry",
        outcome="approve",
        actor=back_office,
    )
    assert open_steps(case) == {"route_site_visit"}

    pages = []
    try:
        # 1. The inspector, on a phone at the route, records the visit.
        phone = signed_in_page(browser, live_server, inspector, PHONE)
        pages.append(phone)
        phone.context.grant_permissions(["geolocation"], origin=live_server.url)
        phone.context.set_geolocation(SITE)
        phone.goto(f"/desk/inbox/{code}/")
        report = phone.locator("section[aria-labelledby=act-route_site_visit] form.inspection-report")
        assert report.is_visible()
        assert applicant_details_absent(phone, citizen)
        report.get_by_label("آنچه در محل دیدید").fill("مسیر بدون درخت و تأسیسات روباز است؛ آسفالت سالم.")
        locate = report.get_by_role("button", name="استفاده از موقعیت فعلی من")
        locate.click()
        latitude = report.locator("input[name=latitude]")
        phone.wait_for_function("document.querySelector('input[name=latitude]').value !== ''")
        assert latitude.input_value() == to_persian_digits("31.897412").replace(".", "٫")
        assert "۸" in report.locator(".locate-status").inner_text()  # accurate to about 8 m
        report.locator("input[name=photos]").set_input_files(
            str(site_photo(tmp_path, "north.jpg", "#8a7f6a"))
        )
        # The camera gives one photo per pick: "Add another photo" opens one more.
        with phone.expect_file_chooser() as chooser:
            report.get_by_role("button", name="افزودن عکس دیگر").click()
        chooser.value.set_files(str(site_photo(tmp_path, "south.jpg", "#5d6b4f")))
        assert report.locator("input[name=photos]").count() == 2
        assert fits_the_screen(phone)
        phone.screenshot(path=str(screenshots / "inspection-01-report-phone.png"), full_page=True)
        with phone.expect_navigation():
            report.locator("button[name=outcome][value=done]").click()
        assert phone.locator(".error-summary, #action-error").count() == 0
        assert "بازدید با ۲ عکس ثبت شد" in phone.locator(".messages").inner_text()
        phone.screenshot(path=str(screenshots / "inspection-02-recorded-phone.png"), full_page=True)

        visit = Case.objects.get(pk=case.pk).events.get(activity="completed", step_id="route_site_visit")
        report_data = visit.data["evidence"]["inspection"]
        assert report_data["location"] == {
            "lat": 31.897412,
            "lng": 54.356901,
            "accuracy_m": 8.0,
            "source": "device",
        }
        photos = case.documents.filter(document_type=INSPECTION_PHOTO, step_id="route_site_visit").order_by(
            "pk"
        )
        assert [p.original_name for p in photos] == ["north.jpg", "south.jpg"]
        assert report_data["photos"] == [p.pk for p in photos]

        # Not in the story: the head's visa, the fee calculation and the payment.
        for step in ("head_services_visa", "calculate_fees"):
            case_advance(
                case=Case.objects.get(pk=case.pk), step_id=step, outcome="approve", actor=back_office
            )
        case = Case.objects.get(pk=case.pk)
        case_payment_confirmed(
            case=case,
            step_id="pay_fees",
            amount=case_payment_due(case, step_id="pay_fees"),
            reference="E2E-SIGN-1",
        )
        assert open_steps(case) == {"sign_permit"}

        # 2. The deputy, at a desk, sees the visit, reads what she signs and signs.
        desk = signed_in_page(browser, live_server, signatory, DESKTOP)
        pages.append(desk)
        desk.goto(f"/desk/inbox/{code}/")
        visits = desk.locator("section[aria-labelledby=visits-heading]")
        thumbnail = visits.locator(".visit-photos img").first
        thumbnail.scroll_into_view_if_needed()
        desk.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
        assert "۳۱.۸۹۷۴۱۲" in visits.locator(".visit-location").inner_text()
        sheet = desk.locator("section[aria-labelledby=act-sign_permit] .signature-sheet")
        assert "مجوز حفاری" in sheet.locator(".signature-draft h4").inner_text()
        assert "خیابان امام" in sheet.inner_text()  # a key fact of the permit
        assert signature_sheet(case, step_id="sign_permit").sha256 in sheet.text_content()  # folded
        desk.screenshot(path=str(screenshots / "inspection-03-sign-desktop.png"), full_page=True)
        form = desk.locator("section[aria-labelledby=act-sign_permit] form.signature-form")
        form.get_by_label("این را خواندم و امضا می‌کنم").check()
        form.get_by_label("کد برنامه‌ی احراز هویت").fill(to_persian_digits(authenticator.now()))
        with desk.expect_navigation():
            form.get_by_role("button", name="امضا").click()
        assert desk.locator(".error-summary, #action-error").count() == 0, desk.locator("main").inner_text()
        desk.screenshot(path=str(screenshots / "inspection-04-signed-desktop.png"), full_page=True)

        case = Case.objects.get(pk=case.pk)
        signed = case.events.get(activity="completed", step_id="sign_permit")
        assert signed.actor == signatory
        assert signed.data["evidence"]["signature"]["outputs"] == ["permit"]
        assert case.issued.count() == 1  # issued at once (the tests' immediate task backend)
        assert open_steps(case) == {"excavation_work"}  # the contractor digs next
    finally:
        for page in pages:
            page.context.close()


def applicant_details_absent(page, citizen) -> bool:
    """The applicant's name, mobile and national ID appear nowhere on the expert's page."""
    text = page.locator("body").inner_text()
    secrets = [citizen.mobile, to_persian_digits(citizen.mobile), citizen.national_id, citizen.last_name]
    return not any(secret in text for secret in secrets)
