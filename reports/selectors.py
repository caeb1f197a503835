"""Reads of the unit's numbers: the dashboard's series and tables from DailyReferralStat, and what is true now
(overdue referrals, dead letters) from the live tables. Each checks the reader's role itself (unit staff only).

Each function costs one query, however long the period: the daily rows are summed in SQL.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import F, Q, Sum

from core.roles import UNIT_STAFF, require_role
from referral.models import Delivery, DeliveryStatus, Instrument, Referral
from reports import buckets
from reports.models import DailyPlatformStat, DailyReferralStat

WHAT = "reading the unit's numbers"
DEAD = (DeliveryStatus.FAILED, DeliveryStatus.STOPPED)

# The chart of referrals per day by outcome: its series, each the sum of some status columns.
OUTCOME_SERIES = (
    ("removed", "Removed", ("n_removed",)),
    ("restricted", "Restricted", ("n_restricted",)),
    ("declined", "Declined", ("n_declined",)),
    ("awaiting", "Awaiting an outcome", ("n_queued", "n_sent", "n_acknowledged", "n_needs_info")),
    ("failed", "Failed to deliver", ("n_failed",)),
    ("withdrawn", "Withdrawn", ("n_withdrawn",)),
    ("not_sent_offline", "Not sent: already offline", ("n_already_offline",)),
    ("other", "Other", ("n_other",)),  # a status the counts have no column of yet (reports/models.py)
)

# The per-platform table's summed columns (besides the histograms).
PLATFORM_SUMS = ("total", "n_withdrawn", "delivered", "acknowledged", "ack_within_sla", "n_removed",
                 "removed_within_sla", "orders_within_hour", "verified_offline")


@dataclass(frozen=True)
class Filters:
    date_from: date
    date_to: date  # inclusive
    platform_id: int | None = None
    case_id: int | None = None
    group_id: int | None = None
    instrument: str = ""

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def as_kwargs(self) -> dict:
        return {"platform_id": self.platform_id, "date_from": self.date_from, "date_to": self.date_to,
                "case_id": self.case_id, "group_id": self.group_id, "instrument": self.instrument}


def stats_for(filters: Filters):
    """The stat rows of the filters: per case and group when one is asked for, otherwise their sums per platform
    (a few dozen rows a day whatever the volume)."""
    model = DailyReferralStat if filters.case_id or filters.group_id else DailyPlatformStat
    qs = model.objects.filter(day__gte=filters.date_from, day__lte=filters.date_to)
    if filters.platform_id:
        qs = qs.filter(platform_id=filters.platform_id)
    if filters.case_id:
        qs = qs.filter(case_id=filters.case_id)
    if filters.group_id:
        qs = qs.filter(group_id=filters.group_id)
    if filters.instrument:
        qs = qs.filter(instrument=filters.instrument)
    return qs


def _sum_of(columns) -> Sum:
    expression = F(columns[0])
    for column in columns[1:]:
        expression = expression + F(column)
    return Sum(expression)


def referrals_per_day(actor, filters: Filters) -> list[dict]:
    """Every day of the period (none left out, zeros included) with its referrals per outcome series and total."""
    require_role(actor, UNIT_STAFF, WHAT)
    sums = {key: _sum_of(columns) for key, _, columns in OUTCOME_SERIES}
    found = {row["day"]: row for row in stats_for(filters).values("day").annotate(**sums).order_by("day")}
    rows = []
    for i in range(filters.days):
        day = filters.date_from + timedelta(days=i)
        row = {"day": day, **{key: (found.get(day, {}).get(key) or 0) for key, _, _ in OUTCOME_SERIES}}
        row["total"] = sum(row[key] for key, _, _ in OUTCOME_SERIES)
        rows.append(row)
    return rows


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _platform_row(name: str, sums: dict, filters: Filters, platform_id=None) -> dict:
    ack = [sums[c] or 0 for c in buckets.columns("ack")]
    removal = [sums[c] or 0 for c in buckets.columns("removal")]
    offline = [sums[c] or 0 for c in buckets.columns("offline")]
    delivered = sums["delivered"] or 0
    orders = sums["orders_delivered"] or 0
    return {
        "platform_id": platform_id, "platform": name,
        **{key: sums[key] or 0 for key in PLATFORM_SUMS}, "orders_delivered": orders,
        "ack_within_sla_share": _share(sums["ack_within_sla"] or 0, delivered),
        "removed_within_sla_share": _share(sums["removed_within_sla"] or 0, delivered),
        "orders_within_hour_share": _share(sums["orders_within_hour"] or 0, orders),
        "ack_median": buckets.percentile(ack, 0.5), "ack_p90": buckets.percentile(ack, 0.9),
        "removal_median": buckets.percentile(removal, 0.5), "removal_p90": buckets.percentile(removal, 0.9),
        "ack_histogram": ack, "removal_histogram": removal,
        # Measured by the desk's own checks: found offline, of those delivered; receipt to the first offline check.
        "verified_offline_rate": _share(sums["verified_offline"] or 0, delivered),
        "offline_median": buckets.percentile(offline, 0.5), "offline_histogram": offline,
    }


def per_platform(actor, filters: Filters) -> list[dict]:
    """A row per platform with referrals in the period, by name, then "All platforms" (the sums of the rows)."""
    require_role(actor, UNIT_STAFF, WHAT)
    histograms = buckets.columns("ack") + buckets.columns("removal") + buckets.columns("offline")
    # First: an annotation named like a column hides the column from the annotations after it.
    sums = {"orders_delivered": Sum("delivered", filter=Q(instrument=Instrument.REMOVAL_ORDER))}
    sums |= {key: Sum(key) for key in (*PLATFORM_SUMS, *histograms)}
    grouped = list(stats_for(filters).values("platform", "platform__name").annotate(**sums)
                   .order_by("platform__name"))
    rows = [_platform_row(row["platform__name"], row, filters, platform_id=row["platform"]) for row in grouped]
    if grouped:
        total = {key: sum(row[key] or 0 for row in grouped) for key in sums}
        rows.append(_platform_row("All platforms", total, filters))
    return rows


def _live_referrals(filters: Filters):
    qs = Referral.objects.all()
    if filters.platform_id:
        qs = qs.filter(platform_id=filters.platform_id)
    if filters.case_id:
        qs = qs.filter(item__case_id=filters.case_id)
    if filters.group_id:
        qs = qs.filter(item__group_id=filters.group_id)
    if filters.instrument:
        qs = qs.filter(instrument=filters.instrument)
    return qs


def overdue_now(actor, filters: Filters) -> int:
    """Referrals past their due time without an outcome now (Referral.objects.overdue), whatever the period."""
    require_role(actor, UNIT_STAFF, WHAT)
    return _live_referrals(filters).overdue().count()


def dead_letters_now(actor, filters: Filters) -> int:
    """Deliveries failed or stopped now (the Dead letters page), carrying a referral that matches the filters."""
    require_role(actor, UNIT_STAFF, WHAT)
    qs = Delivery.objects.filter(status__in=DEAD)
    if filters.platform_id:
        qs = qs.filter(contact_point__platform_id=filters.platform_id)
    if filters.case_id or filters.group_id or filters.instrument:
        qs = qs.filter(referrals__in=_live_referrals(filters)).distinct()
    return qs.count()
