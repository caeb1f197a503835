"""The outbox's moves (called by the dispatcher with actor = system, and by people for manual tasks
and re-drives).

Each is one transaction taking its locks in the order of core/locking.py (contact point, deliveries, referrals,
alerts, the audit chain), retried as a whole on a deadlock or serialization failure (core/transactions.py).
"""

import hashlib
from datetime import timedelta

from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from alerts.models import Alert
from audit import chain as audit
from core.enqueue import send_task_on_commit
from core.errors import Conflict, InvalidInput, NotFound, NotPermitted, TransitionNotAllowed
from core.roles import MANUAL_SUBMITTERS, SUPERVISORS, has_role
from core.transactions import retry_on_conflict
from notifications.actions import notify_users
from platforms.models import ContactPoint, PlatformLegal
from referral.actions import outcomes as referral_actions
from referral.models import (
    DISPATCH_TASK,
    Delivery,
    DeliveryAttempt,
    DeliveryEvent,
    DeliveryStatus,
    Instrument,
    Referral,
    RemovalOrder,
)
from referral.models import ReferralStatus as R

D = DeliveryStatus
# A delivery's moves. Only this module assigns Delivery.status; each move is also a conditional write on the status
# it leaves, so a claim that lost its lease cannot record over the claim that overtook it.
DELIVERY_ALLOWED: dict[str, set[str]] = {
    D.PENDING: {D.SENT, D.MANUAL, D.STOPPED, D.FAILED},  # sent; a manual task; refused or a 4xx; retries exhausted
    D.MANUAL: {D.SENT},  # a person submitted it through the platform's form
    D.STOPPED: {D.PENDING},  # re-driven by a supervisor
    D.FAILED: {D.PENDING},
    D.SENT: set(),
}


def _check_delivery_move(source: str, target: str) -> None:
    if target not in DELIVERY_ALLOWED[source]:
        raise TransitionNotAllowed(f"A delivery that is '{source}' cannot become '{target}'.")


@retry_on_conflict
def deliveries_mark_sent(sent: list[tuple], *, attempt_records: list[DeliveryAttempt],
                         from_status: str = DeliveryStatus.PENDING) -> list:
    """Deliveries → sent, their queued referrals → sent, with the sending records, in one transaction.

    `sent` is [(delivery_id, attempt_number, external_reference)]. A delivery whose attempt number moved on
    (another claim overtook this attempt after our lease ran out) is left to that claim. Returns the ids
    marked sent.
    """
    _check_delivery_move(from_status, D.SENT)
    if not sent:
        return []
    expected = {delivery_id: (number, ref) for delivery_id, number, ref in sent}
    with transaction.atomic():
        now = timezone.now()
        rows = (Delivery.objects.select_for_update(no_key=True).filter(pk__in=list(expected)).order_by("pk")
                .values_list("pk", "status", "attempts", "event"))
        ours = [pk for pk, status, attempts, _ in rows if status == from_status and attempts == expected[pk][0]]
        if not ours:
            return []
        ours_set = set(ours)
        answers = [pk for pk, _, _, event in rows if event == DeliveryEvent.CLARIFIED and pk in ours_set]
        informed = [pk for pk, _, _, event in rows if event == DeliveryEvent.PRE_INFORMATION and pk in ours_set]
        copies = [pk for pk, _, _, event in rows if event == DeliveryEvent.ORDER_COPY and pk in ours_set]
        if copies:  # TCO Art 4(1): the host State's authority has its copy of these orders
            RemovalOrder.objects.filter(referrals__deliveries__in=copies, copy_sent_at__isnull=True).update(
                copy_sent_at=now)
        if informed:  # TCO Art 3(2): the platform received the procedure information now
            for platform_id in set(Delivery.objects.filter(pk__in=informed).values_list(
                    "contact_point__platform_id", flat=True)):
                PlatformLegal.objects.update_or_create(platform_id=platform_id,
                                                       defaults={"pre_information_sent_at": now})
        DeliveryAttempt.objects.bulk_create([a for a in attempt_records if a.delivery_id in ours_set],
                                            ignore_conflicts=True)
        by_reference: dict = {}
        for pk in ours:
            by_reference.setdefault(expected[pk][1][:300], []).append(pk)
        for reference, pks in by_reference.items():
            Delivery.objects.filter(pk__in=pks).update(status=DeliveryStatus.SENT, sent_at=now, lease_until=None,
                                                       last_status_code=None, last_error="",
                                                       external_reference=reference)
        # Only new referrals move when their message is accepted; a withdrawal or a clarification moves nothing.
        links = list(Delivery.referrals.through.objects.filter(delivery_id__in=ours,
                                                               delivery__event=DeliveryEvent.CREATED)
                     .values_list("delivery_id", "referral_id"))
        referral_ids = sorted({r for _, r in links})
        referrals = list(Referral.objects.select_for_update(no_key=True).filter(pk__in=referral_ids).order_by("pk")
                         .values_list("pk", "status", "sent_at", "instrument"))
        unsent = [pk for pk, _, sent_at, _ in referrals if sent_at is None]
        if unsent:  # one UPDATE: TCO Art 3(3), a removal order's hour runs from receipt
            orders = [pk for pk, _, sent_at, instrument in referrals
                      if sent_at is None and instrument == Instrument.REMOVAL_ORDER]
            due = {"due_at": Case(When(pk__in=orders, then=Value(now + timedelta(hours=1))), default=F("due_at"))}
            Referral.objects.filter(pk__in=unsent).update(sent_at=now, updated_at=now, **(due if orders else {}))
        # A removal order's clarification restarts its hour from the platform's receipt of it (TCO Art 3(3)).
        clarified = list(Delivery.referrals.through.objects.filter(
            delivery_id__in=answers, referral__instrument=Instrument.REMOVAL_ORDER).values_list(
            "referral_id", flat=True)) if answers else []
        if clarified:
            Referral.objects.filter(pk__in=clarified).update(due_at=now + timedelta(hours=1), updated_at=now)
        to_sent = [pk for pk, status, _, _ in referrals if status == R.QUEUED]
        referral_actions.referrals_move_locked(to_sent, R.QUEUED, R.SENT, now=now)
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

    return bool(Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, attempts=attempt_number)
                .update(attempts=F("attempts") - 1, lease_until=None, next_attempt_at=next_attempt_at))


def _lock_contact_point_of(delivery_id) -> ContactPoint | None:
    """Lock the contact point of a delivery (which never changes), taken before the delivery itself."""
    cp_id = Delivery.objects.filter(pk=delivery_id).values_list("contact_point_id", flat=True).first()
    return ContactPoint.objects.select_for_update(no_key=True).filter(pk=cp_id).first() if cp_id else None


def _fail_orphaned_referrals(delivery_id, entries: list) -> None:
    """Referrals of a dead delivery fail unless another delivery of theirs is still alive."""
    alive = [DeliveryStatus.PENDING, DeliveryStatus.MANUAL, DeliveryStatus.SENT]
    for referral in (Referral.objects.select_for_update(no_key=True, of=("self",))
                     .filter(deliveries__id=delivery_id, status=R.QUEUED).order_by("pk")):
        if not referral.deliveries.filter(status__in=alive).exists():
            referral_actions.referral_move_locked(referral, R.FAILED)
            entries.append({"actor": None, "verb": "referral.failed", "object_type": "referral",
                            "object_id": referral.pk, "before": {"status": R.QUEUED}, "after": {"status": R.FAILED}})


@retry_on_conflict
def delivery_record_failure(
    *, delivery_id, attempt_number: int, final_status: str | None, next_attempt_at, status_code, error: str,
    disable_contact_point: bool = False, attempt_record: DeliveryAttempt | None = None,
) -> bool:
    """Record a failed attempt: schedule the retry, or stop/fail the delivery (and fail its referrals).

    A stopped or failed delivery raises an Alert for supervisors (the dead-letter list); a 410 also disables
    the contact point.
    """
    with transaction.atomic():
        if disable_contact_point:  # the contact point before the delivery (core/locking.py)
            _lock_contact_point_of(delivery_id)
        qs = Delivery.objects.select_for_update(no_key=True, of=("self",)).filter(
            pk=delivery_id, status=DeliveryStatus.PENDING, attempts=attempt_number)
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
        _check_delivery_move(delivery.status, final_status)
        delivery.status = final_status
        delivery.save(update_fields=fields + ["status"])
        cp = delivery.contact_point
        entries = [{"actor": None, "verb": f"delivery.{final_status}", "object_type": "delivery",
                    "object_id": delivery_id, "after": {"attempt": attempt_number, "error": error[:500]}}]
        what = ("stopped: a person must look" if final_status == DeliveryStatus.STOPPED
                else "failed: retries exhausted")
        Alert.objects.create(
            kind=f"delivery_{final_status}", delivery_id=delivery.pk, contact_point=cp,
            message=f"Delivery to {cp.platform.name} ({cp.channel} {cp.endpoint}) {what}. {error[:300]}",
        )
        people = Referral.objects.filter(deliveries__id=delivery_id).values_list("approved_by_id",
                                                                                "item__proposed_by_id")
        notify_users({user for pair in people for user in pair}, kind="dead_letter", object_type="delivery",
                     object_id=delivery_id, message=f"Dead letter: delivery to {cp.platform.name} {what}. "
                                                    f"{error[:200]}")
        if disable_contact_point:
            reason = f"Disabled after HTTP 410 Gone on {timezone.now():%Y-%m-%d %H:%M} UTC."
            ContactPoint.objects.filter(pk=cp.pk).update(active=False, disabled_reason=reason)
            entries.append({"actor": None, "verb": "contact_point.disabled", "object_type": "contactpoint",
                            "object_id": cp.pk, "after": {"reason": reason}})
            Alert.objects.create(kind="contact_point_disabled", contact_point=cp, delivery_id=delivery.pk,
                                 message=f"{cp.platform.name}'s {cp.channel} contact point {cp.endpoint} answered "
                                         "410 Gone and was disabled. Referrals to it are held until it is fixed.")
        _fail_orphaned_referrals(delivery_id, entries)
        audit.record_many(entries)
    return True


@retry_on_conflict
def delivery_await_manual(*, delivery_id, attempt_number: int) -> bool:
    """A manual contact point's delivery becomes a task for an analyst (the prepared text is its payload)."""
    _check_delivery_move(D.PENDING, D.MANUAL)
    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING,
                                          attempts=attempt_number).update(status=DeliveryStatus.MANUAL,
                                                                          lease_until=None)
        if updated:
            audit.record_many([{"actor": None, "verb": "delivery.manual_task", "object_type": "delivery",
                                "object_id": delivery_id, "after": {"status": DeliveryStatus.MANUAL}}])
    return bool(updated)


@retry_on_conflict
def delivery_complete_manual(*, actor, delivery_id, ticket: str) -> Delivery:
    """An analyst submitted the prepared text through the platform's form and records its ticket number."""
    if not has_role(actor, MANUAL_SUBMITTERS):
        raise NotPermitted("Only analysts and supervisors record manual submissions.")
    ticket = (ticket or "").strip()
    if not ticket:
        raise InvalidInput("Record the platform's ticket number.",
                           field_errors={"ticket": ["This field may not be blank."]})
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update(no_key=True, of=("self",)).filter(pk=delivery_id)
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


@retry_on_conflict
def delivery_redrive(*, actor, delivery_id) -> Delivery:
    """A supervisor sends a dead letter (failed or stopped delivery) again: the same id and bytes, a fresh
    retry schedule; its failed referrals go back to queued. The contact point must be active."""
    if not has_role(actor, SUPERVISORS):
        raise NotPermitted("Only supervisors re-drive deliveries.")
    with transaction.atomic():
        contact_point = _lock_contact_point_of(delivery_id)  # so that it cannot be disabled under us
        delivery = Delivery.objects.select_for_update(no_key=True).filter(pk=delivery_id).first()
        if delivery is None or contact_point is None:
            raise NotFound("Not found.")
        delivery.contact_point = contact_point
        if delivery.status not in (DeliveryStatus.FAILED, DeliveryStatus.STOPPED):
            raise TransitionNotAllowed(f"Delivery {delivery_id} is '{delivery.status}'; only failed or stopped "
                                       "deliveries can be re-driven.")
        if not delivery.contact_point.active:
            raise Conflict("The contact point is disabled; fix and re-enable it before re-driving its deliveries.")
        before = delivery.status
        now = timezone.now()
        _check_delivery_move(delivery.status, D.PENDING)
        delivery.status = DeliveryStatus.PENDING
        delivery.attempt_base = delivery.attempts
        delivery.next_attempt_at = now
        delivery.lease_until = None
        delivery.save(update_fields=["status", "attempt_base", "next_attempt_at", "lease_until"])
        entries = [{"actor": actor, "verb": "delivery.redriven", "object_type": "delivery", "object_id": delivery.pk,
                    "before": {"status": before}, "after": {"status": DeliveryStatus.PENDING}}]
        for referral in (Referral.objects.select_for_update(no_key=True, of=("self",))
                         .filter(deliveries__id=delivery.pk, status=R.FAILED).order_by("pk")):
            referral_actions.referral_move_locked(referral, R.QUEUED)
            entries.append({"actor": actor, "verb": "referral.requeued", "object_type": "referral",
                            "object_id": referral.pk, "before": {"status": R.FAILED}, "after": {"status": R.QUEUED}})
        Alert.objects.filter(delivery_id=delivery.pk, resolved_at__isnull=True).update(resolved_at=now,
                                                                                      resolved_by=actor)
        audit.record_many(entries)
        send_task_on_commit(DISPATCH_TASK)
    return delivery

