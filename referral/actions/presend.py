"""The check just before sending (liveness/presend.py runs it; this app only acts on what it found).

A new referral's message (Delivery, event referrals.created) is due PRESEND_CHECK_SECONDS after approval. Meanwhile
the desk fetches each referral's URL once. What follows here, in short transactions of their own:
- content found offline, whose messages have not left yet (never claimed, nothing rendered), is not sent: the
  referral becomes `already_offline`, it leaves its messages, and a message left with no referral is cancelled;
- messages whose referrals were all checked (and still carry some) are made due at once, so the check costs the
  time it took, not the whole wait. An `unknown` answer, or a check that did not finish in time, holds nothing.

These are the desk's own moves, not a person's: the audit events have no actor. Locks, in the order of
core/locking.py: the deliveries (id order), then the referrals (id order).
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from audit import chain as audit
from core.enqueue import send_task_on_commit
from core.transactions import retry_on_conflict
from referral.actions import outcomes
from referral.models import DISPATCH_TASK, Delivery, DeliveryEvent, DeliveryStatus, Referral
from referral.models import ReferralStatus as R


def _untouched(now):
    """Messages that have not left and cannot be leaving: pending, nothing rendered, no live claim."""
    return (Q(status=DeliveryStatus.PENDING, payload__isnull=True)
            & (Q(lease_until__isnull=True) | Q(lease_until__lt=now)))


@retry_on_conflict
def referrals_not_sent_offline(*, evidence: dict[int, dict]) -> list[int]:
    """Referrals (`evidence`: {referral id: what the check found}) whose content the check before sending found
    offline: each still queued and none of whose new-referral messages has left becomes `already_offline` and is
    taken out of them; a message left empty is deleted (nothing was ever sent of it). Audited with the evidence
    (`referral.not_sent_offline`, `delivery.cancelled`). Returns the ids marked; the others were already on their
    way and are left alone."""
    ids = sorted(int(pk) for pk in evidence)
    if not ids:
        return []
    through = Delivery.referrals.through
    with transaction.atomic():
        now = timezone.now()
        links = list(through.objects.filter(referral_id__in=ids, delivery__event=DeliveryEvent.CREATED)
                     .values_list("delivery_id", "referral_id"))
        delivery_ids = sorted({d for d, _ in links})
        free = set(Delivery.objects.select_for_update(no_key=True, of=("self",)).filter(pk__in=delivery_ids)
                   .filter(_untouched(now)).order_by("pk").values_list("pk", flat=True))
        leaving = {r for d, r in links if d not in free}
        queued = set(Referral.objects.select_for_update(no_key=True, of=("self",))
                     .filter(pk__in=[pk for pk in ids if pk not in leaving], status=R.QUEUED)
                     .order_by("pk").values_list("pk", flat=True))
        marked = sorted(queued)
        if not marked:
            return []
        outcomes.referrals_move_locked(marked, R.QUEUED, R.ALREADY_OFFLINE, now=now)
        through.objects.filter(referral_id__in=marked, delivery_id__in=free).delete()
        empty = sorted(Delivery.objects.filter(pk__in=free, referrals__isnull=True).values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=empty).delete()
        entries = [{"actor": None, "verb": "referral.not_sent_offline", "object_type": "referral", "object_id": pk,
                    "before": {"status": R.QUEUED}, "after": {"status": R.ALREADY_OFFLINE, **evidence[pk]}}
                   for pk in marked]
        entries += [{"actor": None, "verb": "delivery.cancelled", "object_type": "delivery", "object_id": pk,
                     "after": {"reason": "every referral it carried was already offline"}} for pk in empty]
        audit.record_many(entries)
    return marked


def deliveries_checked_before_sending(delivery_ids) -> int:
    """Make these new-referral messages due now (their referrals were checked before sending), or at the end of
    their batching window if it is still open; a message already claimed or sent is left as it is. One UPDATE in
    autocommit, as the dispatcher's own releases; nudges the dispatcher. Returns how many were moved."""
    ids = list(delivery_ids)
    if not ids:
        return 0
    now = timezone.now()
    window = timedelta(seconds=settings.DELIVERY_BATCH_WINDOW_SECONDS)
    due = (Delivery.objects.filter(pk__in=ids, event=DeliveryEvent.CREATED, next_attempt_at__gt=now)
           .filter(_untouched(now)))
    moved = (due.filter(contact_point__max_items_per_message__gt=1)  # batched: not before its window closes
             .update(next_attempt_at=Greatest(F("created_at") + window, now)))
    moved += due.filter(contact_point__max_items_per_message__lte=1).update(next_attempt_at=now)
    if moved:
        send_task_on_commit(DISPATCH_TASK)
    return moved
