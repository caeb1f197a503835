"""Approvals under contention, on the real stack: no 5xx, every approval applied exactly once.

Over real HTTP against the live server, in parallel threads (the server serves each request on a connection of
its own): 300 single approvals, bulk approvals that overlap them, a liaison's status updates on referrals as
they appear, and a supervisor re-driving dead letters, while a real Celery worker (with beat) sends to a local
receiver. One platform's receiver fails in streaks, so that its circuit breaker trips and deliveries run out of
retries (the dispatcher records failures, fails referrals and writes audit events all along); the other's
answers 200. Then the receiver recovers, the last dead letters are re-driven and everything must arrive.
"""

import logging
import os
import queue
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.db import connection

from accounts import services as account_services
from audit.chain import verify_chain
from audit.models import AuditEvent
from cases.actions import items as item_actions
from cases.models import Item
from platforms import services as platform_services
from platforms.models import ContactPoint
from referral.models import Delivery, Referral
from referral.outbox import actions as outbox_actions
from tests.conftest import make_user
from tests.processes import Processes, database_url, start_worker, wait_for
from tests.receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)

SINGLES = int(os.environ.get("CONCURRENCY_SINGLES", "300"))
BULKS, BULK_OWN, BULK_OVERLAP = 4, 30, 10  # each bulk approval: 30 items of its own + 10 also approved singly
THREADS = 8
STORM_SECONDS = 240  # the bound on the concurrent phase; it takes about 20 s
SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="


class Flaky:
    """While the storm lasts, of every eight requests the vid receiver answers five with 500 (the breaker's
    threshold is three) and one with 400 (the delivery stops: a dead letter); then it answers 200. The pix
    receiver always answers 200."""

    def __init__(self):
        self.storm = True
        self.count = 0

    def __call__(self, received):
        if received.path.startswith("/vid") and self.storm:
            self.count += 1
            if self.count % 8 < 5:
                return 500, 0.01, {}
            if self.count % 8 == 5:
                return 400, 0.01, {}
        return 200, 0.01, {}


def _platform(slug, url, per_message):
    return platform_services.platform_create(
        actor=None, slug=slug, name=slug.title(), domains=[f"{slug}.example"],
        contact_points=[{"channel": "webhook", "endpoint": url, "secret": SECRET,
                         "max_items_per_message": per_message, "timeout_seconds": 2}],
    )


def _key(user) -> str:
    return account_services.api_key_issue(actor=None, user=user)[1]


def test_concurrent_approvals_beside_a_tripping_dispatcher(live_server, tmp_path, analyst, supervisor, supervisor_2,
                                                           case, caplog):
    caplog.set_level(logging.INFO, logger="core.transactions")  # the live server's threads log here too
    flaky = Flaky()
    processes = Processes(tmp_path)
    with Receiver(script=flaky) as receiver:
        vid = _platform("vid", receiver.url + "/vid", 1)  # one message per referral
        pix = _platform("pix", receiver.url + "/pix", 3)  # batched: approvals join an open delivery
        liaison = make_user("pia_pix", "liaison", pix)
        total = SINGLES + BULKS * BULK_OWN
        item_ids = []
        for i in range(total):
            slug = "vid" if i % 2 == 0 else "pix"
            item = item_actions.item_log(actor=analyst, case=case, url=f"https://{slug}.example/v/{i}", kind="post",
                                         categories=["incitement"])
            item_ids.append(item_actions.item_propose(actor=analyst, item_id=item.pk).pk)
        singles, rest = item_ids[:SINGLES], item_ids[SINGLES:]
        rng = random.Random(5)
        bulks = [rest[k * BULK_OWN:(k + 1) * BULK_OWN] + rng.sample(singles, BULK_OVERLAP) for k in range(BULKS)]
        pix_items = set(Item.objects.filter(pk__in=item_ids, platform=pix).values_list("pk", flat=True))
        keys = [_key(supervisor), _key(supervisor_2)]
        liaison_key = _key(liaison)

        env = {"DATABASE_URL": database_url(), "ALLOW_PRIVATE_ENDPOINTS": "1", "DELIVERY_SWEEP_SECONDS": "1",
               "DELIVERY_RETRY_SCHEDULE": "1,1", "DELIVERY_CONCURRENCY": "4",
               "CIRCUIT_FAILURE_THRESHOLD": "3", "CIRCUIT_COOLDOWN_SECONDS": "1", "CIRCUIT_MAX_COOLDOWN_SECONDS": "1"}
        start_worker(processes, env, beat=True)

        local, clients = threading.local(), []
        responses: list[tuple[str, int, object]] = []  # (what, status code, body)
        to_acknowledge: queue.Queue = queue.Queue()
        approvals_done = threading.Event()

        def call(what, method, path, key, body=None):
            if not hasattr(local, "client"):
                local.client = httpx.Client(base_url=live_server.url, timeout=60)
                clients.append(local.client)
            try:
                res = local.client.request(method, path, json=body, headers={"Authorization": f"Bearer {key}"})
                status = res.status_code
                data = res.json() if "json" in res.headers.get("content-type", "") else res.text[:500]
            except httpx.HTTPError as exc:  # a dropped request is as bad as a 500
                status, data = 599, repr(exc)
            responses.append((what, status, data))
            return status, data

        def approve_one(n, item_id):
            status, data = call("approve", "POST", f"/api/v1/items/{item_id}/approve/", keys[n % 2], {})
            if status == 200 and item_id in pix_items:
                for referral_id in data["referrals"]:
                    to_acknowledge.put(referral_id)

        def approve_bulk(n, ids):
            status, data = call("bulk", "POST", "/api/v1/items/approve/", keys[n % 2], {"items": ids})
            if status == 200:
                for item_id, referral_id in zip(data["approved"], data["referrals"], strict=True):
                    if item_id in pix_items:
                        to_acknowledge.put(referral_id)

        acknowledged, removed = [], []

        def liaison_updates():
            while not (approvals_done.is_set() and to_acknowledge.empty()):
                try:
                    referral_id = to_acknowledge.get(timeout=0.2)
                except queue.Empty:
                    continue
                status, _ = call("status", "POST", f"/api/v1/referrals/{referral_id}/status/", liaison_key,
                                 {"status": "acknowledged", "platform_reference": f"PIX-{referral_id}"})
                if status == 200:
                    acknowledged.append(referral_id)
                if referral_id % 5 == 0:
                    status, _ = call("status", "POST", f"/api/v1/referrals/{referral_id}/status/", liaison_key,
                                     {"status": "removed"})
                    if status == 200:
                        removed.append(referral_id)

        redriven = []

        def redrive_dead_letters():
            while not approvals_done.is_set():
                found = []
                for dead in ("stopped", "failed"):
                    status, data = call("dead letters", "GET", f"/api/v1/deliveries/?status={dead}", keys[0])
                    found += data["results"] if status == 200 else []
                for delivery in found:
                    status, _ = call("redrive", "POST", f"/api/v1/deliveries/{delivery['id']}/redrive/", keys[0])
                    if status == 200:
                        redriven.append(delivery["id"])
                time.sleep(0.5)

        breaker = Counter()

        def watch_breaker():
            while not approvals_done.is_set():
                cp = ContactPoint.objects.get(platform=vid)
                breaker["open" if cp.circuit_open_until else "closed"] += 1
                time.sleep(0.05)
            connection.close()

        jobs = [(approve_one, n, item_id) for n, item_id in enumerate(singles)]
        rng.shuffle(jobs)
        for n, ids in enumerate(bulks):  # the bulk approvals go in while single approvals are running
            jobs.insert(THREADS + n * (SINGLES // (2 * BULKS)), (approve_bulk, n, ids))
        started = time.monotonic()
        watcher = threading.Thread(target=watch_breaker, daemon=True)
        watcher.start()
        try:
            with ThreadPoolExecutor(max_workers=THREADS + 3) as pool:
                side = [pool.submit(liaison_updates) for _ in range(2)] + [pool.submit(redrive_dead_letters)]
                approval_futures = [pool.submit(fn, n, arg) for fn, n, arg in jobs]
                for future in approval_futures:
                    future.result(timeout=max(0.0, STORM_SECONDS - (time.monotonic() - started)))
                approvals_done.set()
                for future in side:
                    future.result(timeout=60)
            storm_seconds = time.monotonic() - started
            watcher.join(timeout=5)
            flaky.storm = False

            def settled():
                dead = Delivery.objects.filter(status__in=["failed", "stopped"]).values_list("pk", flat=True)
                for delivery_id in dead:
                    outbox_actions.delivery_redrive(actor=supervisor, delivery_id=delivery_id)
                return not Delivery.objects.exclude(status="sent").exists()

            wait_for(settled, 120, "every delivery to be sent")
        except (AssertionError, TimeoutError):
            raise AssertionError(f"{Counter((w, s) for w, s, _ in responses)}\n{processes.logs()}") from None
        finally:
            approvals_done.set()
            processes.stop()
            for client in clients:  # the server's keep-alive threads end, and their database connections
                client.close()
    worker_log = (tmp_path / "worker.log").read_text()

    by_status = Counter((what, status) for what, status, _ in responses)
    print(f"\nconcurrency: {len(responses)} requests in {storm_seconds:.1f} s: {dict(by_status)}; "
          f"receiver saw {len(receiver.requests)} requests; breaker samples {dict(breaker)}; "
          f"{len(redriven)} re-driven; transactions retried in the server: "
          f"{sum(r.name == 'core.transactions' for r in caplog.records)}; "
          f"worker log: {worker_log.count('deadlock detected')} deadlocks, {worker_log.count('; retrying')} retried, "
          f"{worker_log.count('could not record')} results not recorded")
    failures = [(what, status, body) for what, status, body in responses if status >= 500]
    assert not failures, failures[:5]
    assert breaker["open"], "the circuit breaker never tripped: the test did not test what it says"
    assert redriven, "no delivery stopped or ran out of retries during the storm: the test did not test what it says"
    assert "could not record" not in worker_log

    # Every approval applied exactly once: single approvals that lost the race to a bulk one got a 409.
    single_ok = [body["id"] for what, status, body in responses if what == "approve" and status == 200]
    single_conflicts = [s for what, s, _ in responses if what == "approve" and s != 200]
    assert set(single_conflicts) <= {409}
    bulk_bodies = [body for what, status, body in responses if what == "bulk"]
    assert len(bulk_bodies) == BULKS and all(s == 200 for w, s, _ in responses if w == "bulk")
    bulk_ok = [item_id for body in bulk_bodies for item_id in body["approved"]]
    assert all(error["status_code"] == 409 for body in bulk_bodies for error in body["errors"])
    approved = single_ok + bulk_ok
    assert len(approved) == len(set(approved)) == total
    assert set(approved) == set(item_ids)
    assert len(single_conflicts) + sum(len(body["errors"]) for body in bulk_bodies) == BULKS * BULK_OVERLAP
    assert Item.objects.filter(pk__in=item_ids, status="approved").count() == total
    per_item = Counter(Referral.objects.filter(item_id__in=item_ids).values_list("item_id", flat=True))
    assert set(per_item) == set(item_ids) and set(per_item.values()) == {1}
    links = Counter(Delivery.referrals.through.objects.values_list("referral_id", flat=True))
    assert set(links) == set(Referral.objects.values_list("pk", flat=True)) and set(links.values()) == {1}
    assert not Delivery.objects.filter(referrals__isnull=True).exists()
    assert not Referral.objects.filter(status__in=["queued", "failed"]).exists()
    verbs = Counter(AuditEvent.objects.filter(verb="item.approved").values_list("object_id", flat=True))
    assert set(verbs) == {str(i) for i in item_ids} and set(verbs.values()) == {1}
    assert AuditEvent.objects.filter(verb="referral.queued").count() == total
    assert all(s == 200 for what, s, _ in responses if what in ("redrive", "dead letters"))

    # The liaison's updates were applied, each once.
    assert acknowledged and all(s == 200 for what, s, _ in responses if what == "status")
    acked = Referral.objects.filter(pk__in=acknowledged)
    assert acked.count() == len(set(acknowledged)) == len(acknowledged)
    assert all(r.acknowledged_at and r.platform_reference == f"PIX-{r.pk}" for r in acked)
    assert set(Referral.objects.filter(status="removed").values_list("pk", flat=True)) == set(removed)
    assert set(acked.exclude(pk__in=removed).values_list("status", flat=True)) <= {"acknowledged"}
    assert AuditEvent.objects.filter(verb="referral.acknowledged").count() == len(acknowledged)
    assert verify_chain() is None
