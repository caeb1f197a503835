"""The unit takes a referral back (withdraw) or answers a platform's question (clarify); either way the platform is
told through the outbox, as its own delivery with its own id (Delivery.event: referrals.withdrawn,
referrals.clarified), signed and retried like a referral, to every active contact point of the platform.

The referral's status moves in referral/actions/outcomes.py (REFERRAL_ALLOWED): withdrawn from any status without
a final outcome (queued, sent, acknowledged, needs_info, failed); clarified: needs_info → acknowledged, waiting for
the platform's outcome again. A withdrawn referral refuses every later answer from the platform (409).

Locks, in the order of core/locking.py: the referrals (id order), then the audit chain.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from audit import chain as audit
from core.errors import Conflict, InvalidInput, NotFound, TransitionNotAllowed
from core.roles import DECIDERS, TRIAGERS, require_role
from core.transactions import retry_on_conflict
from platforms.models import Platform
from referral.actions import events, orders, outcomes
from referral.models import DeliveryEvent, Referral
from referral.models import ReferralStatus as R

MAX_TEXT = 5000
CLARIFIABLE = (R.NEEDS_INFO, R.CANNOT_EXECUTE)
SCRUTINY_DECISIONS = ("no_infringement", "infringement")
WITHDRAWABLE = {source for source, targets in outcomes.REFERRAL_ALLOWED.items() if R.WITHDRAWN in targets}


def _text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(message, field_errors={field: ["This field may not be blank."]})
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"At most {MAX_TEXT} characters.", field_errors={field: [f"At most {MAX_TEXT} characters."]})
    return value


@retry_on_conflict
def referrals_withdraw_many(*, actor, referral_ids, reason: str) -> dict:
    """A supervisor withdraws referrals that have no final outcome yet, with one reason, in one transaction; each is
    checked on its own and the ones that cannot be withdrawn are reported, not raised. The platforms are told.
    Returns {"withdrawn": [ids], "errors": [{"referral", "detail", "status_code"}]}."""
    require_role(actor, DECIDERS, "withdrawing referrals")
    reason = _text(reason, "reason", "Give a reason.")
    ids = sorted({int(i) for i in referral_ids})
    result = {"withdrawn": [], "errors": []}
    with transaction.atomic():
        found = {pk: (status, platform_id) for pk, status, platform_id in
                 Referral.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")
                 .values_list("pk", "status", "platform_id")}
        by_source: dict[str, list[int]] = {}
        by_platform: dict[int, list[int]] = {}
        for pk in ids:
            if pk not in found:
                result["errors"].append({"referral": pk, "detail": f"Referral {pk} does not exist.",
                                         "status_code": 404})
                continue
            status, platform_id = found[pk]
            if status not in WITHDRAWABLE:
                result["errors"].append({"referral": pk, "status_code": 409, "detail": (
                    f"Referral {pk} is '{status}'; it cannot be withdrawn (it has its final outcome).")})
                continue
            by_source.setdefault(status, []).append(pk)
            by_platform.setdefault(platform_id, []).append(pk)
            result["withdrawn"].append(pk)
        if not result["withdrawn"]:
            return result
        now = timezone.now()
        for source, pks in by_source.items():
            outcomes.referrals_move_locked(pks, source, R.WITHDRAWN, now=now)
        entries = [{"actor": actor, "verb": "referral.withdrawn", "object_type": "referral", "object_id": pk,
                    "before": {"status": found[pk][0]}, "after": {"status": R.WITHDRAWN, "reason": reason}}
                   for pk in result["withdrawn"]]
        entries += events.tell_platforms(by_platform, event=DeliveryEvent.WITHDRAWN, message=reason, actor=actor,
                                         now=now)
        audit.record_many(entries)
    return result


def referral_withdraw(*, actor, referral_id: int, reason: str) -> Referral:
    """Withdraw one referral (see referrals_withdraw_many); its refusal is raised."""
    result = referrals_withdraw_many(actor=actor, referral_ids=[referral_id], reason=reason)
    if result["errors"]:
        error = result["errors"][0]
        raise {404: NotFound, 409: TransitionNotAllowed}[error["status_code"]](error["detail"])
    return Referral.objects.select_related("item").get(pk=referral_id)


@retry_on_conflict
def referral_clarify(*, actor, referral_id: int, message: str) -> Referral:
    """The unit answers a platform's `needs_info` (an analyst or a supervisor): the message goes to the platform as
    a referrals.clarified delivery and the referral waits for the platform's outcome again (acknowledged)."""
    require_role(actor, TRIAGERS, "answering a platform's question")
    message = _text(message, "message", "Write the information the platform asked for.")
    with transaction.atomic():
        referral = Referral.objects.select_for_update(no_key=True, of=("self",)).select_related("item") \
            .filter(pk=referral_id).first()
        if referral is None:
            raise NotFound("Not found.")
        if referral.status not in CLARIFIABLE:
            raise Conflict(f"Referral {referral_id} is '{referral.status}': only a referral whose platform asked "
                           "for information (needs_info, or a removal order it cannot execute) can be clarified.")
        now = timezone.now()
        before = referral.status
        order = orders.lock_order(referral)
        if order is not None and order.paused and order.paused_reason == "force_majeure":
            raise Conflict(f"Referral {referral_id}: the platform cannot execute the order because of force "
                           "majeure; the hour runs again when it reports the grounds ceased, not on an answer.")
        outcomes.referrals_move_locked([referral.pk], before, R.ACKNOWLEDGED, now=now)
        if order is not None:  # the clock restarts: an hour from the platform's receipt of this answer
            orders.order_clarified(order, referral, now=now)
            Referral.objects.filter(pk=referral.pk).update(due_at=referral.due_at)
            orders.sync_pause([order])
        entries = [{"actor": actor, "verb": "referral.clarified", "object_type": "referral", "object_id": referral.pk,
                    "before": {"status": before}, "after": {"status": R.ACKNOWLEDGED, "message": message}}]
        entries += events.tell_platforms({referral.platform_id: [referral.pk]}, event=DeliveryEvent.CLARIFIED,
                                   message=message, actor=actor, now=now)
        audit.record_many(entries)
        referral.refresh_from_db()
    return referral



@retry_on_conflict
def platform_pre_inform(*, actor, platform_id: int) -> int:
    """A supervisor sends a platform the information on the procedures and deadlines of removal orders (TCO
    Art 3(2)) through the outbox, to each of its active contact points; its legal directory records when it was
    received (the delivery accepted), from which the platform's first order may follow 12 hours later. Returns how
    many deliveries were queued (0: no active contact point; supervisors are alerted)."""
    require_role(actor, DECIDERS, "informing platforms of the removal-order procedures")
    with transaction.atomic():
        platform = Platform.objects.select_for_update(no_key=True).filter(pk=platform_id).first()
        if platform is None:
            raise NotFound("Not found.")
        now = timezone.now()
        entries = events.tell_platforms({platform.pk: []}, event=DeliveryEvent.PRE_INFORMATION,
                                  message=orders.procedure_information(platform), actor=actor, now=now)
        audit.record_many([{"actor": actor, "verb": "platform.pre_information_queued", "object_type": "platform",
                            "object_id": platform.pk, "after": {"deliveries": len(entries)}}, *entries])
    return len(entries)


@retry_on_conflict
def order_scrutiny_record(*, actor, referral_id: int, decision: str, decided_at=None, note: str = "") -> Referral:
    """A supervisor records the host Member State authority's scrutiny decision on an order (Art 4(4)): an
    infringement makes the order lapse: withdrawn, the platform told (referrals.withdrawn with the reason), and
    the content may be reinstated. Audited."""
    require_role(actor, DECIDERS, "recording scrutiny decisions")
    if decision not in SCRUTINY_DECISIONS:
        raise InvalidInput("Unknown decision.",
                           field_errors={"decision": [f"One of: {', '.join(SCRUTINY_DECISIONS)}."]})
    now = timezone.now()
    decided_at = decided_at or now
    if decided_at > now + timedelta(minutes=5):
        raise InvalidInput("decided_at is in the future.", field_errors={"decided_at": ["Must not be in the future."]})
    with transaction.atomic():
        referral = Referral.objects.select_for_update(no_key=True, of=("self",)).filter(pk=referral_id).first()
        order = orders.lock_order(referral) if referral is not None else None
        if order is None:
            raise NotFound("Not found.")
        if order.scrutiny_decision:
            raise Conflict(f"The scrutiny decision on order {order.reference} is already recorded.")
        order.scrutiny_decision, order.scrutiny_decided_at = decision, decided_at
        order.save(update_fields=["scrutiny_decision", "scrutiny_decided_at"])
        audit.record_many([{"actor": actor, "verb": "order.scrutiny_recorded", "object_type": "referral",
                            "object_id": referral.pk, "after": {"decision": decision, "note": note[:2000],
                                                                "decided_at": decided_at.isoformat()}}])
        lapsed = list(order.referrals.filter(status__in=WITHDRAWABLE).order_by("pk").values_list("pk", flat=True)) \
            if decision == "infringement" else []
        if lapsed:  # every URL the order names
            reason = (f"The removal order {order.reference} lapsed: the competent authority of "
                      f"{order.host_member_state} found an infringement (Regulation (EU) 2021/784, Article 4(4)). "
                      "You may reinstate the content.")
            referrals_withdraw_many(actor=actor, referral_ids=lapsed, reason=reason)
    return Referral.objects.select_related("item").get(pk=referral_id)
