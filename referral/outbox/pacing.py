"""Pacing per contact point, shared by every worker: a rate limit and a circuit breaker.

The rate limit counts messages per minute in the cache (Redis in production, so it holds across workers and
machines; per process in the embedded mode). The circuit breaker lives on the ContactPoint row, so that every
worker sees the same state, and its probe is taken by a conditional UPDATE that only one worker can win.

These UPDATEs run in autocommit, one row per statement, never inside a transaction (core/locking.py): a
transaction holding other locks while it waits for a contact point row would break the lock order.
"""

import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import F
from django.utils import timezone

from platforms.models import ContactPoint


def take_rate_token(contact_point: ContactPoint) -> float | None:
    """None if a message may go now; otherwise the seconds until the next minute window opens."""
    limit = contact_point.rate_per_minute
    if not limit:
        return None
    now = time.time()
    window = int(now // 60)
    # created_at keeps counters apart if ids are reused (a restored or re-created database, test runs).
    key = f"cp-rate:{contact_point.pk}:{int(contact_point.created_at.timestamp())}:{window}"
    cache.add(key, 0, timeout=120)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=120)
        used = 1
    if used <= limit:
        return None
    return (window + 1) * 60 - now + 0.05


def circuit_allows(contact_point: ContactPoint) -> tuple[bool, object]:
    """(allowed, retry_at). Closed: allowed. Open: not before circuit_open_until. Half-open: one probe wins."""
    if contact_point.consecutive_failures < settings.CIRCUIT_FAILURE_THRESHOLD:
        return True, None
    now = timezone.now()
    if contact_point.circuit_open_until and contact_point.circuit_open_until > now:
        return False, contact_point.circuit_open_until
    # Half-open: whoever moves circuit_open_until forward first sends the probe; the others wait for it.
    probe_until = now + timedelta(seconds=contact_point.timeout_seconds + 5)
    won = ContactPoint.objects.filter(
        pk=contact_point.pk, circuit_open_until=contact_point.circuit_open_until
    ).update(circuit_open_until=probe_until)
    contact_point.circuit_open_until = probe_until
    return (True, None) if won else (False, probe_until)


def record_success(contact_point: ContactPoint) -> None:
    """A message went through: the circuit closes."""
    if contact_point.consecutive_failures or contact_point.circuit_open_until:
        ContactPoint.objects.filter(pk=contact_point.pk).update(consecutive_failures=0, circuit_open_until=None)
    contact_point.consecutive_failures, contact_point.circuit_open_until = 0, None


def record_failure(contact_point: ContactPoint) -> None:
    """One more consecutive transient failure; at the threshold the circuit opens, longer each time.

    Updates `contact_point` in place with what is now in the database.
    """
    ContactPoint.objects.filter(pk=contact_point.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    failures = ContactPoint.objects.values_list("consecutive_failures", flat=True).get(pk=contact_point.pk)
    contact_point.consecutive_failures = failures
    over = failures - settings.CIRCUIT_FAILURE_THRESHOLD
    if over >= 0:
        cooldown = min(settings.CIRCUIT_COOLDOWN_SECONDS * (2 ** min(over, 16)), settings.CIRCUIT_MAX_COOLDOWN_SECONDS)
        contact_point.circuit_open_until = timezone.now() + timedelta(seconds=cooldown)
        ContactPoint.objects.filter(pk=contact_point.pk).update(circuit_open_until=contact_point.circuit_open_until)
