"""The lock order of core/locking.py, replayed step by step on real connections (PostgreSQL).

The interleaving behind the issue's `deadlock detected` (on platforms_platform or platforms_contactpoint), the
HTTP 500 and the lost approval: the dispatcher, recording a delivery as failed, had locked the delivery and, by
select_related, its contact point and platform FOR UPDATE, and was on its way to the audit chain's lock. An
approval took the audit lock, then at COMMIT ran its deferred foreign-key checks, which want a key-share lock on
that platform and contact point: it waited for the dispatcher, which waited for the audit lock it held.
"""

import logging
import threading
import time

import pytest
from django.db import connection, connections

from cases.actions import items as item_actions
from platforms.models import ContactPoint
from referral.actions import approval
from referral.models import Delivery
from referral.outbox import actions as outbox_actions
from referral.outbox import dispatcher
from tests.conftest import make_platform

pytestmark = pytest.mark.django_db(transaction=True)


def _proposed(analyst, case, n):
    item = item_actions.item_log(actor=analyst, case=case, url=f"https://tube.example/watch?v=lock{n}", kind="post",
                                 categories=["incitement"])
    return item_actions.item_propose(actor=analyst, item_id=item.pk)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _waiting_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return bool(row) and row[0] == "Lock"


def _in_thread(target, results: dict, name: str, pids: dict | None = None):
    def run():
        try:
            if pids is not None:
                pids[name] = _backend_pid()
            results[name] = target()
        except Exception as exc:  # recorded for the assertions
            results[name] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_failing_a_delivery_beside_an_approval_does_not_deadlock(analyst, supervisor, case, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="core.transactions")
    platform = make_platform("tube", ["tube.example"])
    cp = ContactPoint.objects.get(platform=platform)
    ContactPoint.objects.filter(pk=cp.pk).update(max_items_per_message=1)  # every approval makes a new delivery
    approval.item_approve(actor=supervisor, item_id=_proposed(analyst, case, 0).pk)
    [(delivery_id, attempt, _)] = dispatcher.claim_due(10)
    item = _proposed(analyst, case, 1)

    # The dispatcher records the delivery as failed (retries exhausted), and stops before it fails the referrals
    # and writes its audit events, holding the locks it took so far.
    holding, go_on = threading.Event(), threading.Event()
    fail_referrals = outbox_actions._fail_orphaned_referrals

    def paused(*args, **kwargs):
        holding.set()
        assert go_on.wait(10)
        return fail_referrals(*args, **kwargs)

    monkeypatch.setattr(outbox_actions, "_fail_orphaned_referrals", paused)
    results, pids = {}, {}
    b = _in_thread(lambda: outbox_actions.delivery_record_failure(
        delivery_id=delivery_id, attempt_number=attempt, final_status="failed", next_attempt_at=None,
        status_code=500, error="HTTP 500"), results, "dispatcher")
    assert holding.wait(10)
    a = _in_thread(lambda: approval.item_approve(actor=supervisor, item_id=item.pk), results, "approval", pids)
    deadline = time.monotonic() + 3  # the approval either waits for a lock the dispatcher holds, or is done
    while time.monotonic() < deadline and "approval" not in results:
        if "approval" in pids and _waiting_on_a_lock(pids["approval"]):
            break
        time.sleep(0.02)
    go_on.set()  # the dispatcher goes on: the referrals, then the audit chain
    a.join(15)
    b.join(15)

    assert not isinstance(results["approval"], Exception), results
    assert results["dispatcher"] is True, results
    assert Delivery.objects.filter(referrals__item=item).count() == 1
    assert Delivery.objects.get(pk=delivery_id).status == "failed"
    retries = [r.getMessage() for r in caplog.records if r.name == "core.transactions"]
    assert not retries, f"the lock order alone must prevent this deadlock: {retries}"
