"""The outbox dispatcher: claim due deliveries, send them concurrently outside any transaction, record results.

PostgreSQL is the record of what must be sent; the broker only says "look now". A claim takes due rows with
`SELECT … FOR UPDATE SKIP LOCKED`, bumps their attempt counter and sets a lease; a worker that dies mid-send
lets the lease run out and the next sweep claims the row again (same id, same bytes: the receiver dedupes).

Within one run, sends go through a small scheduler: at most DELIVERY_CONCURRENCY in flight, at most
DELIVERY_PER_CONTACT_POINT_CONCURRENCY to any one contact point, results recorded as they complete (several
at a time, in one transaction), new rows claimed as slots free. A slow platform holds a few threads, not all.
"""

import logging
import time
from collections import Counter, defaultdict, deque
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import timedelta

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.db.models import BinaryField, Case, F, Q, Value, When
from django.utils import timezone

from core.enqueue import send_task
from platforms.endpoints import EndpointNotAllowed, check_http_endpoint
from platforms.models import Channel, ContactPoint
from referral.models import DISPATCH_TASK, Delivery, DeliveryStatus, Referral
from referral.outbox import actions as outbox_actions
from referral.outbox import email as email_channel
from referral.outbox import formatters, pacing, webhook
from referral.outbox.jobs import Job
from referral.outbox.recording import quietly, record_results
from referral.outbox.result import STOP, SendResult

log = logging.getLogger(__name__)


def _lease_seconds(longest_timeout: int) -> int:
    """How long a claim holds a row. A dispatcher claims at most twice its concurrency, so a claimed row waits
    behind a couple of sends at most; a job whose lease would run out before it is sent is given back."""
    return settings.DELIVERY_LEASE_SECONDS or 3 * (longest_timeout + 5) + 15


def claim_due(limit: int, *, exclude_contact_points=()) -> list[tuple]:
    """Claim up to `limit` due deliveries; returns [(delivery_id, attempt_number, lease_until)]."""
    with transaction.atomic():
        now = timezone.now()
        qs = (
            Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .exclude(contact_point_id__in=list(exclude_contact_points))
            .order_by("next_attempt_at")
        )
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",), no_key=True)
        rows = list(qs.values_list("id", "attempts", "contact_point__timeout_seconds")[:limit])
        if not rows:
            return []
        lease_until = now + timedelta(seconds=_lease_seconds(max(r[2] for r in rows)))
        # The rows are ours until commit: locked on PostgreSQL, and on SQLite the IMMEDIATE transaction holds
        # the database's write lock from the SELECT on. So each row's attempt count is exactly what we read + 1.
        Delivery.objects.filter(pk__in=[r[0] for r in rows]).update(attempts=F("attempts") + 1, lease_until=lease_until)
        return [(delivery_id, attempts + 1, lease_until) for delivery_id, attempts, _ in rows]


def _ensure_payloads(deliveries: list[Delivery]) -> dict:
    """Render, once, the messages of deliveries that have none yet, and store them; return every payload.

    The stored bytes are what every attempt sends. The update is conditional on the payload still being empty,
    so two dispatchers racing on an expired lease cannot store different bytes; both then send what won.
    """
    todo = [d for d in deliveries if d.payload is None]
    if todo:
        through = Delivery.referrals.through
        links = through.objects.filter(delivery_id__in=[d.pk for d in todo]).order_by("referral_id")
        referral_ids = {link.referral_id for link in links}
        referrals = Referral.objects.select_related("item").in_bulk(referral_ids)
        per_delivery: dict = defaultdict(list)
        for link in links:
            per_delivery[link.delivery_id].append(referrals[link.referral_id])
        rendered = {}
        for delivery in todo:
            try:
                rendered[delivery.pk] = formatters.render(delivery, per_delivery[delivery.pk])
            except Exception:  # a template or data problem: this one is refused below, the others go
                log.exception("could not render delivery %s", delivery.pk)
        if rendered:
            Delivery.objects.filter(pk__in=list(rendered), payload__isnull=True).update(
                payload=Case(*[When(pk=pk, then=Value(body, output_field=BinaryField()))
                               for pk, body in rendered.items()], output_field=BinaryField()))
            stored = Delivery.objects.filter(pk__in=list(rendered)).values_list("pk", "payload")
            for pk, payload in stored:
                rendered[pk] = bytes(payload)
    payloads = {d.pk: bytes(d.payload) for d in deliveries if d.payload is not None}
    payloads.update(rendered if todo else {})
    return payloads


def _signing_secrets(cp: ContactPoint) -> list[str]:
    secrets = [cp.secret]
    if cp.previous_secret and cp.previous_secret_until and cp.previous_secret_until > timezone.now():
        secrets.append(cp.previous_secret)
    return secrets


def _send(client: httpx.Client, job: Job) -> SendResult:
    cp = job.contact_point
    if job.refused:
        return SendResult(endpoint=cp.endpoint, verdict=STOP, error=job.refused)
    if cp.channel == Channel.WEBHOOK:
        return webhook.send(client, endpoint=cp.endpoint, secrets_=_signing_secrets(cp), msg_id=str(job.delivery.pk),
                            body=job.body, timeout=cp.timeout_seconds)
    if cp.channel == Channel.EMAIL:
        return email_channel.send(to=cp.endpoint, body=job.body, timeout=cp.timeout_seconds,
                                  message_id=formatters.message_id(job.delivery))
    return SendResult(endpoint=cp.endpoint, verdict=STOP, error=f"channel '{cp.channel}' cannot be sent")


def _prepare(claimed: list[tuple], contact_points: dict) -> tuple[list[Job], Counter]:
    """Load claimed rows, render payloads, hand manual ones to people, refuse what must not be sent.

    `contact_points` holds one ContactPoint object per id for the whole run, refreshed at every claim, so
    that pacing decisions see what this run and other workers have recorded.
    """
    counts: Counter = Counter()
    deliveries = Delivery.objects.select_related("contact_point", "contact_point__platform").in_bulk(
        [c[0] for c in claimed]
    )
    for delivery in deliveries.values():
        fresh = delivery.contact_point
        cp = contact_points.setdefault(fresh.pk, fresh)
        if cp is not fresh:
            for name in ("active", "disabled_reason", "consecutive_failures", "circuit_open_until", "secret",
                         "previous_secret", "previous_secret_until", "endpoint", "timeout_seconds", "rate_per_minute"):
                setattr(cp, name, getattr(fresh, name))
            delivery.contact_point = cp
    try:
        payloads = _ensure_payloads(list(deliveries.values()))
    except Exception:  # one row spoils the batch: store them one by one, so that only that one is refused
        log.exception("could not store the payloads of %d deliveries together", len(deliveries))
        payloads = {}
        for delivery in deliveries.values():
            try:
                payloads.update(_ensure_payloads([delivery]))
            except Exception:
                log.exception("could not store the payload of delivery %s", delivery.pk)
    jobs = []
    for delivery_id, attempt, lease_until in claimed:
        delivery = deliveries.get(delivery_id)
        if delivery is None:  # gone since the claim: nothing to send or record
            continue
        job = Job(delivery=delivery, attempt=attempt, lease_until=lease_until)
        try:
            if _prepare_one(job, payloads):
                jobs.append(job)
            else:
                counts["manual"] += 1
        except Exception as exc:  # whatever one delivery raises stays with it: stopped, for a person
            log.exception("could not prepare delivery %s", delivery_id)
            job.refused = f"Could not prepare the message: {type(exc).__name__}: {exc}"[:1000]
            jobs.append(job)
    return jobs, counts


def _prepare_one(job: Job, payloads: dict) -> bool:
    """Give `job` its body, or a reason it must not be sent (job.refused). False: handed to a person instead."""
    delivery, cp = job.delivery, job.contact_point
    if delivery.pk not in payloads:  # stop this one, tell a person, keep going
        job.refused = "Could not render the message (see the worker's log)."
        return True
    job.body = payloads[delivery.pk]
    if not cp.active:
        job.refused = f"The contact point is disabled. {cp.disabled_reason}".strip()
    elif cp.channel == Channel.MANUAL:
        outbox_actions.delivery_await_manual(delivery_id=delivery.pk, attempt_number=job.attempt)
        return False
    elif cp.channel == Channel.WEBHOOK:
        try:
            check_http_endpoint(cp.endpoint)
        except EndpointNotAllowed as exc:
            job.refused = f"Endpoint refused: {exc}"
            return True
        try:  # a secret saved past the service's checks (the admin, the database) cannot sign
            for secret in _signing_secrets(cp):
                webhook.secret_key_bytes(secret)
        except webhook.InvalidSecret as exc:
            job.refused = f"The contact point's signing secret cannot be used: {exc}"
    return True


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


RECORD_WAIT_SECONDS = 0.1  # a finished send waits at most this long for others to be recorded with it
CLAIM_AHEAD_SECONDS = 0.5  # a claim takes about this much work, at the pace this run is sending
START_SOON_SECONDS = 0.05  # queued jobs that start within this count as work in hand (no new claim for now)


class _Pace:
    """How fast this run gets through its sends: the recent completion rate (sizing the claims) and each
    contact point's mean send time (how many of its rows may wait here before it counts as busy)."""

    def __init__(self, concurrency: int, per_cp_limit: int) -> None:
        self.concurrency, self.per_cp_limit = concurrency, per_cp_limit
        self.finished_at: deque[float] = deque(maxlen=256)
        self.send_seconds: dict[int, float] = {}

    def finished(self, cp_id: int, seconds: float) -> None:
        self.finished_at.append(time.monotonic())
        mean = self.send_seconds.get(cp_id)
        self.send_seconds[cp_id] = seconds if mean is None else 0.8 * mean + 0.2 * seconds

    def claim_size(self) -> int:
        """Twice the concurrency at first or for slow sends; up to DELIVERY_BATCH_SIZE once sends are fast,
        so that claiming, preparing and recording cost a few statements per many messages."""
        rate = 0.0
        if len(self.finished_at) > 1:
            span = time.monotonic() - self.finished_at[0]
            rate = len(self.finished_at) / span if span > 0 else 0.0
        return int(min(max(settings.DELIVERY_BATCH_SIZE, 1), max(self.concurrency * 2, rate * CLAIM_AHEAD_SECONDS)))

    def starting_soon(self, cp_id: int, queued: int, inflight: int) -> int:
        """How many of a contact point's queued jobs start within START_SOON_SECONDS: those with a free slot
        now, and as many more as its mean send time lets through. A slow contact point's queue does not count,
        so it never holds up claims for the others."""
        soon = max(0, self.per_cp_limit - inflight)
        seconds = self.send_seconds.get(cp_id)
        if seconds:
            soon += int(self.per_cp_limit * START_SOON_SECONDS / max(seconds, 1e-4))
        return min(queued, soon)

    def cp_cap(self, cp_id: int) -> int:
        """Rows of one contact point held here (queued and in flight) before it is left out of claims: four
        rounds of its in-flight limit, or more when its sends are fast enough to get through them quickly."""
        floor = self.per_cp_limit * 4
        seconds = self.send_seconds.get(cp_id)
        if not seconds:
            return floor
        return max(floor, int(self.per_cp_limit / max(seconds, 1e-4) * CLAIM_AHEAD_SECONDS))


def dispatch_due(*, time_budget: float = 20.0, linger: float = 2.0) -> dict:
    """Send due deliveries until none is due (or due within `linger` seconds) or the time budget is spent.

    Every send happens outside any transaction: rows are claimed, and results recorded, in short transactions
    of their own before and after the network I/O. Claims and recordings grow with the pace of the sends (up
    to DELIVERY_BATCH_SIZE rows), so that a fast platform costs a few statements per many messages.
    """
    assert_outside_transaction()
    concurrency = max(settings.DELIVERY_CONCURRENCY, 1)
    per_cp_limit = max(settings.DELIVERY_PER_CONTACT_POINT_CONCURRENCY, 1)
    pace = _Pace(concurrency, per_cp_limit)
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
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency)
    with httpx.Client(limits=limits, follow_redirects=False, trust_env=False) as client, \
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
                    jobs, counts = _prepare(claimed, contact_points)
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
            # Record many results in one transaction, but never keep one waiting long: when a batch's worth
            # is in, when nothing else is in flight, or when the first of them has waited RECORD_WAIT_SECONDS.
            if finished and (len(finished) >= settings.DELIVERY_BATCH_SIZE or not inflight
                             or time.monotonic() - finished_since >= RECORD_WAIT_SECONDS):
                totals.update(_record(finished))
                finished = []
            if time.monotonic() >= deadline and not inflight:
                break
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
