"""Art 5(4) of Regulation (EU) 2021/784: a platform that received two or more final removal orders in the last
twelve months is "exposed to terrorist content" and must take specific measures; the unit sees it on the platform.

An order counts as final here once the host Member State's 72 hours of scrutiny (Art 4(4)) have passed since it
was issued without a finding of infringement, and it was not withdrawn or lapsed. Counted per platform by beat's
`referral.refresh_exposure` (hourly) into its legal directory (platforms.PlatformLegal): `final_orders_12_months`
and `exposed_since` (when it became exposed; cleared when it no longer is). Each change of exposure is audited.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from audit import chain as audit
from platforms.models import PlatformLegal
from referral.models import Referral, ReferralStatus, RemovalOrder

EXPOSED_AT = 2  # final orders within the window
WINDOW = timedelta(days=365)
SCRUTINY = timedelta(hours=72)


def final_orders_by_platform(now=None) -> dict[int, int]:
    now = now or timezone.now()
    rows = (RemovalOrder.objects.filter(issued_at__gte=now - WINDOW, issued_at__lte=now - SCRUTINY)
            .exclude(scrutiny_decision="infringement")
            .exclude(~Exists(Referral.objects.filter(order=OuterRef("pk")).exclude(status=ReferralStatus.WITHDRAWN)))
            .values_list("platform_id").annotate(n=Count("pk")).order_by())
    return dict(rows)


def refresh_exposure(now=None) -> int:
    """Recount every platform's final orders; returns how many platforms' exposure changed (each audited)."""
    now = now or timezone.now()
    counts = final_orders_by_platform(now)
    changed = 0
    with transaction.atomic():
        legals = list(PlatformLegal.objects.select_for_update().filter(platform_id__in=set(counts))
                      | PlatformLegal.objects.select_for_update().filter(final_orders_12_months__gt=0))
        events = []
        for legal in sorted({legal.pk: legal for legal in legals}.values(), key=lambda legal: legal.pk):
            count = counts.get(legal.platform_id, 0)
            exposed = count >= EXPOSED_AT
            was_exposed = legal.exposed_since is not None
            if count == legal.final_orders_12_months and exposed == was_exposed:
                continue
            legal.final_orders_12_months = count
            if exposed != was_exposed:
                legal.exposed_since = now if exposed else None
                changed += 1
                events.append({"actor": None, "verb": "platform.exposed" if exposed else "platform.no_longer_exposed",
                               "object_type": "platform", "object_id": legal.platform_id,
                               "after": {"final_orders_12_months": count}})
            legal.save(update_fields=["final_orders_12_months", "exposed_since"])
        if events:
            audit.record_many(events)
    return changed
