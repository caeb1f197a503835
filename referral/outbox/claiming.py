"""What a dispatcher run takes on: claims of due deliveries, sized by the pace of the run, and their
preparation (messages rendered once and stored, endpoints and secrets checked) before anything is sent.

A claim takes due rows with `SELECT … FOR UPDATE SKIP LOCKED`, bumps their attempt counter and sets a lease;
a worker that dies mid-send lets the lease run out and the next sweep claims the row again (same id, same bytes:
the receiver dedupes).
"""

import logging
import time
from collections import Counter, defaultdict, deque
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from platforms.endpoints import EndpointNotAllowed, check_http_endpoint
from platforms.models import Channel, ContactPoint
from referral.models import Delivery, DeliveryStatus, Referral
from referral.outbox import actions as outbox_actions
from referral.outbox import formatters, webhook
from referral.outbox.jobs import Job

log = logging.getLogger(__name__)

CLAIM_AHEAD_SECONDS = 0.5  # a claim takes about this much work, at the pace this run is sending
START_SOON_SECONDS = 0.05  # queued jobs that start within this count as work in hand (no new claim for now)


class Pace:
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


def _lease_seconds(longest_timeout: int) -> int:
    """How long a claim holds a row. A dispatcher claims about CLAIM_AHEAD_SECONDS of its work (twice its
    concurrency until it knows its pace), so a claimed row waits behind a few sends at most; a job whose lease
    would run out before it is sent is given back."""
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

    The stored bytes are what every attempt sends. The store is conditional on the payload still being empty,
    so two dispatchers racing on an expired lease cannot store different bytes; both then send what won.
    """
    payloads = {d.pk: bytes(d.payload) for d in deliveries if d.payload is not None}
    todo = [d for d in deliveries if d.payload is None]
    if not todo:
        return payloads
    through = Delivery.referrals.through
    links = list(through.objects.filter(delivery_id__in=[d.pk for d in todo]).order_by("referral_id")
                 .values_list("delivery_id", "referral_id"))
    referrals = Referral.objects.select_related("item", "order__signatory").in_bulk(
        {referral_id for _, referral_id in links})
    per_delivery: dict = defaultdict(list)
    for delivery_id, referral_id in links:
        per_delivery[delivery_id].append(referrals[referral_id])
    rendered = {}
    for delivery in todo:
        try:
            rendered[delivery.pk] = formatters.render(delivery, per_delivery[delivery.pk])
        except Exception:  # a template or data problem: this one is refused below, the others go
            log.exception("could not render delivery %s", delivery.pk)
    if rendered:
        payloads.update(_store_payloads(rendered))
    return payloads


def _store_payloads(rendered: dict) -> dict:
    """Store each rendered body where no payload is stored yet, in one statement on PostgreSQL; return the
    bytes now stored for each delivery (ours, or those of a claim that stored first)."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Delivery._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET payload = new.payload"  # noqa: S608  (the table name from _meta)
                f" FROM unnest(%s::uuid[], %s::bytea[]) AS new(id, payload)"
                f" WHERE {table}.id = new.id AND {table}.payload IS NULL RETURNING {table}.id",
                [list(rendered), list(rendered.values())])
            ours = {row[0] for row in cursor.fetchall()}
    else:
        ours = {pk for pk, body in rendered.items()
                if Delivery.objects.filter(pk=pk, payload__isnull=True).update(payload=body)}
    stored = {pk: body for pk, body in rendered.items() if pk in ours}
    theirs = [pk for pk in rendered if pk not in ours]
    if theirs:
        stored.update((pk, bytes(payload)) for pk, payload in
                      Delivery.objects.filter(pk__in=theirs, payload__isnull=False).values_list("pk", "payload"))
    return stored


def signing_secrets(cp: ContactPoint) -> list[str]:
    secrets = [cp.secret]
    if cp.previous_secret and cp.previous_secret_until and cp.previous_secret_until > timezone.now():
        secrets.append(cp.previous_secret)
    return secrets


def prepare(claimed: list[tuple], contact_points: dict) -> tuple[list[Job], Counter]:
    """Load claimed rows, render payloads, hand manual ones to people, refuse what must not be sent.

    `contact_points` holds one ContactPoint object per id for the whole run, refreshed at every claim, so
    that pacing decisions see what this run and other workers have recorded.
    """
    counts: Counter = Counter()
    deliveries = Delivery.objects.in_bulk([c[0] for c in claimed])
    fresh_cps = ContactPoint.objects.select_related("platform").in_bulk(
        {d.contact_point_id for d in deliveries.values()})
    for fresh in fresh_cps.values():
        cp = contact_points.setdefault(fresh.pk, fresh)
        if cp is not fresh:
            for name in ("active", "disabled_reason", "consecutive_failures", "circuit_open_until", "secret",
                         "previous_secret", "previous_secret_until", "endpoint", "timeout_seconds", "rate_per_minute"):
                setattr(cp, name, getattr(fresh, name))
    for delivery in deliveries.values():
        delivery.contact_point = contact_points[delivery.contact_point_id]
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
            # Through the egress proxy this machine resolves nothing: only the URL's form is checked here.
            check_http_endpoint(cp.endpoint, resolve=not settings.DELIVERY_PROXY)
        except EndpointNotAllowed as exc:
            job.refused = f"Endpoint refused: {exc}"
            return True
        try:  # a secret saved past the service's checks (the admin, the database) cannot sign
            for secret in signing_secrets(cp):
                webhook.secret_key_bytes(secret)
        except webhook.InvalidSecret as exc:
            job.refused = f"The contact point's signing secret cannot be used: {exc}"
    return True
