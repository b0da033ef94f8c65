"""The staff map in a real browser: a district manager at a desktop sees the 22 districts drawn by
Leaflet, the open cases of their district as markers (the overdue one marked apart), and opens a
case from its marker. No base tiles are configured, as in the demo: nothing outside is asked."""

import datetime as dt
import random

import pytest
from django.utils import timezone

from pishkhan.accounts.models import District
from pishkhan.cases.models import Position
from pishkhan.core.text import to_persian_digits
from pishkhan.demo.geography import point_in_district
from pishkhan.demo.seed import seed_districts
from tests.cases.factories import SMALL_ANSWERS, make_staff, publish_definition, small_process, submit_case
from tests.e2e.test_inbox import signed_in_context

pytestmark = pytest.mark.e2e


def mapped_service():
    process = small_process(code="mapped-permit")
    process["fields"].append(
        {
            "id": "place",
            "type": "map_point",
            "label": {"fa": "محل کار", "en": "Place of work"},
            "required": False,
        }
    )
    return publish_definition(process)


def test_a_manager_sees_the_districts_and_the_cases_on_the_map(browser, live_server, screenshots):
    # Made after the browser is up: see the conftest on database calls beside Playwright's loop.
    seed_districts()
    six, twelve = District.objects.get(number=6), District.objects.get(number=12)
    service = mapped_service()
    rng = random.Random(6)

    def file_in(district):
        lat, lng = point_in_district(rng, district.number)
        answers = {**SMALL_ANSWERS, "place": {"lat": lat, "lng": lng}}
        return submit_case(service=service, district=district, answers=answers)

    mine = [file_in(six) for _ in range(3)]
    hidden = file_in(twelve)
    Position.objects.filter(case=mine[0], step_id="review").update(
        due_at=timezone.now() - dt.timedelta(days=3)
    )
    manager = make_staff(role="manager", district=six)

    context = signed_in_context(browser, live_server, manager)
    outside = []
    context.route(
        lambda url: not url.startswith(live_server.url),
        lambda route: (outside.append(route.request.url), route.abort()),
    )
    page = context.new_page()
    try:
        page.goto("/desk/map/")
        assert page.locator("html[lang=fa][dir=rtl]").count() == 1
        page.wait_for_selector("#case-map .leaflet-marker-pane .case-marker")

        polygons = page.locator("#case-map .leaflet-overlay-pane svg path.leaflet-interactive")
        assert polygons.count() == 22
        assert page.locator("#case-map .district-label", has_text="منطقه ۶").count() == 1
        markers = page.locator("#case-map .leaflet-marker-pane .case-marker")
        assert markers.count() == 3
        assert page.locator("#case-map .leaflet-marker-pane .case-marker-overdue").count() == 1
        codes = {markers.nth(k).get_attribute("data-tracking-code") for k in range(3)}
        assert codes == {case.tracking_code for case in mine}
        assert hidden.tracking_code not in codes
        assert page.locator(".map-legend").is_visible()
        # The table stays below the map with the same counts, in Persian digits.
        assert "۳" in page.locator("#district-d06").inner_text()

        page.screenshot(path=str(screenshots / "desk-map.png"), full_page=True)

        overdue = page.locator("#case-map .leaflet-marker-pane .case-marker-overdue")
        overdue.hover()
        tooltip = page.locator(".leaflet-tooltip", has_text=to_persian_digits(mine[0].tracking_code))
        assert tooltip.is_visible()
        overdue.click()
        page.wait_for_url(f"**/desk/inbox/{mine[0].tracking_code}/")
        assert page.locator("h1").is_visible()
    finally:
        context.close()
    assert outside == []
