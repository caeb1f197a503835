"""The notification centre in real Chromium: a supervisor on the queue sees the header's count go from 0 to 1,
without reloading, when the analyst flags a threat to life; opens the list and marks it read. Screenshot
notifications.png (docs/screenshots/ with `make screenshots`)."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.notifications.conftest import flag_threat_to_life

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_threat_to_life_reaches_the_supervisors_header_without_a_reload(page, screenshot, analyst, supervisor,
                                                                           case, platform_a):
    login(page, supervisor)
    page.goto("/queue/")
    count = page.locator("#notification-count")
    expect(count).to_have_text("Notifications (0)")
    page.evaluate("window.notReloaded = true")

    item = flag_threat_to_life(analyst, case)  # the analyst, elsewhere, flags a threat to life

    expect(count).to_have_text("Notifications (1)", timeout=15_000)  # htmx polls every 5 s
    assert page.evaluate("window.notReloaded") is True  # the same page: no reload
    count.click()
    page.wait_for_url("**/notifications/")
    row = page.locator("tbody tr").first
    expect(row).to_contain_text(f"Threat to life: item {item.pk}")
    expect(row.get_by_role("link", name=f"Item {item.pk}")).to_have_attribute("href", f"/items/{item.pk}/")
    screenshot(page, "notifications.png")

    row.get_by_role("button", name="Mark read").click()
    expect(page.locator("tbody tr").first).to_have_class("read")
    expect(page.locator("#notification-count")).to_have_text("Notifications (0)")
