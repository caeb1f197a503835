"""The messages the unit's actions queue for platforms and authorities besides new referrals: one delivery per
active contact point, in the caller's transaction (withdrawals, clarifications, the removal-order procedures, copies
of orders to the host Member State's authority). The callers check the actor's role; these only write."""

from datetime import timedelta

from alerts.models import Alert
from core.enqueue import send_task_on_commit
from platforms.models import ContactPoint, PlatformKind, PlatformLegal
from referral.models import DISPATCH_TASK, Delivery, DeliveryEvent, DeliveryStatus

# An event is due this long after a still-pending message of its referrals, so that it follows it. (A retry of that
# message can still come after the event: platforms ignore a referral they know as withdrawn, as the sandbox does.)
ORDER_GAP = timedelta(seconds=1)


def tell_platforms(referrals_by_platform: dict[int, list[int]], *, event: str, message: str, actor, now) -> list:
    """One delivery per active contact point of each platform, carrying that platform's referrals; returns the
    audit entries. A platform without an active contact point cannot be told: supervisors get an alert."""
    entries = []
    contact_points: dict[int, list[ContactPoint]] = {}
    for cp in (ContactPoint.objects.filter(platform_id__in=list(referrals_by_platform), active=True)
               .select_related("platform").order_by("id")):
        contact_points.setdefault(cp.platform_id, []).append(cp)
    through = Delivery.referrals.through
    links = []
    for platform_id, referral_ids in referrals_by_platform.items():
        if not contact_points.get(platform_id):
            Alert.objects.create(kind="event_undeliverable", message=(
                f"The platform of referral{'s' if len(referral_ids) > 1 else ''} "
                f"{', '.join(map(str, referral_ids[:20]))} has no active contact point: it was not told of "
                f"'{event}'. Tell it another way, or fix the contact point and withdraw again."))
            continue
        for cp in contact_points[platform_id]:
            # After the referrals' own message if that one has not gone yet (it may wait for its batch window).
            pending = list(Delivery.objects.filter(
                contact_point=cp, event=DeliveryEvent.CREATED, status=DeliveryStatus.PENDING,
                referrals__in=referral_ids).values_list("next_attempt_at", flat=True))
            due = max([now, *(at + ORDER_GAP for at in pending)])
            delivery = Delivery.objects.create(contact_point=cp, event=event, message=message, next_attempt_at=due)
            links += [through(delivery_id=delivery.pk, referral_id=r) for r in referral_ids]
            entries.append({"actor": actor, "verb": "delivery.queued", "object_type": "delivery",
                            "object_id": delivery.pk, "after": {"contact_point": cp.pk, "channel": cp.channel,
                                                                "event": event, "referrals": referral_ids}})
    through.objects.bulk_create(links)
    if entries:
        send_task_on_commit(DISPATCH_TASK)
    return entries


def send_order_copies(created: list, *, actor, now) -> list[dict]:
    """TCO Art 4(1): a copy of each new order whose platform is established in another Member State goes to that
    State's competent authority (a Platform of kind authority, by its legal directory's Member State), through its
    contact points, in the caller's transaction; its delivery records copy_sent_at. When the desk knows no such
    authority the order still goes, and supervisors are alerted that the copy is missing. Returns audit entries."""
    wanted: dict[str, list[int]] = {}
    for order in created:
        if order.copy_to_host_authority:
            wanted.setdefault(order.host_member_state, []).extend(order.referral_ids)
    if not wanted:
        return []
    authorities = dict(PlatformLegal.objects.filter(
        platform__kind=PlatformKind.AUTHORITY, platform__active=True, main_establishment__in=list(wanted),
        platform__contact_points__active=True).values_list("main_establishment", "platform_id").distinct())
    entries: list[dict] = []
    for state, referral_ids in wanted.items():
        if state not in authorities:
            Alert.objects.create(kind="order_copy_missing", message=(
                f"No competent authority of {state} is known with an active contact point: the copy of removal "
                f"order(s) for referral(s) {', '.join(map(str, referral_ids[:20]))} (TCO Art 4(1)) was not sent. "
                "Send it another way, or add the authority (a platform of kind authority)."))
            continue
        entries += tell_platforms({authorities[state]: referral_ids}, event=DeliveryEvent.ORDER_COPY,
                                  message=f"Copy of removal order(s) issued to a hosting service provider established "
                                          f"in {state} (Regulation (EU) 2021/784, Article 4(1)).",
                                  actor=actor, now=now)
    return entries
