"""The staff inbox in a real browser: a manager at a desktop opens the team page, finds an overdue
step and gives it to another clerk. Staff sign in with a TOTP code, so the test signs the
manager in through Django's test client and hands the session cookie to the browser."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from pishkhan.cases.models import Alert, Position, PositionState
from tests.cases.factories import make_district, make_staff, publish_definition, small_process, submit_case
from tests.e2e.conftest import DESKTOP

pytestmark = pytest.mark.e2e


def signed_in_context(browser, live_server, user):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context


def test_a_manager_reassigns_an_overdue_step_from_the_team_page(browser, live_server, screenshots):
    # Made after the browser is up: see the conftest on database calls beside Playwright's loop.
    district = make_district()
    manager = make_staff(role="manager", district=district, first_name="Mina", last_name="Manager")
    busy = make_staff(role="clerk", district=district, first_name="Babak", last_name="Busy")
    free = make_staff(role="clerk", district=district, first_name="Farid", last_name="Free")
    case = submit_case(service=publish_definition(small_process()), district=district)
    review = case.positions.get(step_id="review")
    Position.objects.filter(pk=review.pk).update(
        state=PositionState.CLAIMED,
        assignee=busy,
        due_at=timezone.now() - dt.timedelta(days=2),
        alert=Alert.OVERDUE,
    )

    context = signed_in_context(browser, live_server, manager)
    page = context.new_page()
    try:
        page.goto("/desk/inbox/team/")
        assert page.locator("html[lang=fa][dir=rtl]").count() == 1
        step = page.locator(f"#step-{review.pk}")
        assert step.is_visible()
        assert "Babak Busy" in step.locator(".assignee").inner_text()

        step.locator("select[name=to]").select_option(str(free.pk))
        step.locator("input[name=reason]").fill("مرخصی همکار")
        step.locator("button[type=submit]").click()
        page.wait_for_load_state()

        step = page.locator(f"#step-{review.pk}")
        assert "Farid Free" in step.locator(".assignee").inner_text()
        assert page.locator(".messages").is_visible()
        page.screenshot(path=str(screenshots / "desk-inbox-team-reassigned.png"), full_page=True)
    finally:
        context.close()

    review.refresh_from_db()
    assert review.assignee == free
    assert case.events.order_by("-seq").first().activity == "reassigned"
