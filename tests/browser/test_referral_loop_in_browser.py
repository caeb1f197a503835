"""Issue 2's demo loop in real Chromium: the analyst logs and proposes an item, the supervisor approves it,
and within seconds the referral page shows it removed by the (real, separate-process) sandbox platform."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, logout
from tests.processes import start_worker

pytestmark = pytest.mark.django_db(transaction=True)


def test_analyst_logs_supervisor_approves_platform_removes(page, screenshot, stack, processes, analyst, supervisor,
                                                          case):
    start_worker(processes, stack["env"], beat=True)

    login(page, analyst)
    page.goto(f"/cases/{case.pk}/")
    page.get_by_label("URL").fill("https://www.tube.example/watch?v=br0wser&utm_source=share")
    page.get_by_label("Kind").select_option("post")
    page.get_by_label("Incitement").check()
    page.get_by_role("button", name="Log item").click()
    row = page.locator("tr", has_text="https://tube.example/watch?v=br0wser")
    expect(row).to_contain_text("Logged")
    row.get_by_role("button", name=re.compile("Propose")).click()
    expect(page.locator("tr", has_text="https://tube.example/watch?v=br0wser")).to_contain_text("Proposed")
    logout(page)

    login(page, supervisor)
    page.goto("/review/")
    page.get_by_label("Instrument (approvals)").select_option("removal_order")
    page.get_by_label("Reason (returns and rejections)").fill("Incites to commit a terrorist offence.")
    row = page.get_by_role("row", name=re.compile("br0wser"))
    row.get_by_role("button", name=re.compile("^Approve")).click()
    expect(page.locator("#review-results")).to_contain_text("approved")
    page.goto("/referrals/")
    page.get_by_role("link", name=re.compile(r"Referral \d+")).first.click()
    # The referral page shows the platform's answer within seconds (reload as a person would).
    for _ in range(40):
        if "Removed" in page.locator("main").inner_text():
            break
        page.wait_for_timeout(500)
        page.reload()
    main = page.locator("main")
    expect(main).to_contain_text("Removed")
    expect(main).to_contain_text("SBX-TUBE-")
    expect(main).to_contain_text("200")  # the delivery attempt's response status
    screenshot(page, "referral-removed.png")
