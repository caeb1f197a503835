"""A removal order in real Chromium, as a supervisor issues it: the Annex I form (preview and the supervisor's
part), the order's page with the platform's answer and the record, and the Art 8 report. Screenshots order-form.png,
order-page.png and orders-report.png (docs/screenshots/ with `make screenshots`)."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from referral.actions import outcomes
from referral.models import RemovalOrder
from tests.browser.conftest import login
from tests.referral.test_removal_orders import propose

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_supervisor_issues_an_order_and_reads_its_record(page, screenshot, analyst, supervisor, case, platform_a,
                                                           liaison_a):
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    item = propose(analyst, case, 1)
    login(page, supervisor)
    page.goto(f"/items/{item.pk}/")
    page.get_by_role("link", name="Issue a removal order…").click()
    expect(page.get_by_role("heading", name=f"Removal order for item {item.pk}")).to_be_visible()
    form = page.get_by_role("region", name="Your part")
    form.get_by_label("Statement of reasons (Annex I, section B)").fill(
        "The video calls on viewers to attack named places of worship (Article 2(7)(a) and (c)).")
    form.get_by_label("The platform must not inform the content provider", exact=False).check()
    screenshot(page, "order-form.png")
    form.get_by_role("button", name="Issue the removal order").click()

    order = RemovalOrder.objects.get(referrals__item=item)
    order.referral_id = order.referrals.get().pk
    page.wait_for_url(f"**/referrals/{order.referral_id}/order/")
    expect(page.get_by_text("Removal order issued")).to_be_visible()
    expect(page.get_by_text(order.reference).first).to_be_visible()
    outcomes.referral_record_status(actor=liaison_a, referral_id=order.referral_id, status="removed",
                                    territorial_scope="all_member_states", action_taken_at=timezone.now())
    page.reload()
    answers = page.get_by_role("region", name="The platform's answers")
    expect(answers).to_contain_text("all member states")
    record = page.get_by_role("region", name="Record")
    expect(record).to_contain_text("item.approved")
    expect(record).to_contain_text("referral.removed")
    screenshot(page, "order-page.png")

    today = timezone.localdate().isoformat()
    page.goto(f"/orders/report/?from={today}&to={today}")
    expect(page.get_by_role("row", name="Orders issued")).to_contain_text("1")
    screenshot(page, "orders-report.png")
    assert violations == []
