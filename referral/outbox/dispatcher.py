"""The outbox dispatcher: claim due deliveries, send them concurrently outside any transaction, record results.

PostgreSQL is the record of what must be sent; the broker only says "look now". Claims and their preparation are
in referral/outbox/claiming.py, the recording of results in referral/outbox/recording.py.

Within one run, sends go through a small scheduler: at most DELIVERY_CONCURRENCY in flight, at most
DELIVERY_PER_CONTACT_POINT_CONCURRENCY to any one contact point, results recorded as they complete (many at a
time, in one transaction), new rows claimed as slots free. A slow platform holds a few threads, not all.
"""

import logging
import time
from collections import Counter, defaultdict, deque
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.enqueue import send_task
from platforms import egress
from platforms.models import Channel, ContactPoint
from referral.models import DISPATCH_TASK, Delivery, DeliveryStatus
from referral.outbox import actions as outbox_actions
from referral.outbox import email as email_channel
from referral.outbox import formatters, pacing, webhook
from referral.outbox.claiming import Pace, claim_due, prepare, signing_secrets  # noqa: F401  (claim_due re-exported)
from referral.outbox.jobs import Job
from referral.outbox.recording import quietly, record_results
from referral.outbox.result import SENT, STOP, SendResult

log = logging.getLogger(__name__)


def _send(client: httpx.Client, job: Job) -> SendResult:
    cp = job.contact_point
    if job.refused:
        return SendResult(endpoint=cp.endpoint, verdict=STOP, error=job.refused)
    if cp.channel == Channel.WEBHOOK:
        return webhook.send(client, endpoint=cp.endpoint, secrets_=signing_secrets(cp), msg_id=str(job.delivery.pk),
                            body=job.body, timeout=cp.timeout_seconds)
    if cp.channel == Channel.EMAIL:
        return email_channel.send(to=cp.endpoint, body=job.body, timeout=cp.timeout_seconds,
                                  message_id=formatters.message_id(job.delivery))
    return SendResult(endpoint=cp.endpoint, verdict=STOP, error=f"channel '{cp.channel}' cannot be sent")


def _paced(job: Job) -> str | None:
    """Checked right before sending: hold the job back (and say why) if the circuit or the rate forbid it."""
    if job.refused:
        return None
    cp = job.contact_point
    allowed, retry_at = pacing.circuit_allows(cp)
    if not allowed:
        outbox_actions.delivery_release(delivery_id=job.delivery.pk, attempt_number=job.attempt,
                                        next_attempt_at=retry_at)
        return "held"
    wait_seconds = pacing.take_rate_token(cp)
    if wait_seconds is not None:
        outbox_actions.delivery_release(delivery_id=job.delivery.pk, attempt_number=job.attempt,
                                  next_attempt_at=timezone.now() + timedelta(seconds=wait_seconds))
        return "paced"
    return None


def _ask_for_help() -> None:
    """A backlog: nudge once more so that another idle worker starts draining beside this one."""
    send_task(DISPATCH_TASK)  # the broker down: this run carries on alone


PACING_ERROR_DELAY_SECONDS = 5


def _give_back(job: Job, delay: float = 0) -> None:
    outbox_actions.delivery_release(delivery_id=job.delivery.pk, attempt_number=job.attempt,
                              next_attempt_at=timezone.now() + timedelta(seconds=delay))


def _next_due_in() -> float | None:
    """Seconds until the next unleased pending delivery is due (None if none is)."""
    nxt = (
        Delivery.objects.filter(status=DeliveryStatus.PENDING, lease_until__isnull=True)
        .order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()
    )
    if nxt is None:
        return None
    return max((nxt - timezone.now()).total_seconds(), 0.0)


class SendingInsideTransaction(RuntimeError):
    """Network I/O must never happen inside a database transaction (it would hold locks for seconds, and a
    rollback after the send would forget a message the platform already has)."""


def assert_outside_transaction() -> None:
    """Refuse to send from inside an atomic block (the test framework's own wrapping block excepted)."""
    conn = transaction.get_connection()
    if any(not getattr(block, "_from_testcase", False) for block in conn.atomic_blocks):
        raise SendingInsideTransaction("The dispatcher sends over the network: call it outside transaction.atomic().")


RECORD_WAIT_SECONDS = 0.25  # a finished send waits at most this long for others to be recorded with it


def dispatch_due(*, time_budget: float = 20.0, linger: float = 2.0) -> dict:
    """Send due deliveries until none is due (or due within `linger` seconds) or the time budget is spent.

    Every send happens outside any transaction: rows are claimed, and results recorded, in short transactions
    of their own before and after the network I/O. Claims and recordings grow with the pace of the sends (up
    to DELIVERY_BATCH_SIZE rows), so that a fast platform costs a few statements per many messages.
    """
    assert_outside_transaction()
    concurrency = max(settings.DELIVERY_CONCURRENCY, 1)
    per_cp_limit = max(settings.DELIVERY_PER_CONTACT_POINT_CONCURRENCY, 1)
    pace = Pace(concurrency, per_cp_limit)
    deadline = time.monotonic() + time_budget
    totals: Counter = Counter()
    queued: dict[int, deque[Job]] = defaultdict(deque)
    inflight: dict = {}
    inflight_per_cp: Counter = Counter()
    contact_points: dict[int, ContactPoint] = {}
    exhausted = asked_for_help = False
    next_claim_at = 0.0
    finished: list = []
    finished_since = time.monotonic()
    urgent = False
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency)
    # Connects only to the addresses the SSRF guard checked, or through DELIVERY_PROXY (platforms/egress.py).
    with egress.client(proxy=settings.DELIVERY_PROXY, limits=limits, follow_redirects=False) as client, \
            ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="send") as pool:
        while True:
            waiting = sum(len(q) for q in queued.values())
            # Work in hand: sends in flight and queued jobs that start soon. Jobs waiting behind a slow contact
            # point do not count, so other contact points' rows keep being claimed; a contact point already
            # holding its share (busy) is left out of the claim.
            busy = [cp for cp, q in queued.items() if len(q) + inflight_per_cp[cp] >= pace.cp_cap(cp)]
            in_hand = len(inflight) + sum(pace.starting_soon(cp, len(q), inflight_per_cp[cp])
                                          for cp, q in queued.items() if q)
            if (not exhausted and time.monotonic() < deadline and time.monotonic() >= next_claim_at
                    and in_hand < concurrency):
                room = max(1, pace.claim_size() - in_hand)
                claimed = claim_due(room, exclude_contact_points=busy)
                if claimed and not asked_for_help and len(claimed) == room:
                    asked_for_help = True
                    _ask_for_help()
                if claimed:
                    jobs, counts = prepare(claimed, contact_points)
                    totals.update(counts)
                    for job in jobs:
                        queued[job.contact_point.pk].append(job)
                elif not inflight and not waiting:
                    if finished:  # record before lingering
                        totals.update(_record(finished))
                        finished = []
                    soon = _next_due_in()
                    if soon is not None and soon <= linger and time.monotonic() + soon < deadline:
                        time.sleep(soon + 0.01)
                        continue
                    exhausted = True
                else:
                    # Nothing due right now, but sends are in flight: look again once they finish (rows in a
                    # batching window or due for retry soon are picked up then), without claiming in a spin.
                    next_claim_at = time.monotonic() + 0.2
            for cp_id, q in queued.items():
                while q and inflight_per_cp[cp_id] < per_cp_limit and len(inflight) < concurrency:
                    job = q.popleft()
                    if timezone.now() + timedelta(seconds=job.contact_point.timeout_seconds + 2) > job.lease_until:
                        _give_back(job)  # our lease would run out mid-send
                        continue
                    try:
                        held = _paced(job)
                    except Exception:  # pacing state unreadable (cache, database): this one waits a while
                        log.exception("could not pace delivery %s", job.delivery.pk)
                        held = "error"
                        quietly("give a delivery back", _give_back, job, PACING_ERROR_DELAY_SECONDS)
                    if held:
                        totals[held] += 1
                        continue
                    inflight[pool.submit(_send, client, job)] = job
                    inflight_per_cp[cp_id] += 1
            if not inflight and not finished:
                if exhausted or time.monotonic() >= deadline:
                    break
                time.sleep(max(0.0, min(next_claim_at - time.monotonic(), 0.2)))
                continue
            if inflight:
                timeout = 0.5 if not finished else max(0.0, finished_since + RECORD_WAIT_SECONDS - time.monotonic())
                done, _ = wait(list(inflight), timeout=timeout, return_when=FIRST_COMPLETED)
                for future in done:
                    job = inflight.pop(future)
                    inflight_per_cp[job.contact_point.pk] -= 1
                    try:
                        result = future.result()
                    except Exception as exc:  # whatever one send raises stays with it: stopped, for a person
                        log.error("sending delivery %s raised", job.delivery.pk, exc_info=exc)
                        result = SendResult(endpoint=job.contact_point.endpoint, verdict=STOP,
                                            error=f"The send raised {type(exc).__name__}: {exc}"[:1000])
                    pace.finished(job.contact_point.pk, result.duration_ms / 1000)
                    if not finished:
                        finished_since = time.monotonic()
                    finished.append((job, result))
                    cp = job.contact_point
                    # A failure, or a success while the circuit is not closed, changes what pacing allows for
                    # the next send: recorded at once, not batched.
                    urgent = urgent or result.verdict != SENT or bool(cp.consecutive_failures or cp.circuit_open_until)
            # Record many results in one transaction, but never keep one waiting long: when a batch's worth
            # is in, when nothing else is in flight or queued, or when the first has waited RECORD_WAIT_SECONDS.
            if finished and (urgent or len(finished) >= settings.DELIVERY_BATCH_SIZE
                             or (not inflight and not any(queued.values()))
                             or time.monotonic() - finished_since >= RECORD_WAIT_SECONDS):
                totals.update(_record(finished))
                finished, urgent = [], False
            if time.monotonic() >= deadline and not inflight:
                break
        if finished:  # sent, not yet recorded when the time budget ran out: recorded now, never left to the lease
            totals.update(_record(finished))
        for q in queued.values():  # claimed but never sent (time budget spent): due again at once
            while q:
                _give_back(q.popleft())
    result = dict(totals)
    if result:
        log.info("dispatched %s", result)
    return result


def _record(finished: list) -> Counter:
    try:
        return record_results(finished)
    except Exception:  # recording must not lose the rest; the leases bring these back
        log.exception("could not record %d results", len(finished))
        return Counter(error=len(finished))
