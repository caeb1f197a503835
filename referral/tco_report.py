"""The issuing authority's transparency report on removal orders for a period (TCO Regulation Art 8(1)): orders
issued; orders whose content was removed or disabled, and within the hour; orders not executed and why; the time
from the platform's receipt to its action; scrutiny requests and decisions (Art 4), complaints and reinstatements
(Art 10) as the platforms reported them (referral/actions/order_reports.py). Read from the orders and their
referrals in a few aggregate queries.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone

from core.errors import InvalidInput, NotPermitted
from core.roles import UNIT_STAFF, has_role
from referral.models import AWAITING_OUTCOME, ReferralStatus, RemovalOrder

EXECUTED = (ReferralStatus.REMOVED, ReferralStatus.RESTRICTED)
# Time from receipt to action, in these buckets (upper bounds; the last is open).
BUCKETS = [("≤ 15 min", timedelta(minutes=15)), ("≤ 30 min", timedelta(minutes=30)), ("≤ 1 h", timedelta(hours=1)),
           ("≤ 3 h", timedelta(hours=3)), ("≤ 24 h", timedelta(hours=24)), ("> 24 h", None)]


@dataclass
class Period:
    start: date
    end: date  # inclusive

    def bounds(self) -> tuple[datetime, datetime]:
        tz = timezone.get_current_timezone()
        return (datetime.combine(self.start, time.min, tzinfo=tz),
                datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz))


def parse_period(start: str | None, end: str | None) -> Period:
    """`from` and `to` as YYYY-MM-DD (both needed, `to` inclusive, at most ten years apart): InvalidInput else."""
    errors, values = {}, {}
    for name, raw in (("from", start), ("to", end)):
        try:
            values[name] = date.fromisoformat(raw or "")
        except ValueError:
            errors[name] = ["A date: YYYY-MM-DD."]
    if not errors and values["from"] > values["to"]:
        errors["to"] = ["Not before 'from'."]
    if not errors and (values["to"] - values["from"]).days > 3660:
        errors["to"] = ["At most ten years after 'from'."]
    if errors:
        raise InvalidInput("Give the report's period.", field_errors=errors)
    return Period(values["from"], values["to"])


def tco_report(user, period: Period) -> dict:
    """The Art 8 counts for orders issued in `period` (unit staff only)."""
    if not has_role(user, UNIT_STAFF):
        raise NotPermitted("Only the unit's staff read its transparency report.")
    start, end = period.bounds()
    orders = RemovalOrder.objects.filter(issued_at__gte=start, issued_at__lt=end)
    counts = orders.aggregate(
        issued=Count("pk"),
        emergency=Count("pk", filter=Q(emergency=True)),
        cross_border=Count("pk", filter=Q(copy_to_host_authority=True)),
        scrutiny_requests=Count("pk", filter=Q(scrutiny_requested_at__isnull=False)),
        scrutiny_decisions=Count("pk", filter=~Q(scrutiny_decision="")),
        scrutiny_infringements=Count("pk", filter=Q(scrutiny_decision="infringement")),
        complaints=Count("pk", filter=Q(complaint_received_at__isnull=False)),
        complaints_upheld=Count("pk", filter=Q(complaint_outcome="upheld")),
        reinstatements=Count("pk", filter=Q(reinstated_at__isnull=False)),
    )
    counts.update(_by_outcome(orders))
    not_executed = dict(orders.exclude(cannot_execute_reason="").values_list("cannot_execute_reason")
                        .annotate(n=Count("pk")).order_by())
    return {
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat()},
        **counts,
        "not_executed": {reason: not_executed.get(reason, 0)
                         for reason in ("force_majeure", "manifest_error", "insufficient_information")},
    }


def _by_outcome(orders) -> dict:
    """How the orders ended, from their URLs' referrals (one aggregate row per order): executed when every URL was
    removed or disabled (within the hour when each was by its due time), declined when any was, withdrawn when all
    were, awaiting when any still is; and each executed order's time from receipt to its last action, bucketed."""
    per_order = orders.annotate(
        n_urls=Count("referrals"),
        executed=Count("referrals", filter=Q(referrals__status__in=EXECUTED)),
        in_hour=Count("referrals", filter=Q(referrals__status__in=EXECUTED,
                                            referrals__action_taken_at__lte=F("referrals__due_at"))),
        declined=Count("referrals", filter=Q(referrals__status=ReferralStatus.DECLINED)),
        withdrawn=Count("referrals", filter=Q(referrals__status=ReferralStatus.WITHDRAWN)),
        awaiting=Count("referrals", filter=Q(referrals__status__in=AWAITING_OUTCOME)),
        received=Min("referrals__sent_at"), acted=Max("referrals__action_taken_at"),
    ).values_list("n_urls", "executed", "in_hour", "declined", "withdrawn", "awaiting", "received", "acted")
    out = {"executed": 0, "executed_within_hour": 0, "declined": 0, "withdrawn": 0, "awaiting": 0}
    buckets = dict.fromkeys((label for label, _ in BUCKETS), 0)
    for urls, executed, in_hour, declined, withdrawn, awaiting, received, acted in per_order:
        if urls and executed == urls:
            out["executed"] += 1
            out["executed_within_hour"] += in_hour == urls
            if received is not None and acted is not None:
                buckets[_bucket(acted - received)] += 1
        out["declined"] += declined > 0
        out["withdrawn"] += bool(urls) and withdrawn == urls
        out["awaiting"] += awaiting > 0
    out["time_from_receipt_to_action"] = [{"bucket": label, "orders": n} for label, n in buckets.items()]
    return out


def _bucket(delay: timedelta) -> str:
    return next(label for label, upper in BUCKETS if upper is None or delay <= upper)


def report_rows(report: dict) -> list[tuple[str, object]]:
    """The report as (measure, value) rows, for the page and the CSV."""
    rows = [("Orders issued", report["issued"]), ("  of which emergencies (Art 3(2))", report["emergency"]),
            ("  with a copy to the host Member State (Art 4)", report["cross_border"]),
            ("Content removed or disabled", report["executed"]),
            ("  within one hour of receipt", report["executed_within_hour"]),
            ("Declined", report["declined"]), ("Withdrawn by the unit", report["withdrawn"]),
            ("Awaiting the platform", report["awaiting"])]
    rows += [(f"Not executed: {reason.replace('_', ' ')}", n) for reason, n in report["not_executed"].items()]
    rows += [(f"Receipt to action {b['bucket']}", b["orders"]) for b in report["time_from_receipt_to_action"]]
    rows += [("Scrutiny requests (Art 4(3))", report["scrutiny_requests"]),
             ("Scrutiny decisions (Art 4(4))", report["scrutiny_decisions"]),
             ("  finding an infringement", report["scrutiny_infringements"]),
             ("Complaints of content providers (Art 10)", report["complaints"]),
             ("  upheld", report["complaints_upheld"]), ("Content reinstated", report["reinstatements"])]
    return rows
