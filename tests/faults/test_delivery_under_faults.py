"""Delivery that loses nothing, proven under faults, on the real stack.

2,000 referrals approved in bulk go out through two real Celery workers and beat, over a Redis server this
test starts on its own port, to a local receiver that records every request. While they travel: each worker
is SIGKILLed (three kills in all) and restarted, Redis is restarted once and flushed once, and the receiver
answers 500 and then hangs for a stretch. The assertions are on what the receiver recorded.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest
import redis

from audit.chain import verify_chain
from cases.actions import items as item_actions
from cases.models import Item
from platforms import services as platform_services
from referral.actions import approval
from referral.models import Delivery, Referral
from referral.outbox import webhook
from tests.processes import Processes, database_url, free_port, wait_for
from tests.receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
# `make bench-faults` runs the bigger version: 10,000 referrals and five kills.
REFERRALS = int(os.environ.get("FAULT_REFERRALS", "2000"))
KILLS = int(os.environ.get("FAULT_KILLS", "3"))
PER_MESSAGE = 2
pytestmark = pytest.mark.django_db(transaction=True)


class RedisServer:
    """A redis-server of the test's own on a free port: restarted and flushed without touching the machine's."""

    def __init__(self, tmp_path: Path):
        self.port = free_port()
        self.tmp_path = tmp_path
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        log = open(self.tmp_path / "redis.log", "ab")  # noqa: SIM115 - lives as long as the server
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.tmp_path)], stdout=log, stderr=subprocess.STDOUT)
        wait_for(self._answers, 10, "redis to answer")

    def _answers(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def restart(self):
        self.stop()
        time.sleep(0.5)
        self.start()

    def flush(self):
        redis.Redis(port=self.port).flushall()


class Faults:
    """The receiver's behaviour, switched while the run goes on."""

    def __init__(self):
        self.mode = "ok"

    def __call__(self, received):
        if self.mode == "error":
            return 500, 0, {}
        if self.mode == "hang":
            return 0, 1.5, {}  # longer than the contact point's 1 s timeout; never acted on
        return 200, 0.02, {}


@pytest.fixture
def redis_server(tmp_path):
    if subprocess.run(["which", "redis-server"], capture_output=True).returncode != 0:
        pytest.fail("redis-server is needed for the fault suite (apt-get install redis-server)")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def test_no_referral_is_lost_or_sent_twice_under_faults(redis_server, tmp_path, analyst, supervisor, case):
    faults = Faults()
    processes = Processes(tmp_path)
    with Receiver(script=faults) as receiver:
        platform_services.platform_create(
            actor=None, slug="vid", name="Vid", domains=["vid.example"],
            contact_points=[{"channel": "webhook", "endpoint": receiver.url + "/hook", "secret": SECRET,
                             "max_items_per_message": PER_MESSAGE, "timeout_seconds": 1}],
        )
        item_ids = []
        for i in range(REFERRALS):
            item = item_actions.item_log(actor=analyst, case=case, url=f"https://vid.example/v/{i}", kind="post",
                                         categories=["incitement"])
            item_ids.append(item_actions.item_propose(actor=analyst, item_id=item.pk).pk)

        env = {
            "DATABASE_URL": database_url(), "CELERY_BROKER_URL": redis_server.url, "REDIS_URL": redis_server.url,
            "CELERY_QUEUE": "faults", "ALLOW_PRIVATE_ENDPOINTS": "1", "DELIVERY_SWEEP_SECONDS": "1",
            "DELIVERY_RETRY_SCHEDULE": ",".join(["1"] * 5 + ["2"] * 20), "DELIVERY_LEASE_SECONDS": "6",
            "DELIVERY_CONCURRENCY": "4", "DELIVERY_PER_CONTACT_POINT_CONCURRENCY": "4",
            "CIRCUIT_FAILURE_THRESHOLD": "1000",
        }

        def worker(name):
            return processes.start(name, [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo",
                                          "-n", f"{name}-{os.getpid()}@%h", "--without-gossip", "--without-mingle",
                                          "--without-heartbeat", "--loglevel", "WARNING"], env)

        workers = {"worker-a": worker("worker-a"), "worker-b": worker("worker-b")}
        processes.start("beat", [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "WARNING",
                                 "-s", str(tmp_path / "beat-schedule")], env)
        kills = []

        def kill_and_restart(name):
            os.kill(workers[name].pid, signal.SIGKILL)
            workers[name].wait()
            kills.append((name, len(receiver.requests)))
            workers[name] = worker(f"{name}-{len(kills)}")

        # The faults, each when the receiver has seen so many requests: mid-run, whatever the machine's speed.
        messages = REFERRALS // PER_MESSAGE

        def at(fraction):
            return int(messages * fraction)

        plan = [
            (at(0.20), "receiver answers 500", lambda: setattr(faults, "mode", "error")),
            (at(0.26), "receiver hangs", lambda: setattr(faults, "mode", "hang")),
            (at(0.30), "redis restarted", redis_server.restart),
            (at(0.33), "receiver recovers", lambda: setattr(faults, "mode", "ok")),
            (at(0.60), "redis flushed", redis_server.flush),
        ]
        for k in range(KILLS):  # spread over the run, alternating between the two workers
            name = "worker-a" if k % 2 == 0 else "worker-b"
            plan.append((at(0.1 + 0.65 * k / max(KILLS - 1, 1)), f"kill {name}",
                         lambda name=name: kill_and_restart(name)))
        plan.sort(key=lambda step: step[0])
        done = []
        stop = threading.Event()

        def inject():
            for threshold, what, action in plan:
                while not stop.is_set() and len(receiver.requests) < threshold:
                    time.sleep(0.02)
                if stop.is_set():
                    return
                action()
                done.append((what, len(receiver.requests), round(time.monotonic() - started, 1)))

        started = time.monotonic()
        injector = threading.Thread(target=inject, daemon=True)
        injector.start()
        result = approval.item_approve_many(actor=supervisor, item_ids=item_ids)
        assert len(result["referrals"]) == REFERRALS
        try:
            wait_for(lambda: not Referral.objects.exclude(status="sent").exists(), 240 + REFERRALS // 50,
                     "every referral to be sent")
            injector.join(timeout=30)
        except AssertionError:
            stop.set()
            raise AssertionError(f"faults done: {done}\n{processes.logs()}") from None
        finally:
            stop.set()
            processes.stop()
        elapsed = time.monotonic() - started

    assert [what for what, _, _ in done] == [what for _, what, _ in plan], done
    accepted = [r for r in receiver.requests if 200 <= r.status < 300]
    bodies_by_id, sets_by_id = defaultdict(set), defaultdict(set)
    ids_by_referral = defaultdict(set)
    for request in receiver.requests:
        assert webhook.verify(SECRET, request.headers, request.body, tolerance=3600)
    for request in accepted:
        msg_id = request.headers["webhook-id"]
        body = json.loads(request.body)
        referral_set = frozenset(entry["id"] for entry in body["referrals"])
        bodies_by_id[msg_id].add(request.body)
        sets_by_id[msg_id].add(referral_set)
        for referral_id in referral_set:
            ids_by_referral[referral_id].add(msg_id)
    all_referrals = set(Referral.objects.values_list("id", flat=True))
    # Nothing lost: every referral reached the receiver, and our records agree.
    assert set(ids_by_referral) == all_referrals
    assert Referral.objects.filter(status="sent").count() == REFERRALS
    assert not Delivery.objects.exclude(status="sent").exists()
    # Exactly one message id per referral, and one referral set (one body) per message id.
    assert all(len(ids) == 1 for ids in ids_by_referral.values())
    assert all(len(sets) == 1 for sets in sets_by_id.values())
    assert all(len(bodies) == 1 for bodies in bodies_by_id.values())
    repeats = len(accepted) - len(sets_by_id)
    refused = sum(1 for r in receiver.requests if r.status == 500)
    hung = sum(1 for r in receiver.requests if r.status == 0)
    print(f"\nfault suite: {REFERRALS} referrals in {len(sets_by_id)} messages, settled in {elapsed:.1f} s; "
          f"{len(receiver.requests)} requests: {len(accepted)} accepted, {refused} answered 500, {hung} hung; "
          f"repeated deliveries of an accepted id: {repeats}; faults: {done}")
    assert Item.objects.filter(status="approved").count() == REFERRALS
    assert verify_chain() is None
