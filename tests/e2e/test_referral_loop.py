"""The whole loop on the real stack: API → PostgreSQL → Redis → a real Celery worker → the real sandbox
platform over HTTP (signature verified) → its callback over the API → referral removed."""

from pathlib import Path

import httpx
import pytest
import redis
from django.conf import settings

from accounts import services as account_services
from audit.chain import verify_chain
from audit.models import AuditEvent
from cases.actions import items as item_actions
from referral.actions import approval
from referral.models import Delivery, Referral
from tests.processes import start_worker, wait_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def log_and_propose(base: str, analyst_key: str, url: str) -> int:
    headers = {"Authorization": f"Bearer {analyst_key}"}
    case = httpx.post(f"{base}/api/v1/cases/", json={"title": "E2E"}, headers=headers).json()
    res = httpx.post(f"{base}/api/v1/items/", headers=headers, json={
        "case": case["id"], "url": url, "kind": "post", "categories": ["incitement"], "language": "en"})
    assert res.status_code == 201, res.text
    item_id = res.json()["id"]
    assert httpx.post(f"{base}/api/v1/items/{item_id}/propose/", headers=headers).json()["status"] == "proposed"
    return item_id


def test_referral_travels_from_approval_to_removed(stack, processes, analyst, supervisor):
    base = stack["live"]
    start_worker(processes, stack["env"])
    _, analyst_key = account_services.api_key_issue(actor=None, user=analyst)
    _, supervisor_key = account_services.api_key_issue(actor=None, user=supervisor)
    item_id = log_and_propose(base, analyst_key, "https://www.tube.example/watch?v=e2e&utm_source=share")
    res = httpx.post(f"{base}/api/v1/items/{item_id}/approve/", json={"instrument": "removal_order", "order": {
        "statement_of_reasons": "Incites to commit a terrorist offence."}},
                     headers={"Authorization": f"Bearer {supervisor_key}"})
    assert res.status_code == 200, res.text
    [referral_id] = res.json()["referrals"]

    try:
        wait_for(lambda: Referral.objects.get(pk=referral_id).status == "removed", 45, "the referral to be removed")
    except AssertionError:
        raise AssertionError(processes.logs()) from None

    referral = Referral.objects.get(pk=referral_id)
    assert referral.sent_at and referral.acknowledged_at and referral.outcome_at
    assert referral.platform_reference.startswith("SBX-")
    assert referral.dsa_decision == "DECISION_VISIBILITY_CONTENT_REMOVED"  # the sandbox answers as a DSA platform
    received = httpx.get(f"{stack['sandbox']}/received").json()
    delivery = Delivery.objects.get(referrals=referral)
    [entry] = [r for r in received if r["webhook_id"] == str(delivery.pk)]
    assert entry["verified"] is True and entry["referral_ids"] == [referral_id]

    def verbs(object_type, object_id):
        return list(AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id))
                    .order_by("id").values_list("verb", flat=True))

    assert verbs("item", item_id) == ["item.logged", "item.proposed", "item.approved"]
    # The platform may acknowledge before our "sent" commit lands; then there is no separate sent event.
    referral_verbs = verbs("referral", referral_id)
    assert referral_verbs in (["referral.queued", "referral.sent", "referral.acknowledged", "referral.removed"],
                              ["referral.queued", "referral.acknowledged", "referral.removed"]), referral_verbs
    assert verbs("delivery", delivery.pk) == ["delivery.queued", "delivery.sent"]
    assert verify_chain() is None


def test_sweep_delivers_when_the_nudge_is_lost(stack, processes, analyst, supervisor, case):
    """Redis loses the nudge (its queue is deleted before any worker runs): beat's sweep still delivers."""

    item = item_actions.item_log(actor=analyst, case=case, url="https://tube.example/watch?v=lost", kind="post",
                                 categories=["incitement"])
    item_actions.item_propose(actor=analyst, item_id=item.pk)
    approval.item_approve(actor=supervisor, item_id=item.pk)
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(settings.CELERY_TASK_DEFAULT_QUEUE)  # this run's own queue: the nudge is gone
    start_worker(processes, stack["env"], beat=True)
    try:
        wait_for(lambda: Referral.objects.get(item=item).status == "removed", 45,
                 "the sweep to deliver and the sandbox to answer")
    except AssertionError:
        raise AssertionError(processes.logs()) from None
