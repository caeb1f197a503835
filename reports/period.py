"""The unit's period report (a selector): what was logged and referred between two days, inclusive, in UTC.

Items logged are counted on the items themselves (Item.first_seen_at); everything about referrals is summed from
DailyReferralStat (by the day the referral was made); the platforms' answers in the DSA's statement-of-reasons
vocabulary from the referrals that carry one (a partial index). Five queries, whatever the period. The reader's role is
checked here (unit staff only) as in every selector of the unit's numbers.
"""

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Q, Sum

from cases.models import Item
from core.roles import UNIT_STAFF, require_role
from referral.models import Instrument, Referral, ReferralStatus
from reports import buckets
from reports.categories import CATEGORY_COLUMNS, CATEGORY_LABELS
from reports.models import OTHER_COLUMN, STATUS_COLUMNS, DailyReferralStat
from reports.selectors import WHAT, Filters, stats_for

STATUS_LABELS = dict(ReferralStatus.choices)
INSTRUMENT_LABELS = dict(Instrument.choices)
# The per-platform and per-instrument rows: a total and each status.
ROW_SUMS = ("total", *STATUS_COLUMNS, OTHER_COLUMN)


def _times(sums: dict) -> dict:
    out = {}
    for measure in buckets.MEASURES:
        histogram = [sums[c] or 0 for c in buckets.columns(measure)]
        median, p90 = buckets.percentile(histogram, 0.5), buckets.percentile(histogram, 0.9)
        out[measure] = {"count": sum(histogram),
                        "median_minutes_at_most": buckets.bound_minutes(median), "median": buckets.bound_label(median),
                        "p90_minutes_at_most": buckets.bound_minutes(p90), "p90": buckets.bound_label(p90)}
    return out


GROUP_SUMS = ("total", "n_removed", "n_withdrawn")
PLATFORM_EXTRA = ("delivered", "ack_within_sla", "removed_within_sla", "verified_offline")


def _summed(rows: list[dict], columns) -> dict:
    return {key: sum(row[key] or 0 for row in rows) for key in columns}


def _statuses(row: dict) -> dict:
    return {column.removeprefix("n_"): row[column] or 0 for column in (*STATUS_COLUMNS, OTHER_COLUMN)}


def period_report(actor, date_from: date, date_to: date) -> dict:
    """Items logged, referrals made (per instrument, outcome, platform, category, group), withdrawn, and the times
    to acknowledgement, removal and outcome, of the referrals made from `date_from` to `date_to` inclusive."""
    require_role(actor, UNIT_STAFF, WHAT)
    stats = stats_for(Filters(date_from=date_from, date_to=date_to))
    low = datetime.combine(date_from, time.min, tzinfo=UTC)
    high = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=UTC)
    items_logged = Item.objects.filter(first_seen_at__gte=low, first_seen_at__lt=high).count()

    histograms = [c for measure in buckets.MEASURES for c in buckets.columns(measure)]
    # One pass over the rollup, per platform and instrument; the totals, instruments and platforms are summed here.
    columns = (*ROW_SUMS, *CATEGORY_COLUMNS, *histograms, *PLATFORM_EXTRA)
    cells = list(stats.values("platform", "platform__name", "instrument")
                 .annotate(**{key: Sum(key) for key in columns}).order_by())
    overall = _summed(cells, columns)
    instruments = [{"instrument": name, **_summed([c for c in cells if c["instrument"] == name], ROW_SUMS)}
                   for name in sorted({c["instrument"] for c in cells})]
    names = {c["platform"]: c["platform__name"] for c in cells}
    platforms = [{"platform": pk, "platform__name": names[pk],
                  **_summed([c for c in cells if c["platform"] == pk], (*ROW_SUMS, *PLATFORM_EXTRA))}
                 for pk in sorted(names, key=lambda pk: (names[pk], pk))]
    # Only the three sums it shows: read from the covering index (reports_stat_day_group_sums), not the wide rows.
    groups = (DailyReferralStat.objects.filter(day__gte=date_from, day__lte=date_to)
              .values("group", "group__name").annotate(**{key: Sum(key) for key in GROUP_SUMS})
              .order_by("group__name"))

    dsa = list(Referral.objects.filter(created_at__gte=low, created_at__lt=high)
               .filter(~Q(dsa_decision="") | ~Q(dsa_ground="")).values("dsa_decision", "dsa_ground")
               .annotate(n=Count("pk")).order_by())
    decisions, grounds = Counter(), Counter()
    for row in dsa:
        decisions[row["dsa_decision"]] += row["n"]
        grounds[row["dsa_ground"]] += row["n"]

    return {
        "from": date_from.isoformat(), "to": date_to.isoformat(),
        "items_logged": items_logged,
        "referrals": overall["total"] or 0,
        "withdrawn": overall["n_withdrawn"] or 0,
        "per_outcome": _statuses(overall),
        "per_instrument": [{"instrument": row["instrument"], "label": INSTRUMENT_LABELS.get(row["instrument"]),
                            "referrals": row["total"], **_statuses(row)} for row in instruments],
        "per_platform": [{"platform_id": row["platform"], "platform": row["platform__name"],
                          "referrals": row["total"], **_statuses(row), "delivered": row["delivered"],
                          "ack_within_sla": row["ack_within_sla"], "removed_within_sla": row["removed_within_sla"],
                          "verified_offline": row["verified_offline"]}
                         for row in platforms],
        "per_category": [{"category": column.removeprefix("cat_"), "label": CATEGORY_LABELS[column],
                          "referrals": overall[column] or 0} for column in CATEGORY_COLUMNS],
        "per_group": [{"group_id": row["group"], "group": row["group__name"] or "No group",
                       "referrals": row["total"], "removed": row["n_removed"], "withdrawn": row["n_withdrawn"]}
                      for row in groups],
        "times": _times(overall),
        # Of the referrals delivered, those the desk's own checks found offline (times: "offline").
        "verified_offline_rate": (overall["verified_offline"] or 0) / overall["delivered"] if overall["delivered"]
        else None,
        "verified_offline": overall["verified_offline"] or 0, "delivered": overall["delivered"] or 0,
        # What the platforms said they did, in the DSA's statement-of-reasons vocabulary, where they gave it.
        "dsa_answers": sum(row["n"] for row in dsa),
        "per_dsa_decision": [{"decision": name, "referrals": n} for name, n in sorted(decisions.items()) if name],
        "per_dsa_ground": [{"ground": name, "referrals": n} for name, n in sorted(grounds.items()) if name],
    }
