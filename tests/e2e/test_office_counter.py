"""The office counter's acceptance story, in a real browser at a desktop (and the office's pages at
a phone's width too): an e-service office operator signs in with a password and an authenticator
code, identifies a walk-in citizen by national ID and mobile with the consent code the citizen reads
out, fills in the real building permit form — the site on the map, the owners, the deed scan and
the ID cards uploaded with their progress — and files it. The case is on the office's dashboard;
the filing fee is paid through the sandbox gateway and appears in the office's monthly statement
with the office's and the city's shares."""

import re
from pathlib import Path

import pyotp
import pytest

from pishkhan.accounts.sms.contrib.file.plugin import read_messages
from pishkhan.cases.models import Case, CaseEvent, Channel
from pishkhan.core.text import to_persian_digits
from pishkhan.demo.seed import DEMO_PASSWORD, demo_totp_secret
from pishkhan.offices.selectors import current_jalali_month
from pishkhan.payments.models import Payment, PaymentStatus
from tests.cases import hostile
from tests.cases.factories import (
    make_district,
    make_office,
    make_operator,
    mobile_new,
    national_id_new,
    publish_definition,
)
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.test_journey import open_steps

pytestmark = pytest.mark.e2e

PROCESS = Path(__file__).resolve().parents[2] / "processes" / "building-permit.yaml"
# District 1 of the demo city, as a square round the plot.
BOUNDARY = {
    "type": "Polygon",
    "coordinates": [[[51.38, 35.68], [51.44, 35.68], [51.44, 35.74], [51.38, 35.74], [51.38, 35.68]]],
}
FILING_FEE = 2_500_000  # processes/building-permit.yaml, fee filing_fee


def rials(amount: int) -> str:
    """An amount as the `money` filter shows it in Persian: ۲٬۵۰۰٬۰۰۰ ریال."""
    return to_persian_digits(f"{amount:,}", number=True) + " ریال"


def office101(office):
    """The demo city's operator, as `pishkhan demo` makes it: password and authenticator secret."""
    operator = make_operator("office101", office=office, last_name="اکبری")
    operator.first_name = "سعید"
    operator.set_password(DEMO_PASSWORD)
    operator.totp_secret = demo_totp_secret("office101")
    operator.totp_confirmed = True
    operator.save()
    return operator


def operator_signs_in(page, operator) -> None:
    """From the counter's URL through the staff sign-in: password, then the authenticator code."""
    page.goto("/services/counter/")
    assert "/accounts/staff/signin/" in page.url
    page.locator("[name=username]").fill(operator.username)
    page.locator("[name=password]").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    page.locator("[name=code]").fill(pyotp.TOTP(operator.totp_secret).now())
    with page.expect_navigation(url="**/services/counter/"):
        page.locator("main form button[type=submit]").click()


def test_an_operator_files_a_building_permit_for_a_walk_in_citizen_and_the_fee_reaches_the_statement(
    browser, live_server, screenshots, settings
):
    # Made after the browser is up: see the conftest on database calls beside Playwright's loop.
    settings.SMS_PROVIDER = "file"
    settings.OFFICE_FEE_SHARE_PERCENT = 20
    service = publish_definition(PROCESS.read_text(encoding="utf-8"))
    district = make_district()
    district.boundary = BOUNDARY
    district.save(update_fields=["boundary"])
    office = make_office(district=district, name="دفتر خدمات الکترونیک شهر ۱۰۱")
    operator = office101(office)
    national_id, mobile = national_id_new(), mobile_new()
    shot = 0

    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    page = context.new_page()

    def snap(name: str, target=None) -> None:
        nonlocal shot
        shot += 1
        (target or page).screenshot(path=str(screenshots / f"counter-{shot:02d}-{name}.png"), full_page=True)

    try:
        # 1. The operator signs in: password, then the authenticator code.
        operator_signs_in(page, operator)

        # 2. The walk-in citizen's national ID and mobile, from the identity card; the consent code
        # goes to the mobile and the citizen reads it out.
        page.locator("#national_id").fill(to_persian_digits(national_id))
        page.locator("#mobile").fill(mobile)
        page.locator("#service").select_option(label="پروانه ساختمانی")
        snap("identify")
        with page.expect_navigation():
            page.locator("button[value=send]").click()
        code = [re.search(r"\b(\d{6})\b", m["text"]).group(1) for m in read_messages() if m["to"] == mobile][
            -1
        ]
        page.locator("#code").fill(code)
        with page.expect_navigation(url="**/services/counter/file/"):
            page.locator("button[value=verify]").click()
        assert to_persian_digits(national_id) in page.locator("main").inner_text()

        # 3. The building permit form, as the owner's papers say.
        page.locator("[name=plot_registration_no]").fill("۱۲۳۴ فرعی از ۵۶ اصلی")
        page.locator("[name=registry_section]").fill("۱۱ تهران")
        map_box = page.locator("#f-location-map")
        map_box.scroll_into_view_if_needed()
        map_box.click()  # the middle of the district's outline
        lat = float(page.locator('[name="location.lat"]').input_value())
        assert 35.68 < lat < 35.74
        page.locator("[name=address]").fill("تهران، خیابان انقلاب، کوچه بهار، پلاک ۷")
        page.locator("[name=postal_code]").fill("1315693711")
        page.locator("[name=plot_area]").fill("۲۰۰")
        page.locator("[name=built_area]").fill("۴۸۰")
        page.locator("[name=floors]").fill("۴")
        page.locator("[name=basements]").fill("۱")
        page.locator("[name=units]").fill("۸")
        page.locator("[name=usage][value=residential]").check()
        page.locator("[name=zone][value=r2]").check()
        page.locator("[name=parking_deficit]").fill("۰")
        page.locator('[name="owners[0].full_name"]').fill("مریم کریمی")
        page.locator('[name="owners[0].national_id"]').fill(national_id)
        page.locator('[name="owners[0].share"]').fill("۶")
        page.locator("[name=applicant_mobile]").fill(mobile)
        page.locator("[name=supervisor_licence]").fill("۱-۰۱-۲۳۴۵۶")
        # The scans, each uploaded as soon as it is chosen, with its progress.
        page.locator("#f-deed_scan").set_input_files(
            {"name": "deed.pdf", "mimeType": "application/pdf", "buffer": hostile.pdf()}
        )
        page.locator("#f-deed_scan-kept").wait_for(state="visible")
        assert "بارگذاری شد" in page.locator("#f-deed_scan-status").inner_text()
        id_cards = page.locator("[data-upload='_document.id_cards']")
        id_cards.locator("input[type=file]").set_input_files(
            {"name": "id-cards.jpg", "mimeType": "image/jpeg", "buffer": hostile.jpeg()}
        )
        id_cards.locator(".upload-kept").wait_for(state="visible")
        snap("form")
        with page.expect_navigation(url="**/services/my/*/"):
            page.locator(".apply-actions button.button-primary").click()

        case = Case.objects.get(applicant__national_id=national_id)
        code = case.tracking_code
        assert case.service == service and case.channel == Channel.OFFICE
        assert case.office == office and case.filed_by == operator
        assert case.district == district
        assert sorted(case.documents.values_list("document_type", flat=True)) == ["deed", "id_cards"]
        assert case.answers["deed_scan"] == case.documents.get(document_type="deed").file.sha256
        assert to_persian_digits(code) in page.locator(".messages").inner_text()
        # The operator checked the file at the counter: the office's intake step is done by them.
        intake = CaseEvent.objects.filter(case=case, step_id="file_case").last()
        assert (intake.activity, intake.actor, intake.office) == ("completed", operator, office)
        assert open_steps(case) == {"pay_filing_fee"}
        snap("filed")

        # 4. The case is on the office's dashboard.
        page.goto("/offices/dashboard/")
        assert to_persian_digits(code) in page.locator("main").inner_text()
        snap("dashboard")

        # 5. The citizen pays the filing fee at the counter: the operator opens the payment through
        # the sandbox gateway.
        page.goto(f"/services/my/{code}/")
        assert rials(FILING_FEE) in page.locator("main").inner_text()
        with page.expect_navigation(url="**/payments/sandbox/**"):
            page.locator("form[action*='/payments/start/'] button[type=submit]").click()
        with page.expect_navigation(url="**/payments/result/**"):
            page.get_by_role("button", name="پرداخت", exact=True).click()
        snap("paid")
        payment = Payment.objects.get(case=case)
        assert payment.status == PaymentStatus.PAID and payment.amount == FILING_FEE

        # 6. The fee is in the office's statement for the month it was paid, with the shares.
        paid = CaseEvent.objects.get(case=case, activity="paid")
        year, month = current_jalali_month(paid.completed_at)
        page.goto(f"/offices/statement/?year={year}&month={month}")
        row = page.locator("tbody tr", has_text=to_persian_digits(code))
        assert row.count() == 1
        cells = row.locator("td").all_inner_texts()
        assert cells[-3:] == [rials(FILING_FEE), rials(500_000), rials(2_000_000)]
        snap("statement")
        page.set_viewport_size(PHONE)
        snap("statement-phone")
        page.goto("/offices/dashboard/")
        snap("dashboard-phone")
    finally:
        context.close()


def test_a_suspended_office_is_told_at_the_counter_that_it_cannot_file(browser, live_server, screenshots):
    district = make_district()
    office = make_office(district=district, name="دفتر خدمات الکترونیک شهر ۱۱۷")
    operator = office101(office)
    office.status = "suspended"
    office.save(update_fields=["status"])
    context = browser.new_context(viewport=PHONE, base_url=live_server.url)
    page = context.new_page()
    try:
        operator_signs_in(page, operator)
        alert = page.get_by_role("alert")
        assert "تعلیق" in alert.inner_text()
        assert page.locator("#national_id").count() == 0  # no form: nothing to file with
        page.screenshot(path=str(screenshots / "counter-suspended.png"), full_page=True)
        assert not Case.objects.filter(office=office).exists()
    finally:
        context.close()
