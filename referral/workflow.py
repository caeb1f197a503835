"""Every state transition of Case, Item, Referral and Delivery, in one place.

Each function is one transaction: lock the row, check the move against the tables below, save, write one
AuditEvent per changed object, and queue side effects with `transaction.on_commit`. Nothing here does network
or broker I/O inside the transaction. Nothing outside this module assigns `.status`.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Role
from platforms.models import ContactPoint, Platform
from platforms.urls import InvalidURL, canonicalize, resolve_platform, validate_url

from . import audit
from .errors import Conflict, InvalidInput, NotFound, NotPermitted, TransitionNotAllowed
from .models import (
    Case,
    Category,
    Delivery,
    DeliveryStatus,
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
    with transaction.atomic():
        case = Case.objects.create(title=title[:300], description=description or "", created_by=actor)
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
            language=(language or "")[:16],
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


def item_approve(*, actor, item_id: int, instrument: str = Instrument.REFERRAL) -> Item:
    """A supervisor approves a proposed item: four-eyes, never their own proposal.

    In one transaction: item → approved, one queued Referral to the item's platform, one pending Delivery
    (outbox row) per active contact point of that platform, and their audit events. The dispatcher is nudged
    after commit. Raises NotPermitted for one's own proposal, Conflict when no platform (or no active contact
    point) can receive it, TransitionNotAllowed when the item is not proposed.
    """
    if instrument not in Instrument.values:
        raise InvalidInput(
            "Unknown instrument.",
            field_errors={"instrument": [f"'{instrument}' is not one of: {', '.join(Instrument.values)}."]},
        )
    with transaction.atomic():
        item = _lock_item(item_id)
        _check_item_move(item, S.APPROVED)
        if item.proposed_by_id == actor.pk:
            raise NotPermitted("Four-eyes rule: you cannot approve an item you proposed yourself.")
        if item.platform_id is None:
            raise Conflict(
                f"No platform claims the host of {item.url}; register the platform's domain, "
                "or log the item with a platform, before approving."
            )
        contact_points = list(ContactPoint.objects.filter(platform_id=item.platform_id, active=True))
        if not contact_points:
            raise Conflict(f"Platform '{item.platform.slug}' has no active contact point to receive referrals.")
        now = timezone.now()
        if instrument == Instrument.REMOVAL_ORDER:
            due_at = now + timedelta(hours=1)
        else:
            sla = min((cp.sla_hours for cp in contact_points if cp.sla_hours), default=settings.REFERRAL_SLA_HOURS)
            due_at = now + timedelta(hours=sla)
        item.status = S.APPROVED
        item.decided_by = actor
        item.save(update_fields=["status", "decided_by", "updated_at"])
        referral = Referral.objects.create(
            item=item, platform_id=item.platform_id, instrument=instrument, due_at=due_at, approved_by=actor
        )
        entries = [
            {"actor": actor, "verb": "item.approved", "object_type": "item", "object_id": item.pk,
             "before": {"status": S.PROPOSED}, "after": {"status": S.APPROVED, "instrument": instrument}},
            {"actor": actor, "verb": "referral.queued", "object_type": "referral", "object_id": referral.pk,
             "after": {"status": referral.status, "platform": item.platform.slug, "instrument": instrument}},
        ]
        for cp in contact_points:
            delivery = Delivery.objects.create(contact_point=cp, next_attempt_at=now)
            delivery.referrals.add(referral)
            entries.append(
                {"actor": actor, "verb": "delivery.queued", "object_type": "delivery", "object_id": delivery.pk,
                 "after": {"contact_point": cp.pk, "channel": cp.channel, "referrals": [referral.pk]}}
            )
        audit.record_many(entries)
        transaction.on_commit(_nudge_dispatcher)
    return item


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


def delivery_mark_sent(*, delivery_id, attempt_number: int) -> bool:
    """Delivery → sent and its queued referrals → sent, if the delivery is still ours (attempt number holds).

    Returns False when another claim overtook this attempt (its result is then the other claim's to record).
    """
    with transaction.atomic():
        now = timezone.now()
        updated = Delivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.PENDING, attempts=attempt_number
        ).update(status=DeliveryStatus.SENT, sent_at=now, lease_until=None, last_status_code=None, last_error="")
        if not updated:
            return False
        referrals = list(
            Referral.objects.select_for_update().filter(deliveries__id=delivery_id).order_by("id")
        )
        entries = [{"actor": None, "verb": "delivery.sent", "object_type": "delivery", "object_id": delivery_id,
                    "after": {"attempt": attempt_number, "referrals": [r.pk for r in referrals]}}]
        for referral in referrals:
            fields = []
            if referral.sent_at is None:
                referral.sent_at = now
                fields.append("sent_at")
                if referral.instrument == Instrument.REMOVAL_ORDER:
                    # TCO Art 3(3): one hour from receipt.
                    referral.due_at = now + timedelta(hours=1)
                    fields.append("due_at")
            if referral.status in (R.QUEUED, R.FAILED):
                entries.append({"actor": None, "verb": "referral.sent", "object_type": "referral",
                                "object_id": referral.pk, "before": {"status": referral.status},
                                "after": {"status": R.SENT}})
                referral.status = R.SENT
                fields.append("status")
            if fields:
                referral.save(update_fields=fields + ["updated_at"])
        audit.record_many(entries)
    return True


def delivery_record_failure(
    *, delivery_id, attempt_number: int, final_status: str | None, next_attempt_at, status_code, error: str,
    disable_contact_point: bool = False,
) -> bool:
    """Record a failed attempt: schedule the retry, or stop/fail the delivery (and fail its referrals)."""
    with transaction.atomic():
        qs = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, attempts=attempt_number)
        if final_status is None:
            return bool(
                qs.update(next_attempt_at=next_attempt_at, lease_until=None, last_status_code=status_code,
                          last_error=error[:2000])
            )
        if not qs.update(status=final_status, lease_until=None, last_status_code=status_code,
                         last_error=error[:2000]):
            return False
        delivery = Delivery.objects.select_related("contact_point").get(pk=delivery_id)
        entries = [{"actor": None, "verb": f"delivery.{final_status}", "object_type": "delivery",
                    "object_id": delivery_id, "after": {"attempt": attempt_number, "error": error[:500]}}]
        if disable_contact_point:
            ContactPoint.objects.filter(pk=delivery.contact_point_id).update(active=False)
            entries.append({"actor": None, "verb": "contact_point.disabled", "object_type": "contactpoint",
                            "object_id": delivery.contact_point_id, "after": {"reason": error[:500]}})
        # A referral fails only if none of its deliveries is still pending or sent.
        for referral in Referral.objects.select_for_update().filter(deliveries__id=delivery_id, status=R.QUEUED):
            alive = referral.deliveries.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENT]).exists()
            if not alive:
                referral.status = R.FAILED
                referral.save(update_fields=["status", "updated_at"])
                entries.append({"actor": None, "verb": "referral.failed", "object_type": "referral",
                                "object_id": referral.pk, "before": {"status": R.QUEUED},
                                "after": {"status": R.FAILED}})
        audit.record_many(entries)
    return True
