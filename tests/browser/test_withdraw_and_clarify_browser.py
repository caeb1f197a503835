"""Issue 9 in real Chromium against the real stack (a Celery worker and the sandbox platform as processes): a
platform's `needs_info` appears in the notification count without a reload, the analyst answers it from the
referral page and the platform then removes the content; a supervisor withdraws a sent referral and the platform
receives a signed `referrals.withdrawn`."""

import re

import httpx
import pytest
from playwright.sync_api import expect

from cases.actions import items as item_actions
from referral.actions import approval
from referral.models import Referral
from tests.browser.conftest import login, logout
from tests.processes import start_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sandbox_args("--needs-info-share", "1")]


def _approved(analyst, supervisor, case, n):
    item = item_actions.item_log(actor=analyst, case=case, url=f"https://tube.example/watch?v=nf{n}", kind="post",
                                 categories=["incitement"])
    item_actions.item_propose(actor=analyst, item_id=item.pk)
    return approval.item_approve(actor=supervisor, item_id=item.pk).referrals.get()


def _status(referral) -> str:
    return Referral.objects.get(pk=referral.pk).status


def test_needs_info_is_heard_at_once_answered_and_a_withdrawal_reaches_the_platform(
        page, screenshot, stack, processes, analyst, supervisor, case):
    start_worker(processes, stack["env"], beat=True)
    login(page, analyst)
    page.goto("/queue/")
    count = page.get_by_role("link", name=re.compile(r"^Notifications"))
    expect(count).to_have_text(re.compile(r"Notifications \(0\)"))

    asked = _approved(analyst, supervisor, case, 1)  # the sandbox acknowledges it, then asks for information
    expect(count).to_have_text(re.compile(r"Notifications \(1\)"), timeout=30_000)  # no reload
    count.click()
    row = page.get_by_role("row", name=re.compile(f"asks for more information on referral {asked.pk}"))
    row.get_by_role("link", name=f"Referral {asked.pk}", exact=True).click()
    page.wait_for_url(f"**/referrals/{asked.pk}/")
    expect(page.get_by_role("heading", name="The platform needs information")).to_be_visible()
    page.get_by_label(re.compile("Answer to the platform")).fill("Posted by the outlet's main account.")
    screenshot(page, "referral-needs-info.png")
    page.get_by_role("button", name="Send the answer").click()
    expect(page.locator(".messages")).to_contain_text("being sent")
    # The platform got the answer (referrals.clarified) and reports its outcome.
    wait_for(lambda: _status(asked) == "removed", 30, "the platform's outcome after the clarification")
    logout(page)

    sent = _approved(analyst, supervisor, case, 2)
    wait_for(lambda: _status(sent) in ("sent", "acknowledged", "needs_info"), 30, "the referral to reach the platform")
    login(page, supervisor)
    page.goto(f"/referrals/{sent.pk}/")
    page.get_by_label(re.compile("Reason for the withdrawal")).fill("Posted by an undercover officer.")
    page.get_by_role("button", name="Withdraw").click()
    expect(page.locator("main")).to_contain_text("Withdrawn")

    def withdrawal_received():
        received = httpx.get(f"{stack['sandbox']}/received", timeout=5).json()
        return [r for r in received if r["event"] == "referrals.withdrawn" and r["referral_ids"] == [sent.pk]
                and r["verified"] and r["result"] == "accepted"]

    wait_for(withdrawal_received, 30, "the sandbox to receive referrals.withdrawn")
    page.reload()
    expect(page.locator("main")).to_contain_text("Referrals withdrawn")
    assert _status(sent) == "withdrawn"
