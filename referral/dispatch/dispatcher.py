"""The outbox dispatcher: claim due deliveries, send them concurrently outside any transaction, record results.

PostgreSQL is the record of what must be sent; the broker only says "look now". A claim takes due rows with
`SELECT … FOR UPDATE SKIP LOCKED`, bumps their attempt counter and sets a lease; a worker that dies mid-send
lets the lease run out and the next sweep claims the row again (same id, same bytes: the receiver dedupes).
"""

import email.utils
import logging
import math
import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from platforms.endpoints import EndpointNotAllowed, check_http_endpoint
from platforms.models import Channel

from .. import workflow
from ..models import Delivery, DeliveryAttempt, DeliveryStatus
from . import formatters, webhook
from .result import SendResult

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = {408, 429}


def _lease_seconds(count: int) -> int:
    rounds = math.ceil(max(count, 1) / max(settings.DELIVERY_CONCURRENCY, 1))
    return rounds * (settings.DELIVERY_TIMEOUT_SECONDS + 5) + 60


def claim_due(limit: int) -> list[tuple]:
    """Claim up to `limit` due deliveries; returns [(delivery_id, attempt_number)]."""
    with transaction.atomic():
        now = timezone.now()
        qs = (
            Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .order_by("next_attempt_at")
        )
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        rows = list(qs.values_list("id", "attempts")[:limit])
        if not rows:
            return []
        lease_until = now + timedelta(seconds=_lease_seconds(len(rows)))
        claimed = []
        for delivery_id, attempts in rows:
            # Conditional on the attempt count we read: a row another claimer took in between is skipped
            # (SQLite has no row locks; on PostgreSQL the lock already guarantees it).
            if Delivery.objects.filter(pk=delivery_id, attempts=attempts).update(
                attempts=attempts + 1, lease_until=lease_until
            ):
                claimed.append((delivery_id, attempts + 1))
        return claimed


def _ensure_payload(delivery: Delivery) -> bytes:
    """Render once and store; every later attempt sends the stored bytes."""
    if delivery.payload is not None:
        return bytes(delivery.payload)
    referrals = list(delivery.referrals.select_related("item").order_by("id"))
    body = formatters.render(delivery, referrals)
    Delivery.objects.filter(pk=delivery.pk, payload__isnull=True).update(payload=body)
    return bytes(Delivery.objects.values_list("payload", flat=True).get(pk=delivery.pk))


def _send_one(client: httpx.Client, job: dict) -> SendResult:
    cp = job["contact_point"]
    if job.get("refused"):
        return SendResult(endpoint=cp.endpoint, error=job["refused"])
    if cp.channel == Channel.WEBHOOK:
        return webhook.send(client, endpoint=cp.endpoint, secret=cp.secret, msg_id=str(job["delivery"].pk),
                            body=job["body"], timeout=min(cp.timeout_seconds, settings.DELIVERY_TIMEOUT_SECONDS))
    return SendResult(endpoint=cp.endpoint, error=f"channel '{cp.channel}' is not available yet")


def _retry_delay(attempt_number: int, retry_after: str | None) -> float | None:
    """Seconds until the next attempt, or None when the schedule is exhausted. Jitter ±20 %."""
    schedule = settings.DELIVERY_RETRY_SCHEDULE
    if attempt_number > len(schedule):
        return None
    delay = schedule[attempt_number - 1] * random.uniform(0.8, 1.2)
    if retry_after:
        try:
            delay = max(delay, float(retry_after))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(retry_after) if retry_after else None
            if parsed is not None:
                delay = max(delay, (parsed - timezone.now()).total_seconds())
    return delay


def _record(job: dict, result: SendResult) -> str:
    delivery, number = job["delivery"], job["attempt"]
    code = result.status_code
    if result.ok:
        outcome, final, disable = "sent", None, False
    elif job.get("refused"):
        outcome, final, disable = "stopped", DeliveryStatus.STOPPED, False
    elif code == 410:
        outcome, final, disable = "stopped", DeliveryStatus.STOPPED, True
    elif code is None or code in RETRYABLE_STATUSES or code >= 500:
        outcome, final, disable = "retry", None, False
    else:  # 3xx and other 4xx: the request itself is wrong for this endpoint; a person must look
        outcome, final, disable = "stopped", DeliveryStatus.STOPPED, False
    next_at = None
    if outcome == "retry":
        delay = _retry_delay(number, result.retry_after)
        if delay is None:
            outcome, final = "failed", DeliveryStatus.FAILED
        else:
            next_at = timezone.now() + timedelta(seconds=delay)
    error = result.error or ("" if result.ok else f"HTTP {code}: {result.response_excerpt[:300]}")
    DeliveryAttempt.objects.get_or_create(
        delivery_id=delivery.pk,
        number=number,
        defaults=dict(
            endpoint=result.endpoint, started_at=result.started_at, finished_at=timezone.now(),
            duration_ms=result.duration_ms, request_sha256=result.request_sha256, signature=result.signature,
            response_status=code, response_sha256=result.response_sha256,
            response_excerpt=result.response_excerpt[:500], error=error[:2000], outcome=outcome,
        ),
    )
    if outcome == "sent":
        workflow.delivery_mark_sent(delivery_id=delivery.pk, attempt_number=number)
    else:
        workflow.delivery_record_failure(
            delivery_id=delivery.pk, attempt_number=number, final_status=final, next_attempt_at=next_at,
            status_code=code, error=error, disable_contact_point=disable,
        )
    return outcome


def dispatch_batch(client: httpx.Client, limit: int) -> dict:
    """Claim, send and record one batch. Returns counts per outcome."""
    claimed = claim_due(limit)
    if not claimed:
        return {}
    attempts = dict(claimed)
    deliveries = Delivery.objects.select_related("contact_point", "contact_point__platform").in_bulk(attempts)
    jobs = []
    for delivery_id, number in claimed:
        delivery = deliveries[delivery_id]
        job = {"delivery": delivery, "attempt": number, "contact_point": delivery.contact_point}
        cp = delivery.contact_point
        if not cp.active:
            job["refused"] = "The contact point is disabled."
        else:
            try:
                if cp.channel == Channel.WEBHOOK:
                    check_http_endpoint(cp.endpoint)
            except EndpointNotAllowed as exc:
                job["refused"] = f"Endpoint refused: {exc}"
        job["body"] = _ensure_payload(delivery)
        jobs.append(job)
    with ThreadPoolExecutor(max_workers=min(settings.DELIVERY_CONCURRENCY, len(jobs))) as pool:
        results = list(pool.map(lambda j: _send_one(client, j), jobs))
    counts: dict[str, int] = {}
    for job, result in zip(jobs, results, strict=True):
        try:
            outcome = _record(job, result)
        except Exception:  # recording must not lose the rest of the batch; the lease brings this one back
            log.exception("could not record attempt %s of delivery %s", job["attempt"], job["delivery"].pk)
            outcome = "error"
        counts[outcome] = counts.get(outcome, 0) + 1
    log.info("dispatched %s", counts)
    return counts


def dispatch_due(*, time_budget: float = 20.0) -> dict:
    """Drain due deliveries in batches until none is due or the time budget is spent."""
    totals: dict[str, int] = {}
    deadline = time.monotonic() + time_budget
    limits = httpx.Limits(max_connections=settings.DELIVERY_CONCURRENCY * 2,
                          max_keepalive_connections=settings.DELIVERY_CONCURRENCY)
    with httpx.Client(limits=limits, follow_redirects=False, trust_env=False) as client:
        while time.monotonic() < deadline:
            counts = dispatch_batch(client, settings.DELIVERY_BATCH_SIZE)
            if not counts:
                break
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + value
    return totals
