"""The outbox dispatcher against a real local HTTP receiver: signing, recording, retries, stops."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from audit.chain import verify_chain
from audit.models import AuditEvent
from cases.actions import items as item_actions
from platforms.models import ContactPoint
from referral.actions import approval
from referral.models import Delivery, DeliveryAttempt, Referral
from referral.outbox import dispatcher, recording, webhook
from tests.conftest import ORDER, make_platform
from tests.receiver import Receiver

SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="  # 32 bytes, test only


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def platform(db, receiver):
    return make_platform("tube", ["tube.example"], endpoint=receiver.url + "/hook", secret=SECRET)


def approve_one(analyst, supervisor, case, url="https://tube.example/watch?v=1", instrument="referral"):
    item = item_actions.item_log(actor=analyst, case=case, url=url, kind="post", categories=["incitement"])
    item_actions.item_propose(actor=analyst, item_id=item.pk)
    order = ORDER if instrument == "removal_order" else None
    return approval.item_approve(actor=supervisor, item_id=item.pk, instrument=instrument, order=order).referrals.get()


def make_due(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_approved_referral_is_delivered_signed_and_recorded(platform, receiver, analyst, supervisor, case, settings):
    settings.SITE_URL = "https://desk.iru.example"
    referral = approve_one(analyst, supervisor, case, instrument="removal_order")
    counts = dispatcher.dispatch_due()
    assert counts == {"sent": 1}
    [request] = receiver.requests
    delivery = Delivery.objects.get()
    assert request.headers["webhook-id"] == str(delivery.pk)
    assert webhook.verify(SECRET, request.headers, request.body)
    body = json.loads(request.body)
    assert body["type"] == "referrals.created"
    assert body["delivery"] == str(delivery.pk)
    [entry] = body["referrals"]
    assert entry == {
        "id": referral.pk, "url": "https://tube.example/watch?v=1", "canonical_url": "https://tube.example/watch?v=1",
        "kind": "post", "categories": ["incitement"], "instrument": "removal_order",
        "due_at": entry["due_at"], "status_url": f"https://desk.iru.example/api/v1/referrals/{referral.pk}/",
        # A removal order carries its Annex I content and its PDF's address (tests/referral/test_removal_orders.py).
        "order": entry["order"], "order_url": f"https://desk.iru.example/api/v1/referrals/{referral.pk}/order/",
    }
    assert entry["order"]["reference"] == referral.order.reference
    referral.refresh_from_db()
    assert referral.status == "sent" and referral.sent_at is not None
    # TCO Art 3(3): one hour from receipt.
    assert abs((referral.due_at - referral.sent_at) - timedelta(hours=1)) < timedelta(seconds=1)
    attempt = DeliveryAttempt.objects.get()
    assert attempt.response_status == 200 and attempt.outcome == "sent"
    assert attempt.signature == request.headers["webhook-signature"]
    assert bytes(delivery.payload) == request.body
    verbs = list(AuditEvent.objects.filter(object_type__in=["referral", "delivery"]).values_list("verb", flat=True))
    assert verbs == ["referral.queued", "delivery.queued", "delivery.sent", "referral.sent"]
    assert verify_chain() is None


def test_server_error_is_retried_with_the_same_id_and_bytes(platform, receiver, analyst, supervisor, case):
    receiver.responses = [(503, 0, {"retry-after": "120"})]
    referral = approve_one(analyst, supervisor, case)
    assert dispatcher.dispatch_due() == {"retry": 1}
    delivery = Delivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.last_status_code == 503
    # Retry-After 120 s beats the first scheduled delay (5 s ± 20 %).
    assert delivery.next_attempt_at >= timezone.now() + timedelta(seconds=110)
    assert dispatcher.dispatch_due() == {}  # not due yet
    make_due(delivery)
    assert dispatcher.dispatch_due() == {"sent": 1}
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == str(delivery.pk)
    assert first.body == second.body
    assert webhook.verify(SECRET, second.headers, second.body)
    assert [a.outcome for a in DeliveryAttempt.objects.order_by("number")] == ["retry", "sent"]
    referral.refresh_from_db()
    assert referral.status == "sent"


def test_timeout_is_retried(platform, receiver, analyst, supervisor, case):
    ContactPoint.objects.update(timeout_seconds=1)  # the timeout is per contact point
    receiver.responses = [(200, 2.5, {})]
    approve_one(analyst, supervisor, case)
    assert dispatcher.dispatch_due() == {"retry": 1}
    attempt = DeliveryAttempt.objects.get()
    assert attempt.error.startswith("timeout") and attempt.response_status is None


def test_gone_disables_the_contact_point_and_fails_the_referral(platform, receiver, analyst, supervisor, case):
    receiver.default_status = 410
    referral = approve_one(analyst, supervisor, case)
    assert dispatcher.dispatch_due() == {"stopped": 1}
    assert ContactPoint.objects.get().active is False
    referral.refresh_from_db()
    assert referral.status == "failed"
    assert AuditEvent.objects.filter(verb="contact_point.disabled").count() == 1
    # Nothing more is sent to a disabled contact point.
    make_due(Delivery.objects.get())
    assert dispatcher.dispatch_due() == {}
    assert len(receiver.requests) == 1


def test_client_error_stops_after_one_attempt_with_the_reason(platform, receiver, analyst, supervisor, case):
    receiver.default_status = 400
    referral = approve_one(analyst, supervisor, case)
    assert dispatcher.dispatch_due() == {"stopped": 1}
    delivery = Delivery.objects.get()
    assert delivery.status == "stopped" and "HTTP 400" in delivery.last_error
    make_due(delivery)
    assert dispatcher.dispatch_due() == {}
    assert len(receiver.requests) == 1
    referral.refresh_from_db()
    assert referral.status == "failed"


def test_exhausted_retries_fail_the_referral(platform, receiver, analyst, supervisor, case, settings):
    settings.DELIVERY_RETRY_SCHEDULE = [1, 1]
    receiver.default_status = 500
    referral = approve_one(analyst, supervisor, case)
    # The dispatcher lingers for rows due within 2 s, so one run sees the whole (1 s, 1 s) schedule.
    assert dispatcher.dispatch_due() == {"retry": 2, "failed": 1}
    assert len(receiver.requests) == 3
    referral.refresh_from_db()
    assert referral.status == "failed"
    assert Delivery.objects.get().status == "failed"


def test_private_endpoint_is_refused_when_not_allowed(platform, receiver, analyst, supervisor, case, settings):
    approve_one(analyst, supervisor, case)
    settings.ALLOW_PRIVATE_ENDPOINTS = False
    assert dispatcher.dispatch_due() == {"stopped": 1}
    assert receiver.requests == []
    assert "private, loopback or link-local" in Delivery.objects.get().last_error


def test_approval_rolled_back_sends_nothing(platform, receiver, analyst, supervisor, case,
                                            django_capture_on_commit_callbacks):
    item = item_actions.item_log(actor=analyst, case=case, url="https://tube.example/x", kind="post",
                                 categories=["incitement"])
    item_actions.item_propose(actor=analyst, item_id=item.pk)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            approval.item_approve(actor=supervisor, item_id=item.pk)
            raise RuntimeError("the request failed after approving")
    assert callbacks == []  # no nudge was queued for after commit
    assert Delivery.objects.count() == 0 and Referral.objects.count() == 0
    assert dispatcher.dispatch_due() == {}
    assert receiver.requests == []
    item.refresh_from_db()
    assert item.status == "proposed"


def test_a_claimed_delivery_is_not_claimed_again_until_its_lease_runs_out(platform, analyst, supervisor, case):
    approve_one(analyst, supervisor, case)
    assert dispatcher.claim_due(10) == []  # still inside its batching window
    make_due(Delivery.objects.get())
    first = dispatcher.claim_due(10)
    assert len(first) == 1
    assert dispatcher.claim_due(10) == []
    Delivery.objects.update(lease_until=timezone.now() - timedelta(seconds=1))
    [(delivery_id, attempt, _)] = dispatcher.claim_due(10)
    assert delivery_id == first[0][0] and attempt == 2


@pytest.mark.parametrize("value, expected", [
    ("120", 120.0), (" 30 ", 30.0), ("garbage", None), ("inf", None), ("nan", None), ("-5", 0.0), ("", None),
    ("Wed, 21 Oct 2015 07:28:00 -0000", 0.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
])
def test_retry_after_is_parsed_safely(value, expected):
    assert recording.retry_after_seconds(value) == expected


def test_retry_after_cannot_park_a_delivery_for_more_than_a_day():
    assert recording.retry_delay(1, "99999999") == recording.MAX_RETRY_AFTER_SECONDS
    assert 4 <= recording.retry_delay(1, "garbage") <= 6


def test_the_dispatcher_refuses_to_send_inside_a_transaction(platform, receiver, analyst, supervisor, case):
    approve_one(analyst, supervisor, case)
    make_due(Delivery.objects.get())
    with pytest.raises(dispatcher.SendingInsideTransaction), transaction.atomic():
        dispatcher.dispatch_due()
    assert receiver.requests == []
    assert dispatcher.dispatch_due() == {"sent": 1}  # outside one, it sends


def test_results_finished_as_the_time_budget_runs_out_are_recorded(platform, receiver, analyst, supervisor, case,
                                                                   settings):
    """A send that completes after the run's deadline, while others still wait in its queue, is recorded before the
    run ends (it was once dropped, and the delivery sent again after its lease ran out)."""
    settings.DELIVERY_PER_CONTACT_POINT_CONCURRENCY = 1
    settings.DELIVERY_BATCH_WINDOW_SECONDS = 0
    receiver.delay = 0.4
    for n in range(4):
        approve_one(analyst, supervisor, case, url=f"https://tube.example/watch?v=budget{n}")
    counts = dispatcher.dispatch_due(time_budget=0.1, linger=0)
    assert counts.get("sent") == 1, counts
    assert len(receiver.requests) == 1
    statuses = sorted(Delivery.objects.values_list("status", "lease_until"), key=lambda row: row[0])
    assert [s for s, _ in statuses].count("sent") == 1
    assert all(lease is None for _, lease in statuses)  # the others given back, none left claimed
