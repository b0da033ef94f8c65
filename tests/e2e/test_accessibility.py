"""Accessibility, checked by a real tool: axe-core (from npm, a devDependency in package.json) runs
in Debian's Chromium on the pages of the tour (tests/portal/tour.py) — the citizen pages at phone
width, the staff and office pages at phone and desktop widths — and on the apply form and the
tracking page after a person has used them (errors shown, calendar open, point marked, answer
given), against the WCAG 2.1 A and AA rules. Any violation axe rates "serious" or "critical" fails
the test, which prints each one's rule, what it asks and the elements at fault; milder violations,
and what axe could not decide by itself (contrast over a gradient or a map), are printed for a
person to look at (`pytest -s`). Screenshots of every page checked: test-artifacts/screenshots/.

axe is read from node_modules/ and put into each page by Playwright; Pishkhan never serves it.

And a keyboard check on the apply form: the first Tab reaches the skip link, which shows; Tab
then walks the header and the form's fields in the order they are seen, top to bottom and right
to left, each visibly outlined when it has focus; the skip link leads to the first field."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from pishkhan.core.text import to_persian_digits
from tests.e2e.conftest import DESKTOP, PHONE, running_in_ci
from tests.portal.tour import CITIZEN, STAFF, TourPage, tour_build

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = {"serious", "critical"}


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        message = f"{AXE} is missing: run `npm ci` (axe-core is a devDependency in package.json)"
        if running_in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


def open_as(browser, live_server, user, viewport):
    """A fresh page at `viewport`, signed in as `user` (None: a visitor). Signed in through the test
    client's session cookie, as staff would otherwise need a TOTP code. bypass_csp: axe is put in
    as an inline script, which a future Content-Security-Policy must not stop in the tests.
    reduced_motion: what moves, moves at once (the skip link sliding in)."""
    context = browser.new_context(
        viewport=viewport, base_url=live_server.url, bypass_csp=True, reduced_motion="reduce"
    )
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
        context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    return context.new_page()


def axe_run(page, axe_source: str) -> dict:
    """Run axe on the page as it stands, against the WCAG 2.1 A/AA rules; return its results."""
    page.add_script_tag(content=axe_source)
    result = page.evaluate(
        """(tags) => axe.run(document, {
            runOnly: {type: "tag", values: tags},
            resultTypes: ["violations", "incomplete"],
        })""",
        WCAG_21_AA,
    )
    # A check that checked nothing must not pass: axe ran, and ran its rules on this page.
    assert result["testEngine"]["name"] == "axe-core" and result["passes"], page.url
    return result


def describe(where: str, finding: dict) -> str:
    """One finding as the failure message shows it: impact, page, rule, what it asks, elements."""
    shown = finding["nodes"][:8]
    lines = [
        f"  [{finding['impact']}] {where}: {finding['id']} — {finding['help']}",
        f"    {finding['helpUrl'].split('?')[0]}",
    ]
    for node in shown:
        summary = (node.get("failureSummary") or "").strip().splitlines()
        checks = node.get("any", []) + node.get("all", []) + node.get("none", [])
        why = summary[-1].strip() if summary else "; ".join(check["message"] for check in checks)
        lines.append(f"      {' '.join(map(str, node['target']))}: {why}")
    if len(finding["nodes"]) > len(shown):
        lines.append(f"      … and {len(finding['nodes']) - len(shown)} more")
    return "\n".join(lines)


class Findings:
    """What axe says about the pages checked: violations rated serious or critical fail the test;
    the others, and what axe could not decide (for example contrast over a gradient), are printed
    for a person to look at."""

    def __init__(self, axe_source: str, screenshots: Path):
        self.axe_source = axe_source
        self.screenshots = screenshots
        self.failing: list[str] = []
        self.other: list[str] = []
        self.undecided: list[str] = []

    def check(self, page, where: str, shot: str) -> None:
        result = axe_run(page, self.axe_source)
        for violation in result["violations"]:
            bucket = self.failing if violation["impact"] in FAILING_IMPACTS else self.other
            bucket.append(describe(where, violation))
        self.undecided += [describe(where, finding) for finding in result["incomplete"]]
        page.screenshot(path=str(self.screenshots / f"a11y-{shot}.png"), full_page=True)

    def check_tour(self, browser, live_server, pages: list[TourPage], viewports) -> None:
        """Open every page at every viewport, as its user, and check it."""
        for tour_page in pages:
            for width, viewport in viewports:
                page = open_as(browser, live_server, tour_page.user, viewport)
                try:
                    response = page.goto(tour_page.url)
                    assert response.status == 200, (tour_page.name, response.status)
                    page.wait_for_load_state("networkidle")  # the maps draw after their scripts load
                    where = f"{tour_page.name} ({width}) {tour_page.url}"
                    self.check(page, where, f"{tour_page.name.replace(' ', '-')}-{width}")
                finally:
                    page.context.close()

    def assert_none_serious(self) -> None:
        for title, found in (
            ("axe could not decide; look at these by hand", self.undecided),
            ("axe, moderate and minor (not failing)", self.other),
            ("axe, serious and critical", self.failing),
        ):
            if found:
                print(f"\n{title}:\n" + "\n".join(found))
        assert not self.failing, "WCAG 2.1 AA violations (axe):\n" + "\n".join(self.failing)


@pytest.fixture
def findings(axe_source, screenshots) -> Findings:
    return Findings(axe_source, screenshots)


def test_citizen_pages_have_no_serious_accessibility_violations_on_a_phone(browser, live_server, findings):
    # Made after the browser is up: see the conftest on database calls beside Playwright's loop.
    pages = [page for page in tour_build().pages if page.audience == CITIZEN]
    findings.check_tour(browser, live_server, pages, [("phone", PHONE)])
    findings.assert_none_serious()


def test_staff_pages_have_no_serious_accessibility_violations_on_a_phone_or_a_desktop(
    browser, live_server, findings
):
    pages = [page for page in tour_build().pages if page.audience == STAFF]
    findings.check_tour(browser, live_server, pages, [("phone", PHONE), ("desktop", DESKTOP)])
    findings.assert_none_serious()


def test_the_apply_form_and_tracking_in_use_have_no_serious_accessibility_violations(
    browser, live_server, findings
):
    """The states a page is in after a person acts: the form sent empty (the error summary and
    the fields marked invalid), the calendar open, a point marked on the map; the tracking page
    answering a code."""
    tour = tour_build()
    apply = tour.page("apply")
    page = open_as(browser, live_server, apply.user, PHONE)
    try:
        page.goto(apply.url)
        with page.expect_navigation():
            page.locator("form.apply-form button[type=submit]:not([name])").last.click()
        assert page.locator(".apply-summary").is_visible()
        findings.check(page, "apply: sent empty (phone)", "apply-errors-phone")
        page.locator(".date-toggle").first.click()
        assert page.get_by_role("dialog").is_visible()
        findings.check(page, "apply: calendar open (phone)", "apply-calendar-phone")
        page.keyboard.press("Escape")
        page.locator(".map-point-map").first.scroll_into_view_if_needed()
        page.locator(".map-point-map").first.click()
        assert page.locator(".map-point-map .leaflet-marker-icon").count() == 1
        findings.check(page, "apply: a point marked (phone)", "apply-marked-phone")
    finally:
        page.context.close()

    track = tour.page("tracking")
    page = open_as(browser, live_server, None, PHONE)
    try:
        page.goto(track.url)
        page.locator("[name=tracking_code]").fill(tour.case_code)
        page.locator("[name=second_factor]").fill(tour.citizen.mobile)
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        assert to_persian_digits(tour.case_code) in page.locator("main").inner_text()
        findings.check(page, "tracking: the answer (phone)", "tracking-answer-phone")
    finally:
        page.context.close()
    findings.assert_none_serious()


FOCUSED = """() => {
    const element = document.activeElement;
    const style = getComputedStyle(element);
    const box = element.getBoundingClientRect();
    const label = element.getAttribute("aria-label") || element.labels?.[0]?.textContent || element.textContent;
    return {
        what: `${element.tagName.toLowerCase()} ${element.getAttribute("name") || element.id || ""} ${
            (label || "").trim().slice(0, 40)}`,
        skipLink: element.classList.contains("skip-link"),
        main: element.id === "main",
        inForm: Boolean(element.closest("form.apply-form")),
        send: element.matches("form.apply-form button[type=submit]:not([name])"),
        top: box.top + window.scrollY,
        bottom: box.bottom + window.scrollY,
        left: box.left + window.scrollX,
        right: box.right + window.scrollX,
        outlined: (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== "none",
    };
}"""
IN_VIEW = """() => {
    const box = document.activeElement.getBoundingClientRect();
    return box.bottom > 0 && box.top < window.innerHeight && box.width > 0;
}"""
# The form's fields a keyboard must reach: what is shown and enabled (a radio group is one stop).
FIELDS = """() => [...new Set([...document.querySelectorAll(
    "form.apply-form input:not([type=hidden]), form.apply-form select, form.apply-form textarea"
)].filter((e) => e.offsetParent !== null && !e.disabled && e.tabIndex >= 0).map((e) => e.name))]"""


def tab_until_send(page) -> list[dict]:
    """Press Tab until the form's Send button has focus; every stop on the way."""
    stops = []
    for _ in range(200):  # far more stops than the page has
        page.keyboard.press("Tab")
        stops.append(page.evaluate(FOCUSED))
        if stops[-1]["send"]:
            return stops
    raise AssertionError(f"Tab never reached the Send button: {[stop['what'] for stop in stops]}")


def comes_after(before: dict, after: dict) -> bool:
    """Right to left, top to bottom: `after` is on a lower line, further left on the same line, or
    inside `before` (the map's zoom buttons after the map)."""
    if after["top"] >= before["bottom"] - 1:
        return True
    inside = all(
        (
            after["top"] >= before["top"] - 1,
            after["bottom"] <= before["bottom"] + 1,
            after["left"] >= before["left"] - 1,
            after["right"] <= before["right"] + 1,
        )
    )
    same_line = after["top"] < before["bottom"] and before["top"] < after["bottom"]
    return inside or (same_line and after["right"] <= before["left"] + 1)


def test_the_apply_form_is_walked_with_the_keyboard_in_visual_order_with_a_visible_focus(
    browser, live_server, screenshots
):
    apply = tour_build().page("apply")
    page = open_as(browser, live_server, apply.user, PHONE)
    try:
        page.goto(apply.url)
        page.wait_for_load_state("networkidle")  # the map and the date picker are drawn

        # From the top of the page: the skip link first, visibly; then everything in reading order.
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUSED)["skipLink"]
        # It slides in (in an instant when reduced motion is asked for): wait for it to be seen.
        page.wait_for_function(IN_VIEW, timeout=5_000)
        stops = [page.evaluate(FOCUSED), *tab_until_send(page)]
        names = [stop["what"] for stop in stops]
        unmarked = [stop["what"] for stop in stops if not stop["outlined"]]
        assert unmarked == [], f"focused without a visible outline or shadow: {unmarked}"
        out_of_order = [
            (before["what"], after["what"])
            # From the stop after the skip link, which is drawn over the top bar when focused.
            for before, after in itertools.pairwise(stops[1:])
            if not comes_after(before, after)
        ]
        assert out_of_order == [], out_of_order
        in_form = [stop for stop in stops if stop["inForm"]]
        assert stops[-len(in_form) :] == in_form, f"the form's stops are not one run: {names}"
        reached = {stop["what"].split()[1] for stop in in_form}
        assert [name for name in page.evaluate(FIELDS) if name not in reached] == []

        # The skip link leads past the header straight to the form's first field.
        page.goto(apply.url)
        page.wait_for_load_state("networkidle")
        page.keyboard.press("Tab")
        page.wait_for_function(IN_VIEW, timeout=5_000)
        page.screenshot(path=str(screenshots / "a11y-keyboard-skip-link-phone.png"))
        page.keyboard.press("Enter")
        assert page.evaluate(FOCUSED)["main"]
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUSED)["what"] == in_form[0]["what"]
        page.screenshot(path=str(screenshots / "a11y-keyboard-first-field-phone.png"))
    finally:
        page.context.close()
