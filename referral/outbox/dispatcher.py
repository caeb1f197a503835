"""The outbox dispatcher: claim due deliveries, send them concurrently outside any transaction, record results.

PostgreSQL is the record of what must be sent; the broker only says "look now". A claim takes due rows with
`SELECT … FOR UPDATE SKIP LOCKED`, bumps their attempt counter and sets a lease; a worker that dies mid-send
lets the lease run out and the next sweep claims the row again (same id, same bytes: the receiver dedupes).

Within one run, sends go through a small scheduler: at most DELIVERY_CONCURRENCY in flight, at most
DELIVERY_PER_CONTACT_POINT_CONCURRENCY to any one contact point, results recorded as they complete (several
at a time, in one transaction), new rows claimed as slots free. A slow platform holds a few threads, not all.
"""

import email.utils
import logging
import random
import time
from collections import Counter, defaultdict, deque
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, timedelta

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.db.models import BinaryField, Case, F, Q, Value, When
from django.utils import timezone

from core.enqueue import send_task
from platforms.endpoints import EndpointNotAllowed, check_http_endpoint
from platforms.models import Channel, ContactPoint
from referral.models import DISPATCH_TASK, Delivery, DeliveryAttempt, DeliveryStatus, Referral
from referral.outbox import actions as outbox_actions
from referral.outbox import email as email_channel
from referral.outbox import formatters, pacing, webhook
from referral.outbox.result import GONE, SENT, STOP, SendResult

log = logging.getLogger(__name__)


@dataclass
class Job:
    delivery: Delivery
    attempt: int
    lease_until: object
    body: bytes = b""
    refused: str = ""

    @property
    def contact_point(self) -> ContactPoint:
        return self.delivery.contact_point


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
            qs = qs.select_for_update(skip_locked=True, of=("self",))
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


def _retry_delay(attempt_number: int, retry_after: str | None) -> float | None:
    """Seconds until the next attempt, or None when the schedule is exhausted. Jitter ±20 %."""
    schedule = settings.DELIVERY_RETRY_SCHEDULE
    if attempt_number > len(schedule):
        return None
    delay = schedule[attempt_number - 1] * random.uniform(0.8, 1.2)
    asked = _retry_after_seconds(retry_after)
    if asked is not None:
        delay = max(delay, min(asked, MAX_RETRY_AFTER_SECONDS))
    return delay


MAX_RETRY_AFTER_SECONDS = 24 * 3600  # a platform cannot park a delivery for longer than a day


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or not understood."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # "-0000" parses naive; HTTP dates are GMT
            when = when.replace(tzinfo=UTC)
        seconds = (when - timezone.now()).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(seconds, 0.0)


def _attempt_record(job: Job, result: SendResult, outcome: str) -> DeliveryAttempt:
    error = result.error or ("" if result.ok else f"HTTP {result.status_code}: {result.response_excerpt[:300]}")
    return DeliveryAttempt(
        delivery_id=job.delivery.pk, number=job.attempt, endpoint=result.endpoint[:2048],
        started_at=result.started_at, finished_at=timezone.now(), duration_ms=result.duration_ms,
        request_sha256=result.request_sha256, signature=result.signature, response_status=result.status_code,
        response_sha256=result.response_sha256, response_excerpt=result.response_excerpt[:500],
        error=error[:2000], outcome=outcome,
    )


def record_results(done: list[tuple[Job, SendResult]]) -> Counter:
    """Store the sending records and move the deliveries on. Successes are written together."""
    counts: Counter = Counter()
    sent = [(job, result) for job, result in done if result.verdict == SENT]
    if sent:
        outbox_actions.deliveries_mark_sent(
            [(job.delivery.pk, job.attempt, result.external_reference) for job, result in sent],
            attempt_records=[_attempt_record(job, result, "sent") for job, result in sent],
        )
        for cp in {job.contact_point.pk: job.contact_point for job, _ in sent}.values():
            pacing.record_success(cp)
        counts["sent"] += len(sent)
    for job, result in done:
        if result.verdict == SENT:
            continue
        final, disable, next_at, outcome = None, False, None, "retry"
        if result.verdict == GONE:
            final, disable, outcome = DeliveryStatus.STOPPED, True, "stopped"
        elif result.verdict == STOP:
            final, outcome = DeliveryStatus.STOPPED, "stopped"
        else:
            delay = _retry_delay(job.attempt - job.delivery.attempt_base, result.retry_after)
            if delay is None:
                final, outcome = DeliveryStatus.FAILED, "failed"
            else:
                next_at = timezone.now() + timedelta(seconds=delay)
            if not job.refused:
                pacing.record_failure(job.contact_point)
        record = _attempt_record(job, result, outcome)
        outbox_actions.delivery_record_failure(
            delivery_id=job.delivery.pk, attempt_number=job.attempt, final_status=final, next_attempt_at=next_at,
            status_code=result.status_code, error=record.error, disable_contact_point=disable, attempt_record=record,
        )
        counts[outcome] += 1
    return counts


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
    payloads = _ensure_payloads(list(deliveries.values()))
    jobs = []
    for delivery_id, attempt, lease_until in claimed:
        delivery = deliveries[delivery_id]
        job = Job(delivery=delivery, attempt=attempt, lease_until=lease_until)
        cp = delivery.contact_point
        if delivery_id not in payloads:  # stop this one, tell a person, keep going
            job.refused = "Could not render the message (see the worker's log)."
            jobs.append(job)
            continue
        job.body = payloads[delivery_id]
        if not cp.active:
            job.refused = f"The contact point is disabled. {cp.disabled_reason}".strip()
        elif cp.channel == Channel.MANUAL:
            outbox_actions.delivery_await_manual(delivery_id=delivery_id, attempt_number=attempt)
            counts["manual"] += 1
            continue
        elif cp.channel == Channel.WEBHOOK:
            try:
                check_http_endpoint(cp.endpoint)
            except EndpointNotAllowed as exc:
                job.refused = f"Endpoint refused: {exc}"
        jobs.append(job)
    return jobs, counts


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


def _give_back(job: Job) -> None:
    outbox_actions.delivery_release(delivery_id=job.delivery.pk, attempt_number=job.attempt,
                                    next_attempt_at=timezone.now())


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


def dispatch_due(*, time_budget: float = 20.0, linger: float = 2.0) -> dict:
    """Send due deliveries until none is due (or due within `linger` seconds) or the time budget is spent.

    Every send happens outside any transaction: rows are claimed, and results recorded, in short transactions
    of their own before and after the network I/O.
    """
    assert_outside_transaction()
    concurrency = max(settings.DELIVERY_CONCURRENCY, 1)
    per_cp_limit = max(settings.DELIVERY_PER_CONTACT_POINT_CONCURRENCY, 1)
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
            # Work that could start now: jobs queued for contact points below their in-flight limit. Jobs stuck
            # behind a slow contact point do not count, so other contact points' rows keep being claimed.
            ready = sum(len(q) for cp, q in queued.items() if inflight_per_cp[cp] < per_cp_limit)
            if (not exhausted and time.monotonic() < deadline and time.monotonic() >= next_claim_at
                    and ready + len(inflight) < concurrency):
                busy = [cp for cp, q in queued.items() if len(q) + inflight_per_cp[cp] >= per_cp_limit * 4]
                room = max(1, min(settings.DELIVERY_BATCH_SIZE, concurrency * 2 - ready - len(inflight)))
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
                    if held := _paced(job):
                        totals[held] += 1
                        continue
                    inflight[pool.submit(_send, client, job)] = job
                    inflight_per_cp[cp_id] += 1
            if not inflight and not finished:
                if exhausted or time.monotonic() >= deadline:
                    break
                time.sleep(max(0.0, min(next_claim_at - time.monotonic(), 0.2)))
                continue
            done, _ = wait(list(inflight), timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                job = inflight.pop(future)
                inflight_per_cp[job.contact_point.pk] -= 1
                finished.append((job, future.result()))
            # Record several results in one transaction, but never keep one waiting long.
            if finished and (len(finished) >= concurrency // 2 or not inflight
                             or time.monotonic() - finished_since > 0.05):
                try:
                    totals.update(record_results(finished))
                except Exception:  # recording must not lose the rest; the leases bring these back
                    log.exception("could not record %d results", len(finished))
                    totals["error"] += len(finished)
                finished = []
            if not finished:
                finished_since = time.monotonic()
            if time.monotonic() >= deadline and not inflight:
                break
        for q in queued.values():  # claimed but never sent (time budget spent): due again at once
            while q:
                _give_back(q.popleft())
    result = dict(totals)
    if result:
        log.info("dispatched %s", result)
    return result
