"""Review: a supervisor approves (four-eyes), returns or rejects a proposed item.

Approval writes, in one transaction, the item's move, one queued Referral per target platform, its outbox rows
(Delivery) and their audit events; the dispatcher is nudged after commit. Locks, in the order of core/locking.py:
the items, then an open batch delivery (SKIP LOCKED), then the audit chain; a deadlock or serialization failure
retries the whole approval (core/transactions.py).
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit import chain as audit
from cases.actions import items as item_actions
from cases.actions.items import check_categorised, check_item_move, item_decide, lock_item
from cases.models import Item
from cases.models import ItemStatus as S
from core.enqueue import send_task_on_commit
from core.errors import Conflict, InvalidInput, NotPermitted, TransitionNotAllowed
from core.roles import DECIDERS, require_role
from core.transactions import retry_on_conflict
from platforms.models import ContactPoint
from referral.models import DISPATCH_TASK, Delivery, DeliveryStatus, Instrument, Referral
from referral.models import ReferralStatus as R


def _due_at(instrument: str, contact_points, now):
    if instrument == Instrument.REMOVAL_ORDER:
        return now + timedelta(hours=1)  # provisional: recomputed from the time of sending
    sla = min((cp.sla_hours for cp in contact_points if cp.sla_hours), default=settings.REFERRAL_SLA_HOURS)
    return now + timedelta(hours=sla)


def _enqueue(referrals: list[Referral], contact_point: ContactPoint, now, actor) -> list[dict]:
    """Put referrals into outbox rows for one contact point, batching up to its max items per message.

    Referrals approved within DELIVERY_BATCH_WINDOW_SECONDS of each other join the same still-unclaimed row
    (locked here, so the dispatcher cannot claim it half-filled). Returns the audit entries to write.
    """
    size = max(contact_point.max_items_per_message, 1)
    window = settings.DELIVERY_BATCH_WINDOW_SECONDS if size > 1 else 0
    through = Delivery.referrals.through
    entries, links, remaining = [], [], list(referrals)
    if window and remaining:
        qs = Delivery.objects.filter(
            contact_point=contact_point, status=DeliveryStatus.PENDING, attempts=0, payload__isnull=True,
            lease_until__isnull=True, next_attempt_at__gt=now,
        ).order_by("created_at")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, no_key=True)
        open_batch = qs.first()
        if open_batch is not None:
            room = size - through.objects.filter(delivery_id=open_batch.pk).count()
            if room > 0:
                joining, remaining = remaining[:room], remaining[room:]
                links += [through(delivery_id=open_batch.pk, referral_id=r.pk) for r in joining]
                entries.append({"actor": actor, "verb": "delivery.joined", "object_type": "delivery",
                                "object_id": open_batch.pk, "after": {"referrals": [r.pk for r in joining]}})
    chunks = [remaining[start:start + size] for start in range(0, len(remaining), size)]
    deliveries = Delivery.objects.bulk_create(
        [Delivery(contact_point=contact_point, next_attempt_at=now + timedelta(seconds=window)) for _ in chunks],
        batch_size=2000,
    )
    for delivery, chunk in zip(deliveries, chunks, strict=True):
        links += [through(delivery_id=delivery.pk, referral_id=r.pk) for r in chunk]
        entries.append({"actor": actor, "verb": "delivery.queued", "object_type": "delivery", "object_id": delivery.pk,
                        "after": {"contact_point": contact_point.pk, "channel": contact_point.channel,
                                  "referrals": [r.pk for r in chunk]}})
    through.objects.bulk_create(links, batch_size=5000)
    return entries


TAKEN_DOWN = (R.REMOVED, R.RESTRICTED)


def _taken_down(canonical_urls) -> dict[str, Referral]:
    """For each canonical URL, a referral that already got its content removed or restricted, if any."""
    done = (Referral.objects.filter(item__canonical_url__in=list(canonical_urls), status__in=TAKEN_DOWN)
            .only("id", "status", "outcome_at", "item__canonical_url").select_related("item").order_by("id"))
    return {r.item.canonical_url: r for r in done}


def _check_approvable(item: Item, *, actor, contact_points: list[ContactPoint], taken_down=None) -> None:
    """The rules of approval, for one locked item. Raises DomainError.

    `taken_down` maps canonical URLs to a referral that already got that content removed (looked up here when
    not given): such an item is not referred again.
    """
    check_item_move(item, S.APPROVED)
    if item.proposed_by_id == actor.pk:
        raise NotPermitted("Four-eyes rule: you cannot approve an item you proposed yourself.")
    check_categorised(item, "approved")
    if item.platform_id is None:
        raise Conflict(
            f"No platform claims the host of {item.url}; register the platform's domain, "
            "or log the item with a platform, before approving."
        )
    if not contact_points:
        raise Conflict(f"Platform '{item.platform.slug}' has no active contact point to receive referrals.")
    if taken_down is None:
        taken_down = _taken_down([item.canonical_url])
    if (earlier := taken_down.get(item.canonical_url)) is not None:
        raise Conflict(f"This content was already {earlier.status} (referral {earlier.pk}); it is not referred "
                       "again. Reject the item, or discard it as a duplicate.")


def _approval_entries(item: Item, referral: Referral, *, actor, instrument: str) -> list[dict]:
    return [
        {"actor": actor, "verb": "item.approved", "object_type": "item", "object_id": item.pk,
         "before": {"status": S.PROPOSED}, "after": {"status": S.APPROVED, "instrument": instrument}},
        {"actor": actor, "verb": "referral.queued", "object_type": "referral", "object_id": referral.pk,
         "after": {"status": R.QUEUED, "platform": item.platform.slug, "instrument": instrument}},
    ]


def _approve_locked(item: Item, *, actor, instrument: str, contact_points: list[ContactPoint], now) -> tuple:
    """Checks and writes for one locked item; returns (referral, audit entries). Raises DomainError."""
    _check_approvable(item, actor=actor, contact_points=contact_points)
    item_actions.items_approve_locked([item], actor=actor, now=now)
    referral = Referral.objects.create(item=item, platform_id=item.platform_id, instrument=instrument,
                                       due_at=_due_at(instrument, contact_points, now), approved_by=actor)
    return referral, _approval_entries(item, referral, actor=actor, instrument=instrument)


def _check_instrument(instrument: str) -> None:
    if instrument not in Instrument.values:
        raise InvalidInput(
            "Unknown instrument.",
            field_errors={"instrument": [f"'{instrument}' is not one of: {', '.join(Instrument.values)}."]},
        )


@retry_on_conflict
def item_approve(*, actor, item_id: int, instrument: str = Instrument.REFERRAL) -> Item:
    """A supervisor approves a proposed item: four-eyes, never their own proposal.

    In one transaction: item → approved, one queued Referral to the item's platform, its place in an outbox row
    (Delivery) per active contact point of that platform, and their audit events. The dispatcher is nudged
    after commit. Raises NotPermitted for one's own proposal, Conflict when no platform (or no active contact
    point) can receive it, TransitionNotAllowed when the item is not proposed, InvalidInput when it has no
    category (TCO Art 2(7)).
    """
    require_role(actor, DECIDERS, "approving items")
    _check_instrument(instrument)
    with transaction.atomic():
        item = lock_item(item_id)
        now = timezone.now()
        contact_points = list(ContactPoint.objects.filter(platform_id=item.platform_id, active=True))
        referral, entries = _approve_locked(item, actor=actor, instrument=instrument,
                                            contact_points=contact_points, now=now)
        for cp in contact_points:
            entries += _enqueue([referral], cp, now, actor)
        audit.record_many(entries)
        send_task_on_commit(DISPATCH_TASK)
    return item


@retry_on_conflict
def item_approve_many(*, actor, item_ids: list[int], instrument: str = Instrument.REFERRAL) -> dict:
    """Approve many proposed items in one transaction (an action day's batch).

    Each item is checked as by item_approve; the ones that fail are left unchanged and reported, the others
    are approved together, their referrals batched per contact point. Returns
    {"approved": [item ids], "referrals": [referral ids], "errors": [{"item", "detail", "status_code"}]}.
    """
    require_role(actor, DECIDERS, "approving items")
    _check_instrument(instrument)
    ids = sorted(set(int(i) for i in item_ids))
    result = {"approved": [], "referrals": [], "errors": []}
    with transaction.atomic():
        items = {i.pk: i for i in Item.objects.select_for_update(of=("self",), no_key=True)
                 .select_related("platform").filter(pk__in=ids).order_by("id")}
        platform_ids = {i.platform_id for i in items.values() if i.platform_id}
        cps_by_platform: dict[int, list[ContactPoint]] = {}
        for cp in ContactPoint.objects.filter(platform_id__in=platform_ids, active=True).select_related("platform"):
            cps_by_platform.setdefault(cp.platform_id, []).append(cp)
        now = timezone.now()
        approvable = []
        taken_down = _taken_down({i.canonical_url for i in items.values()})
        for item_id in ids:
            item = items.get(item_id)
            if item is None:
                result["errors"].append({"item": item_id, "detail": f"Item {item_id} does not exist.",
                                         "status_code": 404})
                continue
            try:
                _check_approvable(item, actor=actor, contact_points=cps_by_platform.get(item.platform_id, []),
                                  taken_down=taken_down)
            except (TransitionNotAllowed, NotPermitted, Conflict, InvalidInput) as exc:
                result["errors"].append({"item": item_id, "detail": exc.message, "status_code": exc.status_code})
                continue
            approvable.append(item)
        # Written in bulk: an action day approves tens of thousands at once.
        item_actions.items_approve_locked(approvable, actor=actor, now=now)
        referrals = Referral.objects.bulk_create(
            [Referral(item=i, platform_id=i.platform_id, instrument=instrument, approved_by=actor,
                      due_at=_due_at(instrument, cps_by_platform[i.platform_id], now)) for i in approvable],
            batch_size=2000,
        )
        entries, per_cp = [], {}
        for item, referral in zip(approvable, referrals, strict=True):
            entries += _approval_entries(item, referral, actor=actor, instrument=instrument)
            result["approved"].append(item.pk)
            result["referrals"].append(referral.pk)
            for cp in cps_by_platform[item.platform_id]:
                per_cp.setdefault(cp.pk, (cp, []))[1].append(referral)
        for cp, referrals in per_cp.values():
            entries += _enqueue(referrals, cp, now, actor)
        if entries:
            audit.record_many(entries)
            send_task_on_commit(DISPATCH_TASK)
    return result


@retry_on_conflict
def item_reject(*, actor, item_id: int, reason: str) -> Item:
    """A supervisor rejects a proposed item, with a reason."""
    require_role(actor, DECIDERS, "rejecting items")
    return item_decide(actor=actor, item_id=item_id, target=S.REJECTED, reason=reason, verb="item.rejected")


@retry_on_conflict
def item_return(*, actor, item_id: int, reason: str) -> Item:
    """A supervisor returns a proposed item to the analyst, with a reason; it can be proposed again."""
    require_role(actor, DECIDERS, "returning items")
    return item_decide(actor=actor, item_id=item_id, target=S.RETURNED, reason=reason, verb="item.returned")

