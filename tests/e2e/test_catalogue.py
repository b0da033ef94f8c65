"""The service catalogue in a real browser: a citizen on a phone searches with Arabic letters and
reads a service's steps; a process owner at a desk compares versions and district variants."""

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from pishkhan.accounts.models import Role, RoleBinding, User, UserKind
from pishkhan.catalog.bank import bank_load

from .conftest import DESKTOP

pytestmark = pytest.mark.e2e

REAL_BANK = Path(__file__).resolve().parents[2] / "processes"
ARABIC_YEH = "\u064a"


def has_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


@pytest.fixture
def bank(page):
    """The shipped process bank, loaded into the live server's database (after the browser is up:
    see the conftest on database calls beside Playwright's event loop)."""
    from pishkhan.demo.seed import seed_districts

    seed_districts()
    report = bank_load(directory=REAL_BANK)
    assert report.ok, report.lines()
    return report


def test_a_citizen_on_a_phone_finds_the_building_permit_typed_with_arabic_yeh(page, bank, screenshots):
    query = (
        f"پروانه ساختمان{ARABIC_YEH}"  # the last letter is Arabic Yeh (U+064A), as Arabic keyboards type it
    )
    page.goto("/services/")
    assert page.locator("html[lang=fa][dir=rtl]").count() == 1

    page.get_by_role("searchbox").fill(query)
    page.get_by_role("searchbox").press("Enter")
    page.wait_for_url("**/services/?q=*")

    results = page.locator(".service-list")
    assert results.get_by_role("link", name="پروانه ساختمانی", exact=True).is_visible()
    assert page.get_by_role("searchbox").input_value() == query  # kept as typed
    assert not has_horizontal_scroll(page)
    page.screenshot(path=screenshots / "catalogue-search-phone.png", full_page=True)

    results.get_by_role("link", name="پروانه ساختمانی", exact=True).click()
    page.wait_for_url("**/services/building-permit/")

    assert page.get_by_role("heading", level=1).inner_text() == "پروانه ساختمانی"
    steps = page.locator("#steps")
    assert steps.get_by_role("heading", name="مراحل").is_visible()
    # 129 steps are shown in stages the reader opens; the first stage's steps are hidden until then.
    stages = steps.locator(".stage")
    assert stages.count() >= 5
    first_step = stages.first.locator(".flow-step").first
    assert not first_step.is_visible()
    stages.first.locator("summary").click()
    assert first_step.is_visible()
    assert steps.locator(".stage-meta .tag-discretionary").first.is_visible()  # counted on each stage
    assert not has_horizontal_scroll(page)
    page.screenshot(path=screenshots / "catalogue-service-phone.png", full_page=False)

    # The button opens every stage at once (a few lines of local JavaScript).
    steps.get_by_role("button", name="باز کردن همه بخش‌ها").click()
    assert stages.last.locator(".flow-step").last.is_visible()
    parallel = steps.locator(".flow-parallel").first
    parallel.scroll_into_view_if_needed()
    parallel.screenshot(path=screenshots / "catalogue-parallel-phone.png")


def test_a_visitor_on_a_desktop_reads_a_service_in_english(page, bank, live_server, screenshots):
    page.set_viewport_size(DESKTOP)
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
    page.goto("/services/excavation-permit/")

    assert page.locator("html[lang=en][dir=ltr]").count() == 1
    assert page.get_by_role("heading", level=1).inner_text() == "Excavation permit"
    assert page.locator("#steps .flow-step").count() > 0
    assert not has_horizontal_scroll(page)
    page.screenshot(path=screenshots / "catalogue-service-desktop-en.png", full_page=True)


def test_a_process_owner_compares_versions_and_district_variants_at_a_desk(
    page, bank, live_server, screenshots
):
    owner = User.objects.create(username="owner", kind=UserKind.STAFF, first_name="Maryam", last_name="Owner")
    # Transactional tests flush the tables, the standard roles of the data migration with them.
    role, _ = Role.objects.get_or_create(
        code="process_owner", defaults={"name_fa": "مالک فرایند", "name_en": "Process owner"}
    )
    RoleBinding.objects.create(user=owner, role=role)
    client = Client()
    client.force_login(owner)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            },
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url},
        ]
    )
    page.set_viewport_size(DESKTOP)

    page.goto("/desk/processes/?sort=steps&order=desc")
    first_row = page.locator("tbody tr").first
    assert "Building permit" in first_row.inner_text()
    page.screenshot(path=screenshots / "desk-processes-desktop-en.png")

    page.get_by_role("link", name="Building permit", exact=True).click()
    page.wait_for_url("**/desk/processes/building-permit/")
    matrix = page.locator("table.matrix")
    assert "Version 1 in District 7" in matrix.inner_text()
    assert matrix.locator(".delta-better").count() > 0
    assert not has_horizontal_scroll(page)
    page.screenshot(path=screenshots / "desk-process-desktop-en.png", full_page=True)

    page.goto("/desk/processes/building-permit/compare?a=1&b=2")
    assert page.get_by_role("heading", level=1).inner_text() == "Version 1 and Version 2"
    assert page.locator(".diff-removed").count() > 0
    page.screenshot(path=screenshots / "desk-compare-desktop-en.png")
