"""The histogram buckets of a duration (time to acknowledgement, to removal, to outcome), kept as counts per bucket
in DailyReferralStat so that a median or a 90th percentile over any period and filter is a SUM per bucket.

A percentile read from buckets is the upper bound of the bucket that holds the nearest-rank value: "at most
this long" (the true value lies between the previous bound and this one). The bounds follow what a unit speaks in
(minutes, hours, days); the last bucket is open (over 30 days).
"""

import math
from datetime import timedelta

# Upper bounds in minutes, inclusive. A duration <= 0 (the platform answered before our "sent" landed) is in the
# first bucket.
BOUNDS_MINUTES = (1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720, 960, 1440, 2160, 2880, 4320,
                  5760, 7200, 10080, 20160, 43200)
BOUNDS = tuple(timedelta(minutes=m) for m in BOUNDS_MINUTES)
BUCKETS = len(BOUNDS) + 1  # the last one: over the last bound

# The measured durations: the prefix of the stat's bucket columns (ack_b0 … ack_b26). `offline`: from receipt to the
# desk's own first offline verdict (liveness), beside the platform's claim (`removal`).
MEASURES = ("ack", "removal", "outcome", "offline")


def columns(measure: str) -> list[str]:
    return [f"{measure}_b{i}" for i in range(BUCKETS)]


def bucket_of(duration: timedelta) -> int:
    """The bucket a duration falls in (what the SQL aggregation computes, for tests and the raw benchmark)."""
    for i, bound in enumerate(BOUNDS):
        if duration <= bound:
            return i
    return len(BOUNDS)


def percentile(counts, p: float) -> int | None:
    """The bucket holding the nearest-rank p-th percentile (0 < p <= 1) of a histogram, or None when it is empty."""
    total = sum(counts)
    if not total:
        return None
    rank = max(1, math.ceil(p * total))
    seen = 0
    for i, n in enumerate(counts):
        seen += n
        if seen >= rank:
            return i
    return len(counts) - 1  # not reached: seen ends at total


def bound_label(bucket: int | None) -> str:
    """How a percentile's bucket reads: "≤ 2 h", "> 30 d", or "—" for none."""
    if bucket is None:
        return "—"
    if bucket >= len(BOUNDS):
        return f"> {_short(BOUNDS_MINUTES[-1])}"
    return f"≤ {_short(BOUNDS_MINUTES[bucket])}"


def bound_minutes(bucket: int | None) -> int | None:
    """The bucket's upper bound in minutes (None: empty or open-ended), for CSV and JSON."""
    if bucket is None or bucket >= len(BOUNDS):
        return None
    return BOUNDS_MINUTES[bucket]


def _short(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 2880 and minutes % 60 == 0:
        return f"{minutes // 60} h"
    if minutes < 1440:
        return f"{minutes / 60:g} h"
    return f"{minutes / 1440:g} d"
