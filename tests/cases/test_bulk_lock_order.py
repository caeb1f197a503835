"""A bulk item action locks all its items before its first audit event (core/locking.py: nothing is locked after
the audit chain's lock). It used to lock each item as it came to it, after writing the previous item's event: a
single action on a later item (lock the item, then the audit chain) deadlocked with it."""

import threading
import time

import pytest

from cases.actions import items as item_actions
from cases.models import Item
from tests.referral.test_lock_order import _in_thread, _waiting_on_a_lock

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_bulk_proposal_and_a_hold_on_one_of_its_items_do_not_deadlock(analyst, supervisor, case, platform_a,
                                                                       monkeypatch):
    first, second = (item_actions.item_log(actor=analyst, case=case, url=f"https://tube.example/watch?v=b{n}",
                                           kind="post", categories=["incitement"]) for n in range(2))
    proposed_first, go_on = threading.Event(), threading.Event()
    propose = item_actions.item_propose

    def propose_then_pause(*, actor, item_id):
        item = propose(actor=actor, item_id=item_id)  # its audit event written: the chain's lock is held
        if item_id == first.pk:
            proposed_first.set()
            assert go_on.wait(10)
        return item

    monkeypatch.setattr(item_actions, "item_propose", propose_then_pause)
    results, pids = {}, {}
    a = _in_thread(lambda: item_actions.item_propose_many(actor=analyst, item_ids=[first.pk, second.pk]), results,
                   "bulk")
    assert proposed_first.wait(10)
    b = _in_thread(lambda: item_actions.item_hold(actor=supervisor, item_id=second.pk, reason="deconfliction",
                                                  requested_by="CT unit"), results, "hold", pids)
    deadline = time.monotonic() + 3  # the hold waits for the bulk's lock on its item, or is done
    while time.monotonic() < deadline and "hold" not in results:
        if "hold" in pids and _waiting_on_a_lock(pids["hold"]):
            break
        time.sleep(0.02)
    go_on.set()
    a.join(15)
    b.join(15)

    assert results["bulk"] == {"done": [first.pk, second.pk], "errors": []}, results
    assert not isinstance(results["hold"], Exception), results
    assert Item.objects.get(pk=second.pk).status == "on_hold"
