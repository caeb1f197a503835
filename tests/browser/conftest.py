"""Real Chromium (Debian's /usr/bin/chromium) driven by Playwright against pytest-django's live server.

Playwright's sync API runs an event loop in this thread, and Django refuses database access from a thread with
a running loop unless told that is safe here: the test code itself is synchronous.
"""

import os
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, totp_code

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is needed for the browser tests: {CHROMIUM} is missing (apt-get install chromium)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def screenshots_dir(default: Path) -> Path:
    """Where the browser tests save their screenshots: `default` (the run's temporary folder), unless
    SCREENSHOTS_DIR names a folder (relative to the repository). `make screenshots` sets docs/screenshots."""
    if value := os.environ.get("SCREENSHOTS_DIR"):
        return REPO / value
    return default


@pytest.fixture
def screenshot(tmp_path_factory):
    """screenshot(page, name) saves a full-page PNG of the page into screenshots_dir() and returns its path."""

    def save(page, name: str) -> Path:
        folder = screenshots_dir(tmp_path_factory.getbasetemp() / "screenshots")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


def login(page, user, password: str = PASSWORD):
    """Sign in through the real login form; someone with an authenticator (supervisors and admins: their fixtures
    enrol one) then types its current code, computed from the device's key, on the second step."""
    page.goto("/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/" not in url or "/login/verify/" in url)
    if "/login/verify/" in page.url:
        page.get_by_label("Code").fill(totp_code(user))
        page.get_by_role("button", name="Verify").click()
        page.wait_for_url(lambda url: "/login/" not in url)


def logout(page):
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/**")
