"""Review: a supervisor approves (four-eyes), returns or rejects a proposed item.

Approval writes, in one transaction, the item's move, one queued Referral per target platform, its outbox rows
(Delivery) and their audit events; the dispatcher is nudged after commit. Locks, in the order of core/locking.py:
the items, then an open batch delivery (SKIP LOCKED), then the audit chain; a deadlock or serialization failure
retries the whole approval (core/transactions.py).

Bulk approval (an action day: tens of thousands of items in one call) costs a fixed number of statements whatever
the number of items: the items are locked and read as plain values (no model instance each), moved in one UPDATE,
and the referrals, outbox rows and their links are written with one COPY each on PostgreSQL (`_insert`).
"""

import uuid
from datetime import timedelta
from types import SimpleNamespace

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
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
from platforms import directory
from platforms.models import ContactPoint, Platform, PlatformLegal
from referral.actions import events, orders
from referral.actions.copy_rows import insert as _insert
from referral.models import (
    DISPATCH_TASK,
    Delivery,
    DeliveryEvent,
    DeliveryStatus,
    Instrument,
    Referral,
    RemovalOrder,
)
from referral.models import ReferralStatus as R

PRESEND_TASK = "liveness.presend_check"  # liveness/tasks.py, sent by name (liveness sits above this app)


def _due_at(instrument: str, contact_points, now):
    if instrument == Instrument.REMOVAL_ORDER:
        return now + timedelta(hours=1)  # provisional: recomputed from the time of sending
    sla = min((cp.sla_hours for cp in contact_points if cp.sla_hours), default=settings.REFERRAL_SLA_HOURS)
    return now + timedelta(hours=sla)


def _pack(groups: list[list[int]], size: int) -> list[list[int]]:
    """Whole groups (a removal order's referrals, never more than `size`) packed into messages of at most `size`."""
    chunks: list[list[int]] = []
    for group in groups:
        if chunks and len(chunks[-1]) + len(group) <= size:
            chunks[-1] = chunks[-1] + group
        else:
            chunks.append(list(group))
    return chunks


# The still-open batch of a contact point, locked, with its size: one statement, written out because building it
# through the ORM cost 1.6 ms of CPU per approval (bench/api_profile.py).
_OPEN_BATCH_SQL = (
    "SELECT d.id, (SELECT count(*) FROM referral_delivery_referrals l WHERE l.delivery_id = d.id) "
    "FROM referral_delivery d WHERE d.contact_point_id = %s AND d.event = %s AND d.status = %s AND d.attempts = 0 "
    "AND d.payload IS NULL AND d.lease_until IS NULL AND d.next_attempt_at > %s AND d.created_at >= %s "
    "ORDER BY d.created_at LIMIT 1 FOR NO KEY UPDATE OF d SKIP LOCKED")


def _open_batch(contact_point: ContactPoint, now, window: float) -> tuple | None:
    """(id, referrals linked) of the contact point's newest-opened unclaimed batch of new referrals within the
    window, locked so that the dispatcher cannot claim it half-filled (SKIP LOCKED: one another approval holds is
    not waited for); None when there is none."""
    since = now - timedelta(seconds=window)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_OPEN_BATCH_SQL, [contact_point.pk, str(DeliveryEvent.CREATED),
                                             str(DeliveryStatus.PENDING), now, since])
            return cursor.fetchone()
    through = Delivery.referrals.through
    linked = (through.objects.filter(delivery_id=OuterRef("pk")).order_by().values("delivery_id")
              .annotate(n=Count("id")).values("n"))
    return (Delivery.objects.filter(
        contact_point=contact_point, event=DeliveryEvent.CREATED, status=DeliveryStatus.PENDING, attempts=0,
        payload__isnull=True, lease_until__isnull=True, next_attempt_at__gt=now, created_at__gte=since,
    ).order_by("created_at").annotate(linked=Coalesce(Subquery(linked), 0)).values_list("id", "linked").first())


def _enqueue(referral_ids: list[int], contact_point: ContactPoint, now, actor,
             groups: list[list[int]] | None = None) -> list[dict]:
    """Put referrals into outbox rows for one contact point, batching up to its max items per message.

    Referrals approved within DELIVERY_BATCH_WINDOW_SECONDS of each other join the same still-unclaimed row
    (locked here, so the dispatcher cannot claim it half-filled). Removal orders come as `groups` (each order's
    referrals): each travels whole in one new message, so that its hour runs from one receipt. Returns the audit
    entries to write.
    """
    size = max(contact_point.max_items_per_message, 1)
    window = settings.DELIVERY_BATCH_WINDOW_SECONDS if size > 1 else 0
    # The message waits for the check just before sending (liveness.presend_check, nudged after commit), which makes
    # it due as soon as its referrals are checked; it goes at this time whatever the check found out or not.
    presend = max(settings.PRESEND_CHECK_SECONDS, 0)
    through = Delivery.referrals.through
    entries, links, remaining = [], [], list(referral_ids)
    if window and remaining and groups is None:
        open_batch = _open_batch(contact_point, now, window)
        if open_batch is not None:
            batch_id, linked = open_batch
            room = size - linked
            if room > 0:
                joining, remaining = remaining[:room], remaining[room:]
                links += [(batch_id, r) for r in joining]
                entries.append({"actor": actor, "verb": "delivery.joined", "object_type": "delivery",
                                "object_id": batch_id, "after": {"referrals": joining}})
    chunks = _pack(groups, size) if groups is not None else \
        [remaining[start:start + size] for start in range(0, len(remaining), size)]
    deliveries = [uuid.uuid4() for _ in chunks]
    _insert(Delivery, ("id", "contact_point_id", "next_attempt_at"),
            [(d, contact_point.pk, now + timedelta(seconds=max(window, presend))) for d in deliveries], now=now)
    after = {"contact_point": contact_point.pk, "channel": contact_point.channel}
    for delivery, chunk in zip(deliveries, chunks, strict=True):
        links += [(delivery, r) for r in chunk]
        entries.append({"actor": actor, "verb": "delivery.queued", "object_type": "delivery", "object_id": delivery,
                        "after": {**after, "referrals": chunk}})
    _insert(through, ("delivery_id", "referral_id"), links, now=now)
    if presend:
        send_task_on_commit(PRESEND_TASK)
    return entries


TAKEN_DOWN = (R.REMOVED, R.RESTRICTED)


def _taken_down(canonical_urls) -> dict[str, Referral]:
    """For each canonical URL, a referral that already got its content removed or restricted, if any."""
    done = (Referral.objects.filter(item__canonical_url__in=list(canonical_urls), status__in=TAKEN_DOWN)
            .values_list("item__canonical_url", "id", "status").order_by("id"))
    return {url: SimpleNamespace(pk=pk, status=status) for url, pk, status in done}


def _check_approvable(item, *, actor, contact_points: list[ContactPoint], taken_down=None) -> None:
    """The rules of approval, for one locked item (an Item, or cases.actions.items.LockedItem). Raises DomainError.

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


def _approval_entries(item_id: int, referral_id: int, slug: str, *, actor, instrument: str) -> list[dict]:
    return [
        {"actor": actor, "verb": "item.approved", "object_type": "item", "object_id": item_id,
         "before": {"status": S.PROPOSED}, "after": {"status": S.APPROVED, "instrument": instrument}},
        {"actor": actor, "verb": "referral.queued", "object_type": "referral", "object_id": referral_id,
         "after": {"status": R.QUEUED, "platform": slug, "instrument": instrument}},
    ]


_REFERRAL_COLUMNS = ("item_id", "platform_id", "instrument", "due_at", "approved_by_id")


def _check_instrument(instrument: str, order=None) -> tuple[dict, dict] | None:
    """The instrument, and for a removal order its Annex I details and the issuing authority (checked before any
    lock: InvalidInput for the details, Conflict when the authority is not configured)."""
    if instrument not in Instrument.values:
        raise InvalidInput(
            "Unknown instrument.",
            field_errors={"instrument": [f"'{instrument}' is not one of: {', '.join(Instrument.values)}."]},
        )
    if instrument != Instrument.REMOVAL_ORDER:
        return None
    return orders.check_order_details(order), orders.check_authority()


def check_order_details(order) -> dict:
    """For callers that hold a removal order's details before approving (review jobs): checked as approval will."""
    return orders.check_order_details(order)


def _first_order_refusals(platform_ids, checked: tuple[dict, dict] | None, now) -> dict[int, str]:
    """TCO Art 3(2): a platform's first removal order waits ORDER_PRE_INFORMATION_HOURS after the procedure
    information was sent to it, unless the supervisor marked the order an emergency with a reason. Returns
    {platform id: why not} for the platforms that cannot receive one now."""
    if not checked or checked[0]["emergency"]:
        return {}
    platform_ids = set(platform_ids) - {None}
    ordered_before = set(RemovalOrder.objects.filter(platform_id__in=platform_ids)
                         .values_list("platform_id", flat=True).distinct())
    informed = dict(PlatformLegal.objects.filter(platform_id__in=platform_ids - ordered_before)
                    .values_list("platform_id", "pre_information_sent_at"))
    hours = settings.ORDER_PRE_INFORMATION_HOURS
    refusals = {}
    for platform_id in platform_ids - ordered_before:
        sent = informed.get(platform_id)
        if sent is None or sent > now - timedelta(hours=hours):
            when = "" if sent is None else f"; it was sent {sent:%Y-%m-%d %H:%M} UTC"
            refusals[platform_id] = (
                "This is the platform's first removal order: send it the procedure information at least "
                f"{hours} hours before (Article 3(2)){when}, or mark the order an emergency and say why.")
    return refusals


def _store_orders(pairs: list[tuple[int, int]], items: dict, checked: tuple[dict, dict], *, actor,
                  now) -> tuple[dict[int, list[list[int]]], list[dict]]:
    """The Annex I content of the orders just approved (`pairs` of (item id, referral id)), and their copies to
    the host Member States' authorities (Art 4); returns each platform's orders (their referral ids) and the
    copies' audit entries."""
    details, authority = checked
    platform_ids = {items[item_id].platform_id for item_id, _ in pairs}
    platforms = Platform.objects.select_related("legal").prefetch_related("contact_points").in_bulk(platform_ids)
    created = orders.orders_create([(referral_id, items[item_id].url, items[item_id].categories,
                                     platforms[items[item_id].platform_id]) for item_id, referral_id in pairs],
                                   details=details, authority=authority, actor=actor, now=now)
    groups: dict[int, list[list[int]]] = {}
    for order in created:
        groups.setdefault(order.platform_id, []).append(order.referral_ids)
    return groups, events.send_order_copies(created, actor=actor, now=now)


@retry_on_conflict
def item_approve(*, actor, item_id: int, instrument: str = Instrument.REFERRAL, order: dict | None = None) -> Item:
    """A supervisor approves a proposed item: four-eyes, never their own proposal.

    In one transaction: item → approved, one queued Referral to the item's platform, its place in an outbox row
    (Delivery) per active contact point of that platform, and their audit events. The dispatcher is nudged
    after commit. Raises NotPermitted for one's own proposal, Conflict when no platform (or no active contact
    point) can receive it, TransitionNotAllowed when the item is not proposed, InvalidInput when it has no
    category (TCO Art 2(7)). A removal order needs `order` (referral/actions/orders.py), stored with it.
    """
    require_role(actor, DECIDERS, "approving items")
    checked = _check_instrument(instrument, order)
    with transaction.atomic():
        item = lock_item(item_id)
        now = timezone.now()
        contact_points = list(ContactPoint.objects.filter(platform_id=item.platform_id, active=True)
                              .defer("secret", "previous_secret"))  # not decrypted: approval never signs
        _check_approvable(item, actor=actor, contact_points=contact_points)
        refusal = _first_order_refusals([item.platform_id], checked, now).get(item.platform_id)
        if refusal:
            raise Conflict(refusal)
        item_actions.items_approve_locked([item], actor=actor, now=now)
        referral = Referral.objects.create(item=item, platform_id=item.platform_id, instrument=instrument,
                                           due_at=_due_at(instrument, contact_points, now), approved_by=actor)
        groups, copies = _store_orders([(item.pk, referral.pk)], {item.pk: item}, checked, actor=actor, now=now) \
            if checked else ({}, [])
        entries = copies + _approval_entries(item.pk, referral.pk, directory.slug_of(item.platform_id), actor=actor,
                                             instrument=instrument)
        for cp in contact_points:
            entries += _enqueue([referral.pk], cp, now, actor, groups.get(item.platform_id))
        audit.record_many(entries)
        send_task_on_commit(DISPATCH_TASK)
    item.referral_ids = [referral.pk]  # for the caller's answer, without reading them back
    return item


@retry_on_conflict
def item_approve_many(*, actor, item_ids: list[int], instrument: str = Instrument.REFERRAL,
                      order: dict | None = None) -> dict:
    """Approve many proposed items in one transaction (an action day's batch).

    Each item is checked as by item_approve; the ones that fail are left unchanged and reported, the others
    are approved together, their referrals batched per contact point. Returns
    {"approved": [item ids], "referrals": [referral ids], "errors": [{"item", "detail", "status_code"}]}.
    A fixed number of statements, whatever the number of items (one more pair per contact point).
    """
    require_role(actor, DECIDERS, "approving items")
    checked = _check_instrument(instrument, order)
    ids = sorted(set(int(i) for i in item_ids))
    result = {"approved": [], "referrals": [], "errors": []}
    with transaction.atomic():
        items = item_actions.lock_items_for_approval(ids)
        platform_ids = {i.platform_id for i in items.values() if i.platform_id}
        cps_by_platform: dict[int, list[ContactPoint]] = {}
        for cp in ContactPoint.objects.filter(platform_id__in=platform_ids, active=True).order_by("id"):
            cps_by_platform.setdefault(cp.platform_id, []).append(cp)
        now = timezone.now()
        due = {p: _due_at(instrument, cps, now) for p, cps in cps_by_platform.items()}
        approvable = []
        taken_down = _taken_down({i.canonical_url for i in items.values()})
        first_orders = _first_order_refusals({i.platform_id for i in items.values()}, checked, now)
        errors = result["errors"]
        for item_id in ids:
            item = items.get(item_id)
            if item is None:
                errors.append({"item": item_id, "detail": f"Item {item_id} does not exist.", "status_code": 404})
                continue
            try:
                _check_approvable(item, actor=actor, contact_points=cps_by_platform.get(item.platform_id, []),
                                  taken_down=taken_down)
                if item.platform_id in first_orders:
                    raise Conflict(first_orders[item.platform_id])
            except (TransitionNotAllowed, NotPermitted, Conflict, InvalidInput) as exc:
                errors.append({"item": item_id, "detail": exc.message, "status_code": exc.status_code})
                continue
            approvable.append(item)
        if not approvable:
            return result
        item_actions.items_approve_locked(approvable, actor=actor, now=now)
        referral_ids = _insert(Referral, _REFERRAL_COLUMNS, [
            (i.pk, i.platform_id, instrument, due[i.platform_id], actor.pk) for i in approvable], now=now, ids=True)
        groups, copies = _store_orders([(i.pk, r) for i, r in zip(approvable, referral_ids, strict=True)],
                                       {i.pk: i for i in approvable}, checked, actor=actor, now=now) \
            if checked else ({}, [])
        entries, per_cp = copies, {}
        for item, referral_id in zip(approvable, referral_ids, strict=True):
            entries += _approval_entries(item.pk, referral_id, item.platform.slug, actor=actor, instrument=instrument)
            for cp in cps_by_platform[item.platform_id]:
                per_cp.setdefault(cp.pk, (cp, []))[1].append(referral_id)
        for cp, referrals in per_cp.values():
            entries += _enqueue(referrals, cp, now, actor, groups.get(cp.platform_id))
        audit.record_many(entries)
        send_task_on_commit(DISPATCH_TASK)
        result["approved"] = [i.pk for i in approvable]
        result["referrals"] = referral_ids
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



def items_reject_many(*, actor, item_ids: list[int], reason: str) -> dict:
    """Reject many proposed items with one reason; answers {"rejected": [ids], "errors": [...]} as bulk approval."""
    require_role(actor, DECIDERS, "rejecting items")
    result = item_actions.items_decide_many(actor=actor, item_ids=item_ids, target=S.REJECTED, reason=reason,
                                            verb="item.rejected")
    return {"rejected": result["done"], "errors": result["errors"]}


def items_return_many(*, actor, item_ids: list[int], reason: str) -> dict:
    """Return many proposed items to their analysts with one reason: {"returned": [ids], "errors": [...]}."""
    require_role(actor, DECIDERS, "returning items")
    result = item_actions.items_decide_many(actor=actor, item_ids=item_ids, target=S.RETURNED, reason=reason,
                                            verb="item.returned")
    return {"returned": result["done"], "errors": result["errors"]}
