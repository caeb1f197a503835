"""Reads of referrals and the outbox, with their joins chosen once."""

from django.db.models import Prefetch, QuerySet

from cases.selectors import _anonymous
from core.roles import LIAISONS
from referral.models import Delivery, DeliveryAttempt, Referral


def referrals_for(user) -> QuerySet[Referral]:
    """Every referral for the unit's staff; only their own platform's for a liaison; none for anyone else."""
    qs = Referral.objects.select_related("item", "platform")
    if _anonymous(user):
        return qs.none()
    if user.role in LIAISONS:
        return qs.filter(platform_id=user.platform_id) if user.platform_id else qs.none()
    if user.is_unit_staff:
        return qs
    return qs.none()


def deliveries_with_attempts(referral_or_ids) -> QuerySet[Delivery]:
    """The messages that carried a referral (or any of these referral ids), oldest first, each with its attempts."""
    ids = [referral_or_ids.pk] if isinstance(referral_or_ids, Referral) else list(referral_or_ids)
    return Delivery.objects.filter(referrals__in=ids).distinct().select_related("contact_point").prefetch_related(
        Prefetch("attempt_records", queryset=DeliveryAttempt.objects.order_by("number"))
    ).order_by("created_at")


def deliveries_for(user) -> QuerySet[Delivery]:
    """The outbox for the unit's staff (never for liaisons: it names every platform's endpoints)."""
    if _anonymous(user) or not user.is_unit_staff:
        return Delivery.objects.none()
    return Delivery.objects.select_related("contact_point", "contact_point__platform").prefetch_related(
        Prefetch("referrals", queryset=Referral.objects.only("id")),
        Prefetch("attempt_records", queryset=DeliveryAttempt.objects.order_by("number")),
    ).defer("payload")



def orders_for(rows) -> dict:
    """The RemovalOrder (signatory loaded) of each removal order among `rows` (dicts with id and instrument), by
    referral id: one query, none when the page has no order."""
    from referral.models import Instrument

    ids = [row["id"] for row in rows if row["instrument"] == Instrument.REMOVAL_ORDER]
    if not ids:
        return {}
    return {r.pk: r.order for r in Referral.objects.filter(pk__in=ids, order__isnull=False)
            .select_related("order__signatory").only("id", "order")}


def order_referrals(order, user) -> list[Referral]:
    """The referrals (one per URL) an order names, as `user` may see them, with their items: one query."""
    return list(referrals_for(user).filter(order=order).select_related("item").order_by("pk"))


def order_record(order) -> dict:
    """A removal order's record on one screen (its page, for the unit): every audit event of its items' review, of
    its referrals and of the messages that carried them, oldest first, to the second; and each send with its
    proof. Four queries: the referrals, the deliveries, their attempts, the events."""
    from audit.models import AuditEvent

    pairs = list(order.referrals.values_list("pk", "item_id"))
    deliveries = list(deliveries_with_attempts([pk for pk, _ in pairs]).defer(
        "payload", "contact_point__secret", "contact_point__previous_secret"))
    item_verbs = ("item.logged", "item.proposed", "item.assessed", "item.approved", "item.returned")
    events = (AuditEvent.objects.filter(object_type="referral", object_id__in=[str(pk) for pk, _ in pairs])
              | AuditEvent.objects.filter(object_type="item", object_id__in=[str(i) for _, i in pairs],
                                          verb__in=item_verbs)
              | AuditEvent.objects.filter(object_type="delivery", object_id__in=[str(d.pk) for d in deliveries]))
    return {"events": list(events.order_by("at", "id")), "deliveries": deliveries}
