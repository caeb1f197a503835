"""Claims of due checks, as the outbox claims deliveries: `SELECT … FOR UPDATE SKIP LOCKED` on due, unfinished
checks whose lease is free, their attempt counter bumped and a lease set, in one short transaction. A worker that
dies mid-check lets the lease run out and a later run claims the check again."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.db import connection, transaction
from django.db.models import F, Q

from liveness.conf import knob
from liveness.models import LivenessCheck


@dataclass
class Job:
    check_id: int
    attempt: int
    lease_until: datetime
    referral_id: int = 0
    platform_id: int = 0
    url: str = ""
    host: str = ""
    gave_up: bool = False  # claimed more than LIVENESS_MAX_ATTEMPTS times: closed as unknown, not fetched
    slot: object = field(default=None, repr=False)


def lease_seconds() -> int:
    return knob("LIVENESS_LEASE_SECONDS") or int(knob("LIVENESS_TIMEOUT_SECONDS") * 4 + 60)


def claim_due(limit: int, *, now: datetime) -> list[Job]:
    """Claim up to `limit` checks due at `now`, oldest due first; returns them with their URL and host."""
    with transaction.atomic():
        qs = (LivenessCheck.objects.filter(finished_at__isnull=True, due_at__lte=now, presend=False)
              .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now)).order_by("due_at"))
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",), no_key=True)
        rows = list(qs.values_list("pk", "attempts")[:limit])
        if not rows:
            return []
        lease_until = now + timedelta(seconds=lease_seconds())
        LivenessCheck.objects.filter(pk__in=[pk for pk, _ in rows]).update(attempts=F("attempts") + 1,
                                                                            lease_until=lease_until)
    details = {pk: (referral_id, platform_id, url) for pk, referral_id, platform_id, url in
               LivenessCheck.objects.filter(pk__in=[pk for pk, _ in rows])
               .values_list("pk", "referral_id", "referral__platform_id", "referral__item__url")}
    jobs = []
    for pk, attempts in rows:
        referral_id, platform_id, url = details[pk]
        try:
            host = (urlsplit(url).hostname or "").lower()
        except ValueError:
            host = ""
        jobs.append(Job(check_id=pk, attempt=attempts + 1, lease_until=lease_until, referral_id=referral_id,
                        platform_id=platform_id, url=url, host=host,
                        gave_up=attempts + 1 > knob("LIVENESS_MAX_ATTEMPTS")))
    return jobs


def release(job: Job) -> bool:
    """Give a claimed check back unchecked (its host busy past the lease, the run out of time): due again at once,
    at its own due time (so it keeps its place in the order of claims), and this claim not counted."""
    return bool(LivenessCheck.objects.filter(pk=job.check_id, finished_at__isnull=True, attempts=job.attempt)
                .update(attempts=F("attempts") - 1, lease_until=None))
