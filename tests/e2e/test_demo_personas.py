"""Issue 6 in a real browser: in the demo city (small, with a few weeks of history at the full
demo's pace: tests.demo.small_city), the citizen signs in with the code the SMS brings, and
clerk01, manager01 and office101 with the demo password and their authenticator code, each on
the real sign-in pages — and each finds work on the first page they see after signing in."""

import re

import pyotp
import pytest
from django.utils import translation
from django.utils.translation import gettext

from pishkhan.accounts.sms.contrib.file.plugin import read_messages
from pishkhan.demo.seed import DEMO_CITIZEN_MOBILE, DEMO_PASSWORD, demo_totp_secret
from tests.demo.small_city import demo_bank_copy, small_demo_city_seed
from tests.e2e.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.e2e


def persian(message: str) -> str:
    with translation.override("fa"):
        return gettext(message)


def citizen_signs_in(page) -> None:
    page.goto("/accounts/signin/")
    page.locator("[name=mobile]").fill(DEMO_CITIZEN_MOBILE)
    with page.expect_navigation(url="**/accounts/signin/code/"):
        page.locator("main form button.button-primary").click()
    texts = [m["text"] for m in read_messages() if m["to"] == DEMO_CITIZEN_MOBILE]
    page.locator("[name=code]").fill(re.search(r"\b(\d{6})\b", texts[-1]).group(1))
    with page.expect_navigation(url="**/services/my/"):
        page.locator("main form button.button-primary").click()


def staff_signs_in(page, username: str, lands_on: str) -> None:
    page.goto("/accounts/staff/signin/")
    page.locator("[name=username]").fill(username)
    page.locator("[name=password]").fill(DEMO_PASSWORD)
    with page.expect_navigation(url="**/accounts/staff/signin/totp/"):
        page.locator("main form button.button-primary").click()
    page.locator("[name=code]").fill(pyotp.TOTP(demo_totp_secret(username)).now())
    with page.expect_navigation(url=f"**{lands_on}"):
        page.locator("main form button.button-primary").click()


def test_the_demo_personas_sign_in_and_find_work_on_their_first_page(
    browser, live_server, screenshots, settings, tmp_path
):
    # Made after the browser is up: see the conftest on database calls beside Playwright's loop.
    settings.SMS_PROVIDER = "file"
    settings.PROCESS_BANK_DIR = demo_bank_copy(tmp_path / "bank")
    small_demo_city_seed()

    def fresh_page(viewport):
        return browser.new_context(viewport=viewport, base_url=live_server.url).new_page()

    # The citizen, on her phone: her cases, one of them waiting for her.
    page = fresh_page(PHONE)
    try:
        citizen_signs_in(page)
        assert page.locator("html[lang=fa][dir=rtl]").count() == 1
        assert page.locator(".my-cases > li").count() >= 12
        assert page.get_by_text(persian("Something waits for you: open the case.")).count() >= 1
        page.screenshot(path=str(screenshots / "demo-citizen-my-cases.png"), full_page=True)
    finally:
        page.context.close()

    # clerk01: the queue of district 1's steps.
    page = fresh_page(DESKTOP)
    try:
        staff_signs_in(page, "clerk01", "/desk/inbox/")
        assert page.locator("tr.queue-row").count() >= 1
        assert page.locator("tr.queue-row").first.get_by_text("منطقه ۱").count() >= 1
        page.screenshot(path=str(screenshots / "demo-clerk01-inbox.png"), full_page=True)
    finally:
        page.context.close()

    # manager01: the team page, with district 1's open and overdue steps.
    page = fresh_page(DESKTOP)
    try:
        staff_signs_in(page, "manager01", "/desk/inbox/team/")
        assert page.locator("#by-role-heading + .table-wrap tbody th[scope=row]").count() >= 1
        assert page.locator("article.overdue-step").count() >= 1
        page.screenshot(path=str(screenshots / "demo-manager01-team.png"), full_page=True)
    finally:
        page.context.close()

    # office101: the office's dashboard with the cases it filed.
    page = fresh_page(PHONE)
    try:
        staff_signs_in(page, "office101", "/offices/dashboard/")
        assert page.locator(".case-list > li").count() >= 1
        page.screenshot(path=str(screenshots / "demo-office101-dashboard.png"), full_page=True)
    finally:
        page.context.close()
