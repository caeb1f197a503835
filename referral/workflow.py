"""Every state transition of Case, Item, Referral and Delivery, in one place.

Each function is one transaction: lock the row, check the move against the tables below, save, write one
AuditEvent per changed object, and queue side effects with `transaction.on_commit`. Nothing here does network
or broker I/O inside the transaction. Nothing outside this module assigns `.status`.
"""

import hashlib
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Role
from platforms.models import ContactPoint, Platform
from platforms.urls import MAX_URL_LENGTH, InvalidURL, canonicalize, resolve_platform, validate_url

from . import audit
from .errors import Conflict, InvalidInput, NotFound, NotPermitted, TransitionNotAllowed
from .models import (
    Alert,
    Case,
    CaseStatus,
    Category,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Group,
    Instrument,
    Item,
    ItemKind,
    ItemStatus,
    Referral,
    ReferralStatus,
)

log = logging.getLogger(__name__)

S = ItemStatus
R = ReferralStatus

ITEM_ALLOWED: dict[str, set[str]] = {
    S.LOGGED: {S.PROPOSED, S.DISCARDED, S.ON_HOLD},
    S.RETURNED: {S.PROPOSED, S.DISCARDED, S.ON_HOLD},
    S.PROPOSED: {S.APPROVED, S.RETURNED, S.REJECTED, S.ON_HOLD},
    S.ON_HOLD: {S.LOGGED},
    S.APPROVED: set(),
    S.REJECTED: set(),
    S.DISCARDED: set(),
}

OUTCOMES = {R.REMOVED, R.RESTRICTED, R.DECLINED, R.NEEDS_INFO}
LIAISON_STATUSES = {R.ACKNOWLEDGED} | OUTCOMES

# A platform may answer before our "sent" commit lands (it got the message, then we crashed or were slow),
# so acknowledgement and outcomes are accepted from `queued` too. `needs_info` is answered by an outcome.
REFERRAL_ALLOWED: dict[str, set[str]] = {
    R.QUEUED: {R.SENT, R.FAILED, R.WITHDRAWN, R.ACKNOWLEDGED} | OUTCOMES,
    R.SENT: {R.ACKNOWLEDGED, R.FAILED, R.WITHDRAWN} | OUTCOMES,
    R.ACKNOWLEDGED: OUTCOMES | {R.WITHDRAWN},
    R.NEEDS_INFO: {R.REMOVED, R.RESTRICTED, R.DECLINED, R.WITHDRAWN},
    R.FAILED: {R.QUEUED},
    R.REMOVED: set(),
    R.RESTRICTED: set(),
    R.DECLINED: set(),
    R.WITHDRAWN: set(),
}


def _check_item_move(item: Item, target: str) -> None:
    if target not in ITEM_ALLOWED[item.status]:
        raise TransitionNotAllowed(
            f"Item {item.pk} is '{item.status}'; it cannot become '{target}'.",
        )


def _check_referral_move(referral: Referral, target: str) -> None:
    if target not in REFERRAL_ALLOWED[referral.status]:
        raise TransitionNotAllowed(
            f"Referral {referral.pk} is '{referral.status}'; it cannot become '{target}'.",
        )


def _lock_item(item_id: int) -> Item:
    try:
        return Item.objects.select_for_update().get(pk=item_id)
    except Item.DoesNotExist as exc:
        raise NotFound(f"Item {item_id} does not exist.") from exc


def _nudge_dispatcher() -> None:
    """After commit: ask a worker to claim due deliveries now. Losing this message costs one sweep interval."""
    from .tasks import dispatch_due

    try:
        dispatch_due.apply_async(retry=False)
    except Exception:  # broker down: the beat sweep will find the deliveries; the approval stands
        log.warning("could not nudge the dispatcher; the sweep will pick the deliveries up", exc_info=True)


# --- Cases ----------------------------------------------------------------------------------------------


def case_create(*, actor, title: str, description: str = "") -> Case:
    title = (title or "").strip()
    if not title:
        raise InvalidInput("A case needs a title.", field_errors={"title": ["This field may not be blank."]})
    if len(title) > 300:
        raise InvalidInput("The title is too long.", field_errors={"title": ["At most 300 characters."]})
    with transaction.atomic():
        case = Case.objects.create(title=title, description=description or "", created_by=actor)
        audit.record(actor=actor, verb="case.created", obj=case, after={"title": case.title})
    return case


# --- Items ----------------------------------------------------------------------------------------------


def item_log(
    *,
    actor,
    case: Case,
    url: str,
    kind: str,
    categories: list[str] | None = None,
    language: str = "",
    notes: str = "",
    platform_slug: str | None = None,
) -> Item:
    """Log a suspected item in a case.

    Checks the URL (http(s), a host, no credentials or control characters, ≤ 2,048 characters), kind and
    categories; resolves the platform from the URL's host unless one is named. An item whose canonical URL is
    already known is linked to the first one (`duplicate_of`), never dropped. Raises InvalidInput with field
    errors and stores nothing on bad input.
    """
    errors: dict[str, list[str]] = {}
    try:
        url = validate_url(url)
        canonical = canonicalize(url)
        if len(canonical) > MAX_URL_LENGTH:  # percent-encoding can lengthen a URL that was just within it
            raise InvalidURL(f"The URL's canonical form is longer than {MAX_URL_LENGTH} characters.")
    except InvalidURL as exc:
        errors["url"] = [str(exc)]
    if kind not in ItemKind.values:
        errors["kind"] = [f"'{kind}' is not one of: {', '.join(ItemKind.values)}."]
    categories = list(categories or [])
    bad = [c for c in categories if c not in Category.values]
    if bad:
        errors["categories"] = [f"Unknown categories {bad}; use: {', '.join(Category.values)}."]
    platform = None
    if platform_slug:
        platform = Platform.objects.filter(slug=platform_slug).first()
        if platform is None:
            errors["platform"] = [f"No platform '{platform_slug}'."]
    if len(language or "") > 16:
        errors["language"] = ["At most 16 characters (a language code such as 'ar' or 'en')."]
    if case.status != "open":
        errors["case"] = [f"Case {case.pk} is closed."]
    if errors:
        raise InvalidInput("The item was not logged.", field_errors=errors)
    if platform is None:
        platform = resolve_platform(url)
    with transaction.atomic():
        original = (
            Item.objects.filter(canonical_url=canonical, duplicate_of__isnull=True).order_by("id").first()
        )
        item = Item.objects.create(
            case=case,
            url=url,
            canonical_url=canonical,
            platform=platform,
            kind=kind,
            categories=sorted(set(categories)),
            language=language or "",
            notes=notes or "",
            duplicate_of=original,
            logged_by=actor,
        )
        audit.record(
            actor=actor,
            verb="item.logged",
            obj=item,
            after={"status": item.status, "url": url, "case": case.pk, "duplicate_of": original and original.pk},
        )
    return item


def item_propose(*, actor, item_id: int) -> Item:
    """An analyst proposes a logged (or returned) item for referral."""
    with transaction.atomic():
        item = _lock_item(item_id)
        _check_item_move(item, S.PROPOSED)
        before = item.status
        item.status = S.PROPOSED
        item.proposed_by = actor
        item.save(update_fields=["status", "proposed_by", "updated_at"])
        audit.record(actor=actor, verb="item.proposed", obj=item, before={"status": before},
                     after={"status": item.status})
    return item


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
            qs = qs.select_for_update(skip_locked=True)
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
    _check_item_move(item, S.APPROVED)
    if item.proposed_by_id == actor.pk:
        raise NotPermitted("Four-eyes rule: you cannot approve an item you proposed yourself.")
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
    item.status = S.APPROVED
    item.decided_by = actor
    item.save(update_fields=["status", "decided_by", "updated_at"])
    referral = Referral.objects.create(item=item, platform_id=item.platform_id, instrument=instrument,
                                       due_at=_due_at(instrument, contact_points, now), approved_by=actor)
    return referral, _approval_entries(item, referral, actor=actor, instrument=instrument)


def _check_instrument(instrument: str) -> None:
    if instrument not in Instrument.values:
        raise InvalidInput(
            "Unknown instrument.",
            field_errors={"instrument": [f"'{instrument}' is not one of: {', '.join(Instrument.values)}."]},
        )


def item_approve(*, actor, item_id: int, instrument: str = Instrument.REFERRAL) -> Item:
    """A supervisor approves a proposed item: four-eyes, never their own proposal.

    In one transaction: item → approved, one queued Referral to the item's platform, its place in an outbox row
    (Delivery) per active contact point of that platform, and their audit events. The dispatcher is nudged
    after commit. Raises NotPermitted for one's own proposal, Conflict when no platform (or no active contact
    point) can receive it, TransitionNotAllowed when the item is not proposed.
    """
    _check_instrument(instrument)
    with transaction.atomic():
        item = _lock_item(item_id)
        now = timezone.now()
        contact_points = list(ContactPoint.objects.filter(platform_id=item.platform_id, active=True))
        referral, entries = _approve_locked(item, actor=actor, instrument=instrument,
                                            contact_points=contact_points, now=now)
        for cp in contact_points:
            entries += _enqueue([referral], cp, now, actor)
        audit.record_many(entries)
        transaction.on_commit(_nudge_dispatcher)
    return item


def item_approve_many(*, actor, item_ids: list[int], instrument: str = Instrument.REFERRAL) -> dict:
    """Approve many proposed items in one transaction (an action day's batch).

    Each item is checked as by item_approve; the ones that fail are left unchanged and reported, the others
    are approved together, their referrals batched per contact point. Returns
    {"approved": [item ids], "referrals": [referral ids], "errors": [{"item", "detail", "status_code"}]}.
    """
    _check_instrument(instrument)
    ids = sorted(set(int(i) for i in item_ids))
    result = {"approved": [], "referrals": [], "errors": []}
    with transaction.atomic():
        items = {i.pk: i for i in Item.objects.select_for_update(of=("self",)).select_related("platform")
                 .filter(pk__in=ids).order_by("id")}
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
            except (TransitionNotAllowed, NotPermitted, Conflict) as exc:
                result["errors"].append({"item": item_id, "detail": exc.message, "status_code": exc.status_code})
                continue
            approvable.append(item)
        # Written in bulk: an action day approves tens of thousands at once.
        Item.objects.filter(pk__in=[i.pk for i in approvable]).update(status=S.APPROVED, decided_by=actor,
                                                                      updated_at=now)
        referrals = Referral.objects.bulk_create(
            [Referral(item=i, platform_id=i.platform_id, instrument=instrument, approved_by=actor,
                      due_at=_due_at(instrument, cps_by_platform[i.platform_id], now)) for i in approvable],
            batch_size=2000,
        )
        entries, per_cp = [], {}
        for item, referral in zip(approvable, referrals, strict=True):
            item.status = S.APPROVED
            entries += _approval_entries(item, referral, actor=actor, instrument=instrument)
            result["approved"].append(item.pk)
            result["referrals"].append(referral.pk)
            for cp in cps_by_platform[item.platform_id]:
                per_cp.setdefault(cp.pk, (cp, []))[1].append(referral)
        for cp, referrals in per_cp.values():
            entries += _enqueue(referrals, cp, now, actor)
        if entries:
            audit.record_many(entries)
            transaction.on_commit(_nudge_dispatcher)
    return result


def _item_decide(*, actor, item_id: int, target: str, reason: str, verb: str) -> Item:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Give a reason.", field_errors={"reason": ["This field may not be blank."]})
    with transaction.atomic():
        item = _lock_item(item_id)
        _check_item_move(item, target)
        before = item.status
        item.status = target
        item.decided_by = actor
        item.decision_reason = reason
        item.save(update_fields=["status", "decided_by", "decision_reason", "updated_at"])
        audit.record(actor=actor, verb=verb, obj=item, before={"status": before},
                     after={"status": target, "reason": reason})
    return item


def item_reject(*, actor, item_id: int, reason: str) -> Item:
    """A supervisor rejects a proposed item, with a reason."""
    return _item_decide(actor=actor, item_id=item_id, target=S.REJECTED, reason=reason, verb="item.rejected")


def item_return(*, actor, item_id: int, reason: str) -> Item:
    """A supervisor returns a proposed item to the analyst, with a reason; it can be proposed again."""
    return _item_decide(actor=actor, item_id=item_id, target=S.RETURNED, reason=reason, verb="item.returned")


# --- Referrals ------------------------------------------------------------------------------------------


def referral_record_status(
    *,
    actor,
    referral_id: int,
    status: str,
    platform_reference: str = "",
    note: str = "",
    action_taken_at: datetime | None = None,
) -> Referral:
    """A platform liaison acknowledges a referral or reports its outcome.

    Only the liaison of the referral's platform may; another platform's referral is NotFound, as if it did
    not exist. Repeating the current status is accepted without change (a platform retrying its call).
    """
    if status not in LIAISON_STATUSES:
        raise InvalidInput(
            "Unknown status.",
            field_errors={"status": [f"'{status}' is not one of: {', '.join(sorted(LIAISON_STATUSES))}."]},
        )
    if action_taken_at is not None and action_taken_at > timezone.now() + timedelta(minutes=5):
        raise InvalidInput(
            "action_taken_at is in the future.", field_errors={"action_taken_at": ["Must not be in the future."]}
        )
    with transaction.atomic():
        try:
            referral = Referral.objects.select_for_update().get(pk=referral_id)
        except Referral.DoesNotExist as exc:
            raise NotFound("Not found.") from exc
        if actor.role != Role.LIAISON or actor.platform_id != referral.platform_id:
            raise NotFound("Not found.")
        if referral.status == status:
            return referral
        _check_referral_move(referral, status)
        before = {"status": referral.status}
        now = timezone.now()
        referral.status = status
        fields = ["status", "updated_at"]
        if status == R.ACKNOWLEDGED:
            referral.acknowledged_at = now
            fields.append("acknowledged_at")
        else:
            referral.outcome_at = now
            referral.action_taken_at = action_taken_at or (now if status in (R.REMOVED, R.RESTRICTED) else None)
            fields += ["outcome_at", "action_taken_at"]
        if platform_reference:
            referral.platform_reference = platform_reference[:200]
            fields.append("platform_reference")
        if note:
            referral.note = note
            fields.append("note")
        referral.save(update_fields=fields)
        audit.record(
            actor=actor, verb=f"referral.{status}", obj=referral, before=before,
            after={"status": status, "platform_reference": referral.platform_reference},
        )
    return referral


# --- Deliveries (called by the dispatcher, actor = system) ----------------------------------------------


def deliveries_mark_sent(sent: list[tuple], *, attempt_records: list[DeliveryAttempt],
                         from_status: str = DeliveryStatus.PENDING) -> list:
    """Deliveries → sent, their queued referrals → sent, with the sending records, in one transaction.

    `sent` is [(delivery_id, attempt_number, external_reference)]. A delivery whose attempt number moved on
    (another claim overtook this attempt after our lease ran out) is left to that claim. Returns the ids
    marked sent.
    """
    if not sent:
        return []
    expected = {delivery_id: (number, ref) for delivery_id, number, ref in sent}
    with transaction.atomic():
        now = timezone.now()
        rows = Delivery.objects.select_for_update().filter(pk__in=list(expected)).values_list(
            "pk", "status", "attempts")
        ours = [pk for pk, status, attempts in rows if status == from_status and attempts == expected[pk][0]]
        if not ours:
            return []
        DeliveryAttempt.objects.bulk_create([a for a in attempt_records if a.delivery_id in set(ours)],
                                            ignore_conflicts=True)
        by_reference: dict = {}
        for pk in ours:
            by_reference.setdefault(expected[pk][1][:300], []).append(pk)
        for reference, pks in by_reference.items():
            Delivery.objects.filter(pk__in=pks).update(status=DeliveryStatus.SENT, sent_at=now, lease_until=None,
                                                       last_status_code=None, last_error="",
                                                       external_reference=reference)
        links = list(Delivery.referrals.through.objects.filter(delivery_id__in=ours)
                     .values_list("delivery_id", "referral_id"))
        referral_ids = sorted({r for _, r in links})
        referrals = list(Referral.objects.select_for_update().filter(pk__in=referral_ids)
                         .values_list("pk", "status", "sent_at", "instrument"))
        unsent = [pk for pk, _, sent_at, _ in referrals if sent_at is None]
        # TCO Art 3(3): a removal order's hour runs from receipt.
        Referral.objects.filter(pk__in=unsent, instrument=Instrument.REMOVAL_ORDER).update(
            due_at=now + timedelta(hours=1))
        Referral.objects.filter(pk__in=unsent).update(sent_at=now, updated_at=now)
        to_sent = [pk for pk, status, _, _ in referrals if status == R.QUEUED]
        Referral.objects.filter(pk__in=to_sent).update(status=R.SENT, updated_at=now)
        by_delivery: dict = {}
        for delivery_id, referral_id in links:
            by_delivery.setdefault(delivery_id, []).append(referral_id)
        entries = [{"actor": None, "verb": "delivery.sent", "object_type": "delivery", "object_id": pk,
                    "after": {"attempt": expected[pk][0], "referrals": sorted(by_delivery.get(pk, []))}}
                   for pk in ours]
        entries += [{"actor": None, "verb": "referral.sent", "object_type": "referral", "object_id": pk,
                     "before": {"status": R.QUEUED}, "after": {"status": R.SENT}} for pk in to_sent]
        audit.record_many(entries)
    return ours


def delivery_release(*, delivery_id, attempt_number: int, next_attempt_at) -> bool:
    """Give a claimed delivery back without an attempt (paced, circuit open, or not reached in time)."""
    from django.db.models import F

    return bool(Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, attempts=attempt_number)
                .update(attempts=F("attempts") - 1, lease_until=None, next_attempt_at=next_attempt_at))


def _fail_orphaned_referrals(delivery_id, entries: list) -> None:
    """Referrals of a dead delivery fail unless another delivery of theirs is still alive."""
    alive = [DeliveryStatus.PENDING, DeliveryStatus.MANUAL, DeliveryStatus.SENT]
    for referral in Referral.objects.select_for_update().filter(deliveries__id=delivery_id, status=R.QUEUED):
        if not referral.deliveries.filter(status__in=alive).exists():
            referral.status = R.FAILED
            referral.save(update_fields=["status", "updated_at"])
            entries.append({"actor": None, "verb": "referral.failed", "object_type": "referral",
                            "object_id": referral.pk, "before": {"status": R.QUEUED}, "after": {"status": R.FAILED}})


def delivery_record_failure(
    *, delivery_id, attempt_number: int, final_status: str | None, next_attempt_at, status_code, error: str,
    disable_contact_point: bool = False, attempt_record: DeliveryAttempt | None = None,
) -> bool:
    """Record a failed attempt: schedule the retry, or stop/fail the delivery (and fail its referrals).

    A stopped or failed delivery raises an Alert for supervisors (the dead-letter list); a 410 also disables
    the contact point.
    """
    with transaction.atomic():
        qs = Delivery.objects.select_for_update().filter(pk=delivery_id, status=DeliveryStatus.PENDING,
                                                         attempts=attempt_number)
        delivery = qs.select_related("contact_point", "contact_point__platform").first()
        if delivery is None:
            return False
        if attempt_record is not None:
            DeliveryAttempt.objects.bulk_create([attempt_record], ignore_conflicts=True)
        delivery.lease_until = None
        delivery.last_status_code = status_code
        delivery.last_error = error[:2000]
        fields = ["lease_until", "last_status_code", "last_error"]
        if final_status is None:
            delivery.next_attempt_at = next_attempt_at
            delivery.save(update_fields=fields + ["next_attempt_at"])
            return True
        delivery.status = final_status
        delivery.save(update_fields=fields + ["status"])
        cp = delivery.contact_point
        entries = [{"actor": None, "verb": f"delivery.{final_status}", "object_type": "delivery",
                    "object_id": delivery_id, "after": {"attempt": attempt_number, "error": error[:500]}}]
        what = ("stopped: a person must look" if final_status == DeliveryStatus.STOPPED
                else "failed: retries exhausted")
        Alert.objects.create(
            kind=f"delivery_{final_status}", delivery=delivery, contact_point=cp,
            message=f"Delivery to {cp.platform.name} ({cp.channel} {cp.endpoint}) {what}. {error[:300]}",
        )
        if disable_contact_point:
            reason = f"Disabled after HTTP 410 Gone on {timezone.now():%Y-%m-%d %H:%M} UTC."
            ContactPoint.objects.filter(pk=cp.pk).update(active=False, disabled_reason=reason)
            entries.append({"actor": None, "verb": "contact_point.disabled", "object_type": "contactpoint",
                            "object_id": cp.pk, "after": {"reason": reason}})
            Alert.objects.create(kind="contact_point_disabled", contact_point=cp, delivery=delivery,
                                 message=f"{cp.platform.name}'s {cp.channel} contact point {cp.endpoint} answered "
                                         "410 Gone and was disabled. Referrals to it are held until it is fixed.")
        _fail_orphaned_referrals(delivery_id, entries)
        audit.record_many(entries)
    return True


def delivery_await_manual(*, delivery_id, attempt_number: int) -> bool:
    """A manual contact point's delivery becomes a task for an analyst (the prepared text is its payload)."""
    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING,
                                          attempts=attempt_number).update(status=DeliveryStatus.MANUAL,
                                                                          lease_until=None)
        if updated:
            audit.record_many([{"actor": None, "verb": "delivery.manual_task", "object_type": "delivery",
                                "object_id": delivery_id, "after": {"status": DeliveryStatus.MANUAL}}])
    return bool(updated)


def delivery_complete_manual(*, actor, delivery_id, ticket: str) -> Delivery:
    """An analyst submitted the prepared text through the platform's form and records its ticket number."""
    if actor.role not in (Role.ANALYST, Role.SUPERVISOR):
        raise NotPermitted("Only analysts and supervisors record manual submissions.")
    ticket = (ticket or "").strip()
    if not ticket:
        raise InvalidInput("Record the platform's ticket number.",
                           field_errors={"ticket": ["This field may not be blank."]})
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update().filter(pk=delivery_id)
                    .select_related("contact_point").first())
        if delivery is None:
            raise NotFound("Not found.")
        if delivery.status != DeliveryStatus.MANUAL:
            raise TransitionNotAllowed(f"Delivery {delivery_id} is '{delivery.status}'; only a manual task can be "
                                       "marked submitted.")
        now = timezone.now()
        record = DeliveryAttempt(
            delivery_id=delivery.pk, number=delivery.attempts, endpoint=delivery.contact_point.endpoint,
            started_at=now, finished_at=now, duration_ms=0,
            request_sha256=hashlib.sha256(bytes(delivery.payload or b"")).hexdigest(),
            signature=f"submitted by {actor.get_username()}", response_status=None,
            response_excerpt=f"platform ticket {ticket[:200]}", outcome="sent",
        )
        deliveries_mark_sent([(delivery.pk, delivery.attempts, ticket)], attempt_records=[record],
                             from_status=DeliveryStatus.MANUAL)
        Delivery.objects.filter(pk=delivery_id).update(completed_by=actor)
        Referral.objects.filter(deliveries__id=delivery_id, platform_reference="").update(
            platform_reference=ticket[:200])
        audit.record_many([{"actor": actor, "verb": "delivery.manual_submitted", "object_type": "delivery",
                            "object_id": delivery_id, "after": {"ticket": ticket[:200]}}])
        delivery.refresh_from_db()
    return delivery


def delivery_redrive(*, actor, delivery_id) -> Delivery:
    """A supervisor sends a dead letter (failed or stopped delivery) again: the same id and bytes, a fresh
    retry schedule; its failed referrals go back to queued. The contact point must be active."""
    if actor.role != Role.SUPERVISOR:
        raise NotPermitted("Only supervisors re-drive deliveries.")
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().select_related("contact_point").filter(pk=delivery_id).first()
        if delivery is None:
            raise NotFound("Not found.")
        if delivery.status not in (DeliveryStatus.FAILED, DeliveryStatus.STOPPED):
            raise TransitionNotAllowed(f"Delivery {delivery_id} is '{delivery.status}'; only failed or stopped "
                                       "deliveries can be re-driven.")
        if not delivery.contact_point.active:
            raise Conflict("The contact point is disabled; fix and re-enable it before re-driving its deliveries.")
        before = delivery.status
        now = timezone.now()
        delivery.status = DeliveryStatus.PENDING
        delivery.attempt_base = delivery.attempts
        delivery.next_attempt_at = now
        delivery.lease_until = None
        delivery.save(update_fields=["status", "attempt_base", "next_attempt_at", "lease_until"])
        entries = [{"actor": actor, "verb": "delivery.redriven", "object_type": "delivery", "object_id": delivery.pk,
                    "before": {"status": before}, "after": {"status": DeliveryStatus.PENDING}}]
        for referral in Referral.objects.select_for_update().filter(deliveries__id=delivery.pk, status=R.FAILED):
            _check_referral_move(referral, R.QUEUED)
            referral.status = R.QUEUED
            referral.save(update_fields=["status", "updated_at"])
            entries.append({"actor": actor, "verb": "referral.requeued", "object_type": "referral",
                            "object_id": referral.pk, "before": {"status": R.FAILED}, "after": {"status": R.QUEUED}})
        Alert.objects.filter(delivery=delivery, resolved_at__isnull=True).update(resolved_at=now, resolved_by=actor)
        audit.record_many(entries)
        transaction.on_commit(_nudge_dispatcher)
    return delivery


# --- Alerts ---------------------------------------------------------------------------------------------


def alert_resolve(*, actor, alert_id: int) -> Alert:
    """A supervisor (or an administrator) marks an alert as dealt with: it leaves the banner and the list.

    Resolving does not change what the alert is about (re-drive the delivery, re-enable the contact point
    for that). Raises NotPermitted for other roles, NotFound for an unknown alert, TransitionNotAllowed when it
    was resolved already (by someone else a moment ago, most likely).
    """
    if actor is None or actor.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise NotPermitted("Only supervisors and administrators resolve alerts.")
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(pk=alert_id).first()
        if alert is None:
            raise NotFound(f"Alert {alert_id} does not exist.")
        if alert.resolved_at is not None:
            raise TransitionNotAllowed(f"Alert {alert_id} was already resolved.")
        alert.resolved_at = timezone.now()
        alert.resolved_by = actor
        alert.save(update_fields=["resolved_at", "resolved_by"])
        audit.record(actor=actor, verb="alert.resolved", obj=alert, before={"resolved_at": None},
                     after={"kind": alert.kind, "resolved_at": alert.resolved_at.isoformat()})
    return alert


# --- Assessment and triage --------------------------------------------------------------------------------
#
# The triage queue's verbs. Analysts and supervisors triage; the page and the API check the role too, but the
# rule lives here so that every caller gets it. The bulk variants run the single functions one by one inside
# one transaction (each in its own savepoint) and report, per item, what was done and what was refused.

TRIAGERS = (Role.ANALYST, Role.SUPERVISOR)
SEVERITY_MAX = 7
CONFIDENCE_MAX = 3
PRIORITY_THREAT_TO_LIFE = 10

# A release is its own move: back to the status the hold found the item in. These targets are deliberately not
# in ITEM_ALLOWED[on_hold], so that no other verb (propose, return, approve) can take an item out of its hold.
ITEM_RELEASE_TARGETS = {S.LOGGED, S.RETURNED, S.PROPOSED}
ITEM_FINAL = {S.APPROVED, S.REJECTED, S.DISCARDED}

CASE_ALLOWED: dict[str, set[str]] = {
    CaseStatus.OPEN: {CaseStatus.CLOSED},
    CaseStatus.CLOSED: {CaseStatus.OPEN},
}


def item_priority(*, severity: int | None, confidence: int | None, threat_to_life: bool) -> int:
    """The triage queue's order, 0–10, from the assessment (docs/triage.md).

    priority = round(severity × 10/7 × (0.4 + 0.2 × confidence)), capped to 0..9; a threat to life is 10.
    Severity 0–7 sets the scale; confidence 0–3 weighs it from 40 % (a hunch) to 100 % (confirmed), so a
    confirmed severity 7 is 9 and an unconfirmed one 4. Unassessed (no severity) is 0; no confidence counts
    as 0. Only a threat to life reaches 10: it stays above everything else.
    """
    if threat_to_life:
        return PRIORITY_THREAT_TO_LIFE
    if severity is None:
        return 0
    raw = severity * 10 / 7 * (0.4 + 0.2 * (confidence or 0))
    return max(0, min(9, int(raw + 0.5)))  # half up, not banker's rounding: 3.5 → 4 on every machine


def _require_role(actor, roles, what: str) -> None:
    if actor is None or getattr(actor, "role", None) not in roles:
        raise NotPermitted(f"Your role does not allow {what}.")


def _reason(value: str, field: str = "reason", message: str = "Give a reason.") -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(message, field_errors={field: ["This field may not be blank."]})
    return value


def _bulk(item_ids, run) -> dict:
    """Run `run(item_id)` for each id in one transaction, each in a savepoint; refusals are reported, not raised.

    Returns {"done": [ids], "errors": [{"item", "detail", "status_code"}]}.
    """
    result = {"done": [], "errors": []}
    ids = sorted({int(i) for i in item_ids})
    with transaction.atomic():
        for item_id in ids:
            try:
                with transaction.atomic():
                    run(item_id)
            except (TransitionNotAllowed, NotPermitted, NotFound, Conflict, InvalidInput) as exc:
                result["errors"].append({"item": item_id, "detail": exc.message, "status_code": exc.status_code})
            else:
                result["done"].append(item_id)
    return result


def _assessment(item: Item) -> dict:
    return {"categories": list(item.categories or []), "group": item.group_id, "language": item.language,
            "severity": item.severity, "confidence": item.confidence, "threat_to_life": item.threat_to_life,
            "priority": item.priority}


def item_assess(*, actor, item_id: int, categories: list[str] | None = None, group_id: int | None = None,
                language: str = "", severity: int | None = None, confidence: int | None = None,
                threat_to_life: bool = False) -> Item:
    """Record an analyst's (or supervisor's) assessment of an open item and recompute its priority.

    Checks the categories (TCO Art 2(7)), the group (from the managed list, active), the language code
    (≤ 16 characters), severity 0–7 and confidence 0–3; raises InvalidInput with field errors and changes
    nothing on bad input. Refuses items in a final status (TransitionNotAllowed). Writes one `item.assessed`
    event with the assessment before and after. Raising the threat-to-life flag creates an Alert for the
    supervisors in the same transaction (they see it on every page at once).
    """
    _require_role(actor, TRIAGERS, "assessing items")
    errors: dict[str, list[str]] = {}
    categories = sorted(set(categories or []))
    bad = [c for c in categories if c not in Category.values]
    if bad:
        errors["categories"] = [f"Unknown categories {bad}; use: {', '.join(Category.values)}."]
    language = (language or "").strip()
    if len(language) > 16:
        errors["language"] = ["At most 16 characters (a language code such as 'ar' or 'en')."]
    for field, value, top in (("severity", severity, SEVERITY_MAX), ("confidence", confidence, CONFIDENCE_MAX)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= top):
            errors[field] = [f"A whole number from 0 to {top}."]
    group = None
    if group_id not in (None, ""):
        group = Group.objects.filter(pk=group_id, active=True).first() if str(group_id).isdigit() else None
        if group is None:
            errors["group"] = [f"No active group {group_id} in the managed list."]
    if errors:
        raise InvalidInput("The assessment was not saved.", field_errors=errors)
    with transaction.atomic():
        item = _lock_item(item_id)
        if item.status in ITEM_FINAL:
            raise TransitionNotAllowed(f"Item {item.pk} is '{item.status}'; its assessment can no longer change.")
        before = _assessment(item)
        raised_flag = bool(threat_to_life) and not item.threat_to_life
        item.categories = categories
        item.group = group
        item.language = language
        item.severity = severity
        item.confidence = confidence
        item.threat_to_life = bool(threat_to_life)
        item.priority = item_priority(severity=severity, confidence=confidence, threat_to_life=item.threat_to_life)
        after = _assessment(item)
        if after == before:
            return item
        item.save(update_fields=["categories", "group", "language", "severity", "confidence", "threat_to_life",
                                 "priority", "updated_at"])
        if raised_flag:
            alert = Alert.objects.create(
                kind="threat_to_life",
                message=f"Threat to life: item {item.pk} ({item.url[:200]}) in case {item.case_id}, flagged by "
                        f"{actor.get_username()}. Act on it first.",
            )
            after["alert"] = alert.pk
        audit.record(actor=actor, verb="item.assessed", obj=item, before=before, after=after)
    return item


def item_assign(*, actor, item_ids: list[int], assignee_id: int | None) -> dict:
    """Assign items to an analyst or supervisor (or unassign them with assignee_id=None), in one transaction.

    The assignee must be an active analyst or supervisor (InvalidInput otherwise). One `item.assigned` event per
    item whose assignee changed; unknown items are reported in "errors". Returns {"done", "errors"}.
    """
    from accounts.models import User

    _require_role(actor, TRIAGERS, "assigning items")
    assignee = None
    if assignee_id not in (None, ""):
        assignee = User.objects.filter(pk=assignee_id, is_active=True, role__in=TRIAGERS).first()
        if assignee is None:
            raise InvalidInput("Items can be assigned to active analysts and supervisors only.",
                               field_errors={"assignee": ["Choose an active analyst or supervisor."]})
    ids = sorted({int(i) for i in item_ids})
    result = {"done": [], "errors": []}
    with transaction.atomic():
        items = {i.pk: i for i in Item.objects.select_for_update(of=("self",)).select_related("platform")
                 .filter(pk__in=ids).order_by("id")}
        entries = []
        for item_id in ids:
            item = items.get(item_id)
            if item is None:
                result["errors"].append({"item": item_id, "detail": f"Item {item_id} does not exist.",
                                         "status_code": 404})
                continue
            result["done"].append(item_id)
            if item.assignee_id == (assignee and assignee.pk):
                continue
            entries.append({"actor": actor, "verb": "item.assigned", "object_type": "item", "object_id": item_id,
                            "before": {"assignee": item.assignee_id}, "after": {"assignee": assignee and assignee.pk}})
            item.assignee = assignee
            item.save(update_fields=["assignee", "updated_at"])
        if entries:
            audit.record_many(entries)
    return result


def item_discard(*, actor, item_id: int, reason: str) -> Item:
    """An analyst (or supervisor) discards a logged or returned item as not to be referred; a reason is required."""
    _require_role(actor, TRIAGERS, "discarding items")
    reason = _reason(reason)
    return _item_decide(actor=actor, item_id=item_id, target=S.DISCARDED, reason=reason, verb="item.discarded")


def item_hold(*, actor, item_id: int, reason: str, requested_by: str) -> Item:
    """Put an open item (logged, returned, proposed) on hold for deconfliction: another investigation needs the
    content left up. The reason and the requesting party are required; the status it was held from is kept for
    the release. A held item cannot be proposed, approved or returned until released."""
    _require_role(actor, TRIAGERS, "holding items")
    reason = _reason(reason)
    requested_by = _reason(requested_by, "requested_by", "Name who asked for the hold.")
    if len(requested_by) > 300:
        raise InvalidInput("The requesting party is too long.", field_errors={"requested_by": ["At most 300."]})
    with transaction.atomic():
        item = _lock_item(item_id)
        _check_item_move(item, S.ON_HOLD)
        before = item.status
        item.held_from_status = before
        item.status = S.ON_HOLD
        item.hold_reason = reason
        item.hold_requested_by = requested_by
        item.save(update_fields=["status", "held_from_status", "hold_reason", "hold_requested_by", "updated_at"])
        audit.record(actor=actor, verb="item.held", obj=item, before={"status": before},
                     after={"status": S.ON_HOLD, "reason": reason, "requested_by": requested_by})
    return item


def item_release(*, actor, item_id: int) -> Item:
    """Release a held item back to the status it was held from (logged, returned or proposed); anything else
    (an old hold without that record) goes back to logged. The hold's reason and requester stay in the audit
    trail; the item's fields are cleared."""
    _require_role(actor, TRIAGERS, "releasing items")
    with transaction.atomic():
        item = _lock_item(item_id)
        if item.status != S.ON_HOLD:
            raise TransitionNotAllowed(f"Item {item.pk} is '{item.status}'; only an item on hold can be released.")
        target = item.held_from_status if item.held_from_status in ITEM_RELEASE_TARGETS else S.LOGGED
        before = {"status": item.status, "reason": item.hold_reason, "requested_by": item.hold_requested_by}
        item.status = target
        item.held_from_status = ""
        item.hold_reason = ""
        item.hold_requested_by = ""
        item.save(update_fields=["status", "held_from_status", "hold_reason", "hold_requested_by", "updated_at"])
        audit.record(actor=actor, verb="item.released", obj=item, before=before, after={"status": target})
    return item


def _lock_open_case(case_id) -> Case:
    case = Case.objects.select_for_update().filter(pk=case_id).first() if str(case_id).isdigit() else None
    if case is None:
        raise NotFound(f"Case {case_id} does not exist.")
    if case.status != CaseStatus.OPEN:
        raise TransitionNotAllowed(f"Case {case.pk} is '{case.status}'; items cannot be moved into it.")
    return case


def item_move(*, actor, item_ids: list[int], case_id: int) -> dict:
    """Move items to another open case, in one transaction; one `item.moved` event per item.

    A closed or unknown target case refuses the whole batch (TransitionNotAllowed / NotFound); an item already in
    that case, or unknown, is reported in "errors". Returns {"done", "errors"}.
    """
    _require_role(actor, TRIAGERS, "moving items")
    with transaction.atomic():
        case = _lock_open_case(case_id)

        def move(item_id):
            item = _lock_item(item_id)
            if item.case_id == case.pk:
                raise Conflict(f"Item {item.pk} is in case {case.pk} already.")
            before = item.case_id
            item.case = case
            item.save(update_fields=["case", "updated_at"])
            audit.record(actor=actor, verb="item.moved", obj=item, before={"case": before}, after={"case": case.pk})

        return _bulk(item_ids, move)


def item_propose_many(*, actor, item_ids: list[int]) -> dict:
    """item_propose for each item, in one transaction; refusals reported per item. Returns {"done", "errors"}."""
    _require_role(actor, TRIAGERS, "proposing items")
    return _bulk(item_ids, lambda item_id: item_propose(actor=actor, item_id=item_id))


def item_discard_many(*, actor, item_ids: list[int], reason: str) -> dict:
    """item_discard for each item with one reason (required up front). Returns {"done", "errors"}."""
    _require_role(actor, TRIAGERS, "discarding items")
    reason = _reason(reason)
    return _bulk(item_ids, lambda item_id: item_discard(actor=actor, item_id=item_id, reason=reason))


def item_hold_many(*, actor, item_ids: list[int], reason: str, requested_by: str) -> dict:
    """item_hold for each item with one reason and requesting party (both required up front)."""
    _require_role(actor, TRIAGERS, "holding items")
    reason = _reason(reason)
    requested_by = _reason(requested_by, "requested_by", "Name who asked for the hold.")
    return _bulk(item_ids, lambda item_id: item_hold(actor=actor, item_id=item_id, reason=reason,
                                                     requested_by=requested_by))


def _case_move(*, actor, case_id: int, target: str, verb: str) -> Case:
    _require_role(actor, (Role.SUPERVISOR,), "closing or reopening cases")
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=case_id).first()
        if case is None:
            raise NotFound(f"Case {case_id} does not exist.")
        if target not in CASE_ALLOWED[case.status]:
            raise TransitionNotAllowed(f"Case {case.pk} is '{case.status}'; it cannot become '{target}'.")
        before = case.status
        case.status = target
        case.save(update_fields=["status"])
        audit.record(actor=actor, verb=verb, obj=case, before={"status": before}, after={"status": target})
    return case


def case_close(*, actor, case_id: int) -> Case:
    """A supervisor closes a case: no items can be logged into or moved into it. Its items keep their status
    (referrals in flight go on). Reopening is case_reopen."""
    return _case_move(actor=actor, case_id=case_id, target=CaseStatus.CLOSED, verb="case.closed")


def case_reopen(*, actor, case_id: int) -> Case:
    """A supervisor reopens a closed case."""
    return _case_move(actor=actor, case_id=case_id, target=CaseStatus.OPEN, verb="case.reopened")


def case_assign(*, actor, case_id: int, assignee_id: int | None) -> Case:
    """An analyst or supervisor gives the case to a member of the unit (an analyst or supervisor), or to no one."""
    _require_role(actor, (Role.ANALYST, Role.SUPERVISOR), "assigning cases")
    from accounts.models import User

    assignee = None
    if assignee_id is not None:
        assignee = User.objects.filter(pk=assignee_id, is_active=True,
                                       role__in=[Role.ANALYST, Role.SUPERVISOR]).first()
        if assignee is None:
            raise InvalidInput("Assign the case to an active analyst or supervisor.",
                               field_errors={"assignee": ["Not an active analyst or supervisor."]})
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=case_id).first()
        if case is None:
            raise NotFound(f"Case {case_id} does not exist.")
        before = case.assignee.username if case.assignee_id else None
        case.assignee = assignee
        case.save(update_fields=["assignee"])
        audit.record(actor=actor, verb="case.assigned", obj=case, before={"assignee": before},
                     after={"assignee": assignee.username if assignee else None})
    return case


AWAITING_OUTCOME = (R.QUEUED, R.SENT, R.ACKNOWLEDGED, R.NEEDS_INFO)


def referrals_flag_overdue(*, now=None, limit: int = 1000) -> int:
    """Alert supervisors, once per referral, when a referral passes its due time with no outcome: for a removal
    order that is the TCO hour. One Alert per platform and instrument per run, listing the referrals.
    Returns how many referrals were flagged."""
    now = now or timezone.now()
    with transaction.atomic():
        qs = (Referral.objects.filter(status__in=AWAITING_OUTCOME, due_at__lt=now, overdue_alerted_at__isnull=True)
              .select_related("platform").order_by("due_at"))
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        overdue = list(qs[:limit])
        if not overdue:
            return 0
        Referral.objects.filter(pk__in=[r.pk for r in overdue]).update(overdue_alerted_at=now)
        groups: dict = {}
        for referral in overdue:
            groups.setdefault((referral.platform, referral.instrument), []).append(referral)
        for (platform, instrument), referrals in groups.items():
            what = "removal order" if instrument == Instrument.REMOVAL_ORDER else "referral"
            ids = ", ".join(str(r.pk) for r in referrals[:20]) + (" …" if len(referrals) > 20 else "")
            Alert.objects.create(kind="referral_overdue", message=(
                f"{len(referrals)} {what}{'s' if len(referrals) > 1 else ''} to {platform.name} past due with no "
                f"outcome: {ids}."))
        audit.record_many([{"actor": None, "verb": "referral.overdue", "object_type": "referral", "object_id": r.pk,
                            "after": {"status": r.status, "due_at": r.due_at.isoformat()}} for r in overdue])
    return len(overdue)
