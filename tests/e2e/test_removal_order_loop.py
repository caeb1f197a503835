"""A removal order end to end on the real stack: the supervisor's approval through the API, a real Celery worker,
the sandbox platform over HTTP answering with Annex III (insufficient information) first. The clock pauses; the
platform reads the Annex I PDF with its own key (its text names the order's reference and URL); the analyst's
clarification restarts the hour from the platform's receipt of it; the platform removes the content with Annex II;
the audit chain holds."""

import io
from datetime import timedelta

import httpx
import pytest
from pypdf import PdfReader

from accounts import services as account_services
from accounts.models import User
from audit.chain import verify_chain
from referral.models import Delivery, Referral, RemovalOrder
from tests.e2e.test_referral_loop import log_and_propose
from tests.processes import start_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _order(referral_id):
    order = RemovalOrder.objects.get(referrals=referral_id)
    order.referral = order.referrals.get()  # this order names one URL
    return order


@pytest.mark.sandbox_args("--cannot-execute-share", "1")
def test_an_order_paused_by_annex_iii_restarts_on_the_clarification(stack, processes, analyst, supervisor):
    base = stack["live"]
    start_worker(processes, stack["env"])
    _, analyst_key = account_services.api_key_issue(actor=None, user=analyst)
    _, supervisor_key = account_services.api_key_issue(actor=None, user=supervisor)
    _, platform_key = account_services.api_key_issue(actor=None, user=User.objects.get(username="lena_tube"))
    url = "https://www.tube.example/watch?v=order-e2e"
    item_id = log_and_propose(base, analyst_key, url)
    res = httpx.post(f"{base}/api/v1/items/{item_id}/approve/", json={"instrument": "removal_order", "order": {
        "statement_of_reasons": "Calls for attacks on named places (Art 2(7)(a))."}},
        headers={"Authorization": f"Bearer {supervisor_key}"})
    assert res.status_code == 200, res.text
    [referral_id] = res.json()["referrals"]
    try:
        wait_for(lambda: _order(referral_id).paused, 45, "the platform's Annex III answer")
    except AssertionError:
        raise AssertionError(processes.logs()) from None
    order = _order(referral_id)
    assert (order.referral.status, order.paused_reason, order.cannot_execute_reason) == (
        "cannot_execute", "insufficient_information", "insufficient_information")
    first_due = order.referral.due_at
    as_analyst = {"Authorization": f"Bearer {analyst_key}"}
    clock = httpx.get(f"{base}/api/v1/referrals/{referral_id}/", headers=as_analyst).json()["clock"]
    assert clock["paused"] is True and clock["paused_reason"] == "insufficient_information"

    # The platform reads the order it was sent, as a PDF, with its own key.
    pdf = httpx.get(f"{base}/api/v1/referrals/{referral_id}/order/",
                    headers={"Authorization": f"Bearer {platform_key}"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert order.reference in text and "order-e2e" in text

    res = httpx.post(f"{base}/api/v1/referrals/{referral_id}/clarify/", json={"message": "The video at 01:12."},
                     headers=as_analyst)
    assert res.status_code == 200, res.text
    try:
        wait_for(lambda: Referral.objects.get(pk=referral_id).status == "removed", 45, "the outcome after it")
    except AssertionError:
        raise AssertionError(processes.logs()) from None
    order = _order(referral_id)
    clarification = Delivery.objects.get(referrals=referral_id, event="referrals.clarified")
    assert clarification.status == "sent" and not order.paused and order.territorial_scope == "all_member_states"
    # The hour restarted from the platform's receipt of the clarification, not from the first receipt.
    assert order.referral.due_at > first_due
    assert abs(order.referral.due_at - (clarification.sent_at + timedelta(hours=1))) < timedelta(seconds=5)
    assert verify_chain() is None


def test_one_order_naming_three_urls_travels_whole_and_each_url_is_answered(stack, processes, analyst, supervisor):
    """Three URLs of one platform approved together: one order (one reference, one Annex I naming the three) in one
    message to the sandbox platform, which removes each; the order's record holds every URL's answer."""
    base = stack["live"]
    start_worker(processes, stack["env"])
    _, analyst_key = account_services.api_key_issue(actor=None, user=analyst)
    _, supervisor_key = account_services.api_key_issue(actor=None, user=supervisor)
    _, platform_key = account_services.api_key_issue(actor=None, user=User.objects.get(username="lena_tube"))
    urls = [f"https://www.tube.example/watch?v=order3-{n}" for n in range(3)]
    items = [log_and_propose(base, analyst_key, url) for url in urls]
    res = httpx.post(f"{base}/api/v1/items/approve/", json={"items": items, "instrument": "removal_order", "order": {
        "statement_of_reasons": "Three videos of the same attack, with calls to repeat it (Art 2(7)(a))."}},
        headers={"Authorization": f"Bearer {supervisor_key}"})
    assert res.status_code == 200 and res.json()["errors"] == [], res.text
    referrals = res.json()["referrals"]
    try:
        wait_for(lambda: set(Referral.objects.filter(pk__in=referrals).values_list("status", flat=True)) == {"removed"},
                 45, "the platform's Annex II answer on each URL")
    except AssertionError:
        raise AssertionError(processes.logs()) from None
    [order] = RemovalOrder.objects.filter(referrals__in=referrals).distinct()
    assert order.urls == urls and not order.paused and order.territorial_scope == "all_member_states"
    [message] = Delivery.objects.filter(referrals__in=referrals, event="referrals.created").distinct()
    assert message.status == "sent" and sorted(message.referrals.values_list("pk", flat=True)) == sorted(referrals)
    # Each URL's hour ran from the one receipt.
    assert {r.due_at for r in Referral.objects.filter(pk__in=referrals)} == {message.sent_at + timedelta(hours=1)}
    pdf = httpx.get(f"{base}/api/v1/referrals/{referrals[1]}/order/",
                    headers={"Authorization": f"Bearer {platform_key}"})
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert pdf.status_code == 200 and order.reference in text and all(f"order3-{n}" in text for n in range(3))
    assert verify_chain() is None
