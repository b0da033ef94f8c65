"""Browser fixtures: Debian's Chromium driven by Playwright's sync API against `live_server`.

Playwright's own browser download does not work here (and would put an unpinned binary on CI),
so we launch the distribution's `/usr/bin/chromium`. A missing browser skips the browser tests
on a developer's machine, but fails them under CI, where skipping would hide a broken setup.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("PISHKHAN_CHROMIUM", "/usr/bin/chromium"))
# --no-sandbox: containers and CI runners have no user namespaces for Chromium's sandbox.
# The background-networking flags stop Chromium phoning home for updates, sync and field trials:
# on a closed network those connections are refused and the launch stalls or fails.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


def running_in_ci() -> bool:
    return bool(os.environ.get("CI"))


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)"
        if running_in_ci():
            pytest.fail(message + "; browser tests may not be skipped in CI", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an asyncio event loop in this thread for as long as the browser
    # lives. Django sees the running loop and refuses every ORM call from this thread (the test
    # body, fixtures, live_server's database flush) with SynchronousOnlyOperation, although the
    # calls are ordinary blocking ones made outside any coroutine. Allowing them is safe here
    # and only for the lifetime of the browser.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies, no cache) and page; starts as a phone."""
    context = browser.new_context(viewport=PHONE, base_url=live_server.url)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Folder for screenshots: $PISHKHAN_ARTIFACTS/screenshots (default test-artifacts/)."""
    folder = Path(os.environ.get("PISHKHAN_ARTIFACTS", "test-artifacts")) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
