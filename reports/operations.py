"""The operation board and report (a selector): per platform, the items of the operation's cases logged in its
period, and their referrals made in it: approved, sent, acknowledged, removed, verified offline, and the median time
from approval to removal (exact: an operation is thousands of referrals, not millions). Unit staff only."""

import math
import statistics

from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Q

from cases.models import Item
from core.roles import UNIT_STAFF, require_role
from referral.models import Referral, ReferralStatus
from reports.models import Operation
from reports.selectors import WHAT

COUNTS = ("logged", "approved", "sent", "acknowledged", "removed", "withdrawn")
# Sent, not withdrawn, and found offline by the desk's own checks (liveness); the time from receipt to that check.
VERIFIED = Q(sent_at__isnull=False, liveness__offline_at__isnull=False) & ~Q(status=ReferralStatus.WITHDRAWN)
TO_OFFLINE = ExpressionWrapper(F("liveness__offline_at") - F("sent_at"), output_field=DurationField())


def operations(actor):
    require_role(actor, UNIT_STAFF, WHAT)
    return Operation.objects.all()


def _referrals(operation: Operation):
    return Referral.objects.filter(item__case__in=operation.cases.all(), created_at__gte=operation.starts_at,
                                   created_at__lt=operation.ends_at)


def board(actor, operation: Operation) -> dict:
    """{"rows": [per platform, then "All platforms"], "headline": the report's first line}. Four queries."""
    require_role(actor, UNIT_STAFF, WHAT)
    cases = list(operation.cases.values_list("pk", flat=True))
    logged = dict(Item.objects.filter(case__in=cases, first_seen_at__gte=operation.starts_at,
                                      first_seen_at__lt=operation.ends_at, platform__isnull=False)
                  .values_list("platform__name").annotate(n=Count("id")).order_by())
    referrals = _referrals(operation)
    counted = {row["platform__name"]: row for row in referrals.values("platform__name").annotate(
        approved=Count("id"), sent=Count("id", filter=Q(sent_at__isnull=False)),
        acknowledged=Count("id", filter=Q(acknowledged_at__isnull=False)),
        removed=Count("id", filter=Q(status=ReferralStatus.REMOVED)),
        withdrawn=Count("id", filter=Q(status=ReferralStatus.WITHDRAWN)),
        verified=Count("id", filter=VERIFIED), slowest=Max(TO_OFFLINE, filter=VERIFIED)).order_by()}
    times: dict[str, list[float]] = {}
    for name, created, action in referrals.filter(status=ReferralStatus.REMOVED, action_taken_at__isnull=False) \
            .values_list("platform__name", "created_at", "action_taken_at"):
        times.setdefault(name, []).append((action - created).total_seconds())
    rows = []
    for name in sorted(set(logged) | set(counted)):
        row = {"platform": name, "logged": logged.get(name, 0),
               **{key: (counted.get(name) or {}).get(key, 0) for key in COUNTS[1:]}}
        row["median_approval_to_removal_minutes"] = _median_minutes(times.get(name, []))
        found = counted.get(name) or {}
        row["verified"], row["slowest_offline"] = found.get("verified", 0), found.get("slowest")
        row["verified_offline"] = row["verified"] / row["sent"] if row["sent"] else None
        rows.append(row)
    total = {"platform": "All platforms", **{key: sum(r[key] for r in rows) for key in COUNTS},
             "median_approval_to_removal_minutes": _median_minutes([t for ts in times.values() for t in ts]),
             "verified": sum(r["verified"] for r in rows),
             "slowest_offline": max((r["slowest_offline"] for r in rows if r["slowest_offline"]), default=None)}
    total["verified_offline"] = total["verified"] / total["sent"] if total["sent"] else None
    referred_to = sum(1 for row in rows if row["approved"])
    return {"rows": rows, "total": total, "headline": _headline(total, referred_to)}


def _median_minutes(seconds: list[float]) -> float | None:
    return round(statistics.median(seconds) / 60, 1) if seconds else None


def _headline(total: dict, platforms: int) -> str:
    offline, slowest = total["verified_offline"], total["slowest_offline"]
    if offline is None:
        verified = "none sent yet"
    elif slowest is None:
        verified = "0 % verified offline yet"
    else:
        hours = max(1, math.ceil(slowest.total_seconds() / 3600))
        verified = f"{offline * 100:.0f} % verified offline within {hours} hour{'s' if hours != 1 else ''}"
    return (f"{total['approved']} items referred to {platforms} platform{'s' if platforms != 1 else ''}; "
            f"{total['removed']} removed as the platforms claim; {verified}.")
