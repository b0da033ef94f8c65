"""The application form's widgets in a real browser, at phone and desktop widths: a citizen picks
a start date from the Jalali calendar with the keyboard, marks the site on the map inside the
district's outline and uploads the deed scan, watching its progress; the case is filed with the
date, the point and the document. The calendar's arithmetic is checked against the server's."""

import hashlib

import jdatetime
import pytest

from pishkhan.cases.models import Case
from tests.cases import hostile
from tests.cases.factories import make_citizen, make_district, publish_definition, small_process
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.test_journey import signed_in_page
from tests.portal.test_apply_row_uploads import owners_process
from tests.portal.test_apply_uploads import upload_process

pytestmark = pytest.mark.e2e

# The district the site lies in: a square of about 11 km round (35.70, 51.40).
BOUNDARY = {
    "type": "Polygon",
    "coordinates": [[[51.35, 35.65], [51.45, 35.65], [51.45, 35.75], [51.35, 35.75], [51.35, 35.65]]],
}


def has_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


def slow_uploads(page, bytes_per_second: int | None):
    """Throttle (or, with None, free) the page's network through the DevTools protocol, so an
    upload takes long enough for its progress to be seen."""
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": bytes_per_second or -1,
        },
    )
    return session


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_citizen_picks_a_date_marks_the_map_and_uploads_the_deed_with_progress(
    browser, live_server, screenshots, viewport
):
    # Made after the browser is up: see the conftest on database calls beside Playwright's loop.
    width = "phone" if viewport == PHONE else "desktop"
    district = make_district()
    district.boundary = BOUNDARY
    district.save(update_fields=["boundary"])
    service = publish_definition(upload_process(code=f"widgets-{width}"))
    citizen = make_citizen()
    page = signed_in_page(browser, live_server, citizen, viewport)
    try:
        page.goto(f"/services/{service.code}/apply/")
        page.locator("[name=area_m2]").fill("۴۵")

        # 1. The date: typed roughly, then picked from the calendar with the keyboard.
        date = page.locator("[name=start_on]")
        date.fill("1403/05/01")
        toggle = page.get_by_role("button", name="انتخاب تاریخ از تقویم: تاریخ شروع")
        toggle.click()
        calendar = page.get_by_role("dialog")
        assert calendar.locator(".datepicker-title").inner_text() == "مرداد ۱۴۰۳"
        # 1 Mordad 1403 was a Monday: Saturday and Sunday, the first two columns, are empty.
        first_week = calendar.locator("tbody tr").first.locator("td")
        assert [first_week.nth(i).inner_text() for i in range(3)] == ["", "", "۱"]
        assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "دوشنبه ۱ مرداد ۱۴۰۳"
        page.keyboard.press("ArrowLeft")  # right to left: the next day
        page.keyboard.press("ArrowDown")  # a week later, 9 Mordad
        page.keyboard.press("PageDown")  # a month later, 9 Shahrivar
        assert calendar.locator(".datepicker-title").inner_text() == "شهریور ۱۴۰۳"
        assert not has_horizontal_scroll(page)
        page.screenshot(path=screenshots / f"widgets-calendar-{width}.png", full_page=True)
        page.keyboard.press("Enter")
        assert date.input_value() == "۱۴۰۳/۰۶/۰۹"
        assert calendar.count() == 0
        assert page.evaluate("document.activeElement.classList.contains('date-toggle')")
        # Escape closes the calendar without changing the date.
        toggle.click()
        page.keyboard.press("Escape")
        assert page.get_by_role("dialog").count() == 0 and date.input_value() == "۱۴۰۳/۰۶/۰۹"

        # 2. The site: a click in the middle of the district's outline.
        map_box = page.locator("#f-site-map")
        map_box.scroll_into_view_if_needed()
        assert page.locator("#f-site-map path.leaflet-interactive").count() == 1  # the outline
        map_box.click()
        lat = float(page.locator('[name="site.lat"]').input_value())
        lng = float(page.locator('[name="site.lng"]').input_value())
        assert 35.65 < lat < 35.75 and 51.35 < lng < 51.45
        assert page.locator("#f-site-map .leaflet-marker-icon").count() == 1

        # 3. The deed scan, uploaded as soon as it is chosen, on a slow connection.
        content = hostile.padded_pdf(600 * 1024)
        session = slow_uploads(page, 200 * 1024)
        page.locator("#f-deed_scan").set_input_files(
            {"name": "سند.pdf", "mimeType": "application/pdf", "buffer": content}
        )
        page.wait_for_function(
            "() => { const bar = document.getElementById('f-deed_scan-progress');"
            " return bar && bar.value > 0 && bar.value < 100; }"
        )
        assert "در حال بارگذاری" in page.locator("#f-deed_scan-status").inner_text()
        page.locator("#f-deed_scan-box").screenshot(path=screenshots / f"widgets-uploading-{width}.png")
        page.locator("#f-deed_scan-kept").wait_for(state="visible", timeout=30_000)
        session.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        assert "سند.pdf" in page.locator("#f-deed_scan-kept").inner_text()
        assert "بارگذاری شد" in page.locator("#f-deed_scan-status").inner_text()
        assert page.locator("#f-deed_scan").input_value() == ""  # kept on the server, not sent again
        assert not has_horizontal_scroll(page)
        page.screenshot(path=screenshots / f"widgets-form-{width}.png", full_page=True)

        with page.expect_navigation(url="**/services/my/*/"):
            page.get_by_role("button", name="ارسال درخواست", exact=True).click()
        case = Case.objects.get(applicant=citizen)
        assert case.answers["start_on"] == jdatetime.date(1403, 6, 9).togregorian().isoformat()
        assert case.answers["site"] == {"lat": lat, "lng": lng}
        assert case.district == district
        document = case.documents.get()
        assert document.document_type == "deed" and document.original_name == "سند.pdf"
        assert document.file.sha256 == hashlib.sha256(content).hexdigest()
        page.screenshot(path=screenshots / f"widgets-filed-{width}.png", full_page=True)
    finally:
        page.context.close()


def test_the_calendar_arithmetic_agrees_with_the_servers_jalali_calendar(browser, live_server):
    service = publish_definition(upload_process(code="calendar-arithmetic"))
    page = signed_in_page(browser, live_server, make_citizen(), DESKTOP)
    try:
        page.goto(f"/services/{service.code}/apply/")
        known = page.evaluate(
            """() => [
                PishkhanJalali.toGregorian(1404, 1, 1), PishkhanJalali.toGregorian(1403, 12, 30),
                PishkhanJalali.toGregorian(1399, 12, 30), PishkhanJalali.toJalali(2025, 3, 21),
                PishkhanJalali.toJalali(2025, 3, 20), PishkhanJalali.toJalali(2021, 3, 20),
                PishkhanJalali.monthLength(1403, 12), PishkhanJalali.monthLength(1404, 12),
            ]"""
        )
        assert known == [
            [2025, 3, 21],
            [2025, 3, 20],
            [2021, 3, 20],
            [1404, 1, 1],
            [1403, 12, 30],
            [1399, 12, 30],
            30,
            29,
        ]
        # Every month's first and last day from 1300 to 1499, both ways, against jdatetime.
        days = []
        for year in range(1300, 1500):
            for month in range(1, 13):
                first = jdatetime.date(year, month, 1)
                last = first + jdatetime.timedelta(days=jdatetime.j_days_in_month[month - 1] - 1)
                if month == 12 and first.isleap():
                    last = jdatetime.date(year, 12, 30)
                for day in (first, last):
                    gregorian = day.togregorian()
                    days.append(
                        [[day.year, day.month, day.day], [gregorian.year, gregorian.month, gregorian.day]]
                    )
        wrong = page.evaluate(
            """(days) => days.filter(([j, g]) =>
                PishkhanJalali.toGregorian(...j).join() !== g.join() || PishkhanJalali.toJalali(...g).join() !== j.join())""",
            days,
        )
        assert wrong == []
    finally:
        page.context.close()


def test_without_javascript_the_plain_form_keeps_the_deed_through_an_error_and_files_it(
    browser, live_server, screenshots
):
    district = make_district()
    district.boundary = BOUNDARY
    district.save(update_fields=["boundary"])
    service = publish_definition(upload_process(code="widgets-no-script"))
    citizen = make_citizen()
    page = signed_in_page(browser, live_server, citizen, PHONE, script=False)
    try:
        page.goto(f"/services/{service.code}/apply/")
        assert page.locator(".date-toggle").count() == 0 and not page.locator("#f-site-map").is_visible()
        page.locator("[name=area_m2]").fill("5000")  # more than the form allows
        page.locator("[name=start_on]").fill("1403-05-12")
        page.locator('[name="site.lat"]').fill("35.7")
        page.locator('[name="site.lng"]').fill("51.4")
        page.locator("#f-deed_scan").set_input_files(
            {"name": "deed.pdf", "mimeType": "application/pdf", "buffer": hostile.pdf()}
        )
        with page.expect_navigation():
            page.get_by_role("button", name="ارسال درخواست", exact=True).click()
        assert page.locator("#f-area_m2-error").is_visible()
        assert "deed.pdf" in page.locator("#f-deed_scan-kept").inner_text()  # kept through the error
        page.screenshot(path=screenshots / "widgets-no-script-error-phone.png", full_page=True)

        page.locator("[name=area_m2]").fill("50")
        with page.expect_navigation(url="**/services/my/*/"):
            page.get_by_role("button", name="ارسال درخواست", exact=True).click()
        case = Case.objects.get(applicant=citizen)
        assert case.answers["start_on"] == "2024-08-02" and case.answers["site"] == {"lat": 35.7, "lng": 51.4}
        assert case.documents.get().original_name == "deed.pdf"
    finally:
        page.context.close()


def test_a_citizen_adds_an_owner_and_uploads_each_owners_id_card_in_its_row(
    browser, live_server, screenshots
):
    district = make_district()
    service = publish_definition(owners_process())
    citizen = make_citizen()
    page = signed_in_page(browser, live_server, citizen, PHONE)
    cards = {0: hostile.png(colour="teal"), 1: hostile.png(colour="orange")}
    try:
        page.goto(f"/services/{service.code}/apply/")
        page.locator("[name=area_m2]").fill("۴۵")
        page.get_by_label("منطقه").select_option(district.code)
        page.locator('[name="owners[0].name"]').fill("مریم")
        page.locator("#f-owners-0-id_card").set_input_files(
            {"name": "مریم.png", "mimeType": "image/png", "buffer": cards[0]}
        )
        page.locator("#f-owners-0-id_card-kept").wait_for(state="visible")

        page.get_by_role("button", name="افزودن ردیف").click()
        # The new row's control is its own, empty: the first row's file stays the first row's.
        assert page.locator("#f-owners-1-id_card-box").get_attribute("data-upload") == "owners[1].id_card"
        assert not page.locator("#f-owners-1-id_card-kept").is_visible()
        page.locator('[name="owners[1].name"]').fill("رضا")
        page.locator("#f-owners-1-id_card").set_input_files(
            {"name": "رضا.png", "mimeType": "image/png", "buffer": hostile.svg_with_script()}
        )
        error = page.locator("#f-owners-1-id_card-error")
        error.wait_for(state="visible")
        assert "ردیف ۲" in error.inner_text()  # the refusal names the row
        page.locator("#f-owners-1-id_card").set_input_files(
            {"name": "رضا.png", "mimeType": "image/png", "buffer": cards[1]}
        )
        page.locator("#f-owners-1-id_card-kept").wait_for(state="visible")
        assert "رضا.png" in page.locator("#f-owners-1-id_card-kept").inner_text()
        assert "مریم.png" in page.locator("#f-owners-0-id_card-kept").inner_text()
        assert not error.is_visible()
        page.screenshot(path=screenshots / "widgets-owner-rows-phone.png", full_page=True)

        with page.expect_navigation(url="**/services/my/*/"):
            page.get_by_role("button", name="ارسال درخواست", exact=True).click()
        case = Case.objects.get(applicant=citizen)
        assert [row["id_card"] for row in case.answers["owners"]] == [
            hashlib.sha256(cards[0]).hexdigest(),
            hashlib.sha256(cards[1]).hexdigest(),
        ]
        assert [d.original_name for d in case.documents.order_by("pk")] == ["مریم.png", "رضا.png"]
    finally:
        page.context.close()


def test_without_javascript_a_citizen_adds_an_owner_row_and_sends_each_owners_card(browser, live_server):
    district = make_district()
    service = publish_definition(owners_process())
    citizen = make_citizen()
    page = signed_in_page(browser, live_server, citizen, PHONE, script=False)
    cards = [hostile.png(colour="teal"), hostile.png(colour="olive")]
    try:
        page.goto(f"/services/{service.code}/apply/")
        page.locator("[name=area_m2]").fill("45")
        page.get_by_label("منطقه").select_option(district.code)
        page.locator('[name="owners[0].name"]').fill("مریم")
        page.locator("#f-owners-0-id_card").set_input_files(
            {"name": "مریم.png", "mimeType": "image/png", "buffer": cards[0]}
        )
        with page.expect_navigation():
            page.get_by_role("button", name="افزودن ردیف").click()
        # The server drew the second row, focused; the first row's file is kept with the form.
        assert page.evaluate("document.activeElement.name") == "owners[1].name"
        assert "مریم.png" in page.locator("#f-owners-0-id_card-kept").inner_text()
        page.locator('[name="owners[1].name"]').fill("رضا")
        page.locator("#f-owners-1-id_card").set_input_files(
            {"name": "رضا.png", "mimeType": "image/png", "buffer": cards[1]}
        )
        with page.expect_navigation(url="**/services/my/*/"):
            page.get_by_role("button", name="ارسال درخواست", exact=True).click()
        case = Case.objects.get(applicant=citizen)
        assert [row["name"] for row in case.answers["owners"]] == ["مریم", "رضا"]
        assert [d.original_name for d in case.documents.order_by("pk")] == ["مریم.png", "رضا.png"]
    finally:
        page.context.close()


def owners_with_phones_process() -> dict:
    """A repeated group inside a repeated group: owners (one to three), each with one or two
    phone numbers."""
    label = lambda fa, en: {"fa": fa, "en": en}  # noqa: E731
    return small_process(
        code="owners-phones",
        fields=[
            {"id": "area_m2", "type": "number", "label": label("مساحت", "Area"), "required": True},
            {
                "id": "owners",
                "type": "group",
                "label": label("مالکان", "Owners"),
                "repeat": {"min": 1, "max": 3},
                "fields": [
                    {"id": "name", "type": "text", "label": label("نام", "Name"), "required": True},
                    {
                        "id": "phones",
                        "type": "group",
                        "label": label("تلفن‌ها", "Phones"),
                        "repeat": {"min": 1, "max": 2},
                        "fields": [{"id": "number", "type": "text", "label": label("شماره", "Number")}],
                    },
                ],
            },
        ],
    )


def test_a_row_added_in_the_browser_brings_its_own_working_inner_rows(browser, live_server):
    district = make_district()
    service = publish_definition(owners_with_phones_process())
    citizen = make_citizen()
    page = signed_in_page(browser, live_server, citizen, PHONE)
    owners = page.locator('[data-repeat="owners"]')
    add_owner = owners.locator(':scope > [data-add-row="owners"]')
    try:
        page.goto(f"/services/{service.code}/apply/")
        page.locator("[name=area_m2]").fill("۴۵")
        page.get_by_label("منطقه").select_option(district.code)
        page.locator('[name="owners[0].name"]').fill("مریم")
        page.locator('[name="owners[0].phones[0].number"]').fill("02188001122")
        page.locator('[data-add-row="owners[0].phones"]').click()
        page.locator('[name="owners[0].phones[1].number"]').fill("09121112233")

        add_owner.click()
        second = page.locator('[data-repeat="owners"] > .apply-row[data-row="1"]')
        # The copy of the first owner holds one empty phone row, renamed with it, and its own button.
        assert second.locator("input").evaluate_all("inputs => inputs.map(i => [i.name, i.value])") == [
            ["owners[1].name", ""],
            ["owners[1].phones[0].number", ""],
        ]
        inner_add = second.locator('[data-add-row="owners[1].phones"]')
        assert inner_add.get_attribute("value") == "add-row:owners[1].phones" and inner_add.is_visible()
        page.locator('[name="owners[1].name"]').fill("رضا")
        page.locator('[name="owners[1].phones[0].number"]').fill("09123334455")
        inner_add.click()  # in place: the script adds the row, the page stays
        assert page.url.endswith(f"/services/{service.code}/apply/")
        page.locator('[name="owners[1].phones[1].number"]').fill("09125556677")
        assert not inner_add.is_visible()  # two phones is the most
        assert page.locator('[data-add-row="owners[0].phones"]').is_hidden()
        assert add_owner.is_visible()

        with page.expect_navigation(url="**/services/my/*/"):
            page.get_by_role("button", name="ارسال درخواست", exact=True).click()
        case = Case.objects.get(applicant=citizen)
        assert case.answers["owners"] == [
            {"name": "مریم", "phones": [{"number": "02188001122"}, {"number": "09121112233"}]},
            {"name": "رضا", "phones": [{"number": "09123334455"}, {"number": "09125556677"}]},
        ]
    finally:
        page.context.close()
