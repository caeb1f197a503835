"""Issue 11 in real Chromium: a supervisor reminds the platform of content still online from the referral page's
liveness panel; htmx swaps the panel in place (no reload, no inline script: the CSP stays intact)."""

import re

import pytest
from playwright.sync_api import expect

from referral.models import Delivery
from tests.browser.conftest import login
from tests.liveness.conftest import (  # noqa: F401  (the liveness tests' local pages, proxy and platform)
    _bounded_in_time,
    _liveness_settings,
    certificate_authority,
    check_at,
    pages,
    platform_inbox,
    proxy,
    received,
    tls_pages,
    tube,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_supervisor_reminds_the_platform_from_the_referral_page(page, screenshot, received, proxy, tls_pages,  # noqa: F811
                                                                  supervisor):
    tls_pages.page("/watch?v=up", (200, "<h1>A video</h1>"))
    referral = received("https://tube.example/watch?v=up")
    check_at(referral, hours=24, seconds=1)  # still online a day after receipt: flagged for follow-up
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)

    login(page, supervisor)
    page.goto(f"/referrals/{referral.pk}/")
    panel = page.locator("#liveness-panel")
    expect(panel).to_contain_text("Follow up: still online")
    page.evaluate("window.reminderTestMarker = 'kept'")  # survives only if the page is not reloaded
    panel.get_by_label(re.compile("Reminder to the platform")).fill("Still up after a day: please act.")
    panel.get_by_role("button", name="Remind the platform").click()

    expect(page.locator("#liveness-panel")).to_contain_text("The platform is being reminded")
    expect(page.locator("#liveness-panel")).to_contain_text("1 time")
    assert page.evaluate("window.reminderTestMarker") == "kept"
    assert Delivery.objects.get(event="referrals.reminder").message == "Still up after a day: please act."
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    screenshot(page, "referral-reminder.png")  # last: Playwright's screenshot injects a style (the CSP refuses it)
