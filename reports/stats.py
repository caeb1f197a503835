"""Keeping DailyReferralStat and its sums per platform (DailyPlatformStat) current: the beat task `reports.refresh`
recomputes the days touched since its last run, `manage.py rebuild_stats` every day. Each day is recomputed whole
(its rows deleted, then one INSERT … SELECT of its aggregation and one of its sums), so running either twice, or
both at once, gives the same rows.

Which days changed: the days (of Referral.created_at) of the referrals whose `updated_at` is past the watermark,
less OVERLAP: `updated_at` is stamped before its transaction commits, so a change committed a little after a run
began is read again by the next run. The watermark row is locked for the run: two refreshes never interleave.
"""

from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Min, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from cases.models import Category
from core.db import JSONArrayContains
from liveness.models import LivenessState
from referral.models import Instrument, Referral, ReferralStatus
from reports.buckets import BOUNDS, BUCKETS
from reports.categories import CATEGORY_COLUMNS
from reports.models import (
    COUNT_COLUMNS,
    OTHER_COLUMN,
    STATUS_COLUMNS,
    DailyPlatformStat,
    DailyReferralStat,
    StatsWatermark,
)

R = ReferralStatus
OVERLAP = timedelta(minutes=5)
# Statuses with a final outcome: the "time to outcome" histogram.
FINAL = (R.REMOVED, R.RESTRICTED, R.DECLINED)
# How many days one INSERT … SELECT recomputes (a rebuild goes through the year in such slices).
DAYS_PER_STATEMENT = 31

_NOT_WITHDRAWN = ~Q(status=R.WITHDRAWN)
# What each histogram measures, from sent_at, and which referrals it counts.
_DURATIONS = {
    "ack": ("acknowledged_at", Q(acknowledged_at__isnull=False)),
    "removal": ("action_taken_at", Q(status=R.REMOVED, action_taken_at__isnull=False)),
    "outcome": ("outcome_at", Q(status__in=FINAL, outcome_at__isnull=False)),
    # Measured by the desk: the first check that found the content offline (liveness/recording.py).
    "offline": ("liveness__offline_at", Q(liveness__offline_at__isnull=False)),
}


def _histogram(measure: str) -> dict:
    _, counted = _DURATIONS[measure]
    base = counted & _NOT_WITHDRAWN & Q(sent_at__isnull=False)
    name = f"{measure}_time"
    out = {}
    for i in range(BUCKETS):
        if i == 0:
            within = Q(**{f"{name}__lte": BOUNDS[0]})
        elif i < len(BOUNDS):
            within = Q(**{f"{name}__gt": BOUNDS[i - 1], f"{name}__lte": BOUNDS[i]})
        else:
            within = Q(**{f"{name}__gt": BOUNDS[-1]})
        out[f"{measure}_b{i}"] = Count("id", filter=base & within)
    return out


def _aggregates() -> dict:
    """The stat's counts, as aggregates of a referral queryset (the names are DailyReferralStat's columns)."""
    counts = {"total": Count("id")}
    known = [column.removeprefix("n_") for column in STATUS_COLUMNS]
    counts |= {column: Count("id", filter=Q(status=status)) for column, status in zip(STATUS_COLUMNS, known,
                                                                                       strict=True)}
    counts[OTHER_COLUMN] = Count("id", filter=~Q(status__in=known))
    counts |= {
        "delivered": Count("id", filter=_NOT_WITHDRAWN & Q(sent_at__isnull=False)),
        "acknowledged": Count("id", filter=_NOT_WITHDRAWN & Q(acknowledged_at__isnull=False)),
        "ack_within_sla": Count("id", filter=_NOT_WITHDRAWN & Q(acknowledged_at__isnull=False, due_at__isnull=False,
                                                                acknowledged_at__lte=F("due_at"))),
        "removed_within_sla": Count("id", filter=Q(status=R.REMOVED, action_taken_at__isnull=False,
                                                   due_at__isnull=False, action_taken_at__lte=F("due_at"))),
        "verified_offline": Count("id", filter=_NOT_WITHDRAWN & Q(sent_at__isnull=False,
                                                                  liveness__offline_at__isnull=False)),
        "orders_within_hour": Count("id", filter=Q(status=R.REMOVED, instrument=Instrument.REMOVAL_ORDER,
                                                   sent_at__isnull=False, action_taken_at__isnull=False,
                                                   removal_time__lte=timedelta(hours=1))),
    }
    # In a Q: Count compiles a bare expression filter with its generic as_sql, a Q through its vendor form (SQLite).
    counts |= {column: Count("id", filter=Q(JSONArrayContains("item__categories", value)))
               for column, value in zip(CATEGORY_COLUMNS, Category.values, strict=True)}
    for measure in _DURATIONS:
        counts |= _histogram(measure)
    return counts


def aggregation(referrals):
    """The grouped SELECT behind DailyReferralStat over `referrals` (withdrawn ones counted only in their own
    columns and the total)."""
    durations = {f"{measure}_time": ExpressionWrapper(F(end) - F("sent_at"), output_field=DurationField())
                 for measure, (end, _) in _DURATIONS.items()}
    return (referrals.alias(**durations)
            .values("platform", "instrument", day=TruncDate("created_at"), case=F("item__case"),
                    group=F("item__group"))
            .annotate(**_aggregates()).order_by())


def _day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    return (datetime.combine(first, time.min, tzinfo=UTC), datetime.combine(last + timedelta(days=1), time.min,
                                                                            tzinfo=UTC))


def _insert_select(queryset) -> None:
    """INSERT INTO the stat table the rows of `aggregation(...)`, in one statement (the columns in the order the
    compiled SELECT has them, as Django's values_list reads them)."""
    query = queryset.query
    names = [*query.extra_select, *query.values_select, *query.annotation_select]
    meta = DailyReferralStat._meta
    column = {"platform": "platform_id", "case": "case_id", "group": "group_id"}
    columns = ", ".join(connection.ops.quote_name(meta.get_field(column.get(n, n)).column) for n in names)
    sql, params = query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) {sql}", params)  # noqa: S608


def recompute_days(days) -> int:
    """Replace the stat rows of `days` (dates, UTC) by their aggregation now; returns how many days. Call inside a
    transaction: a reader sees the old rows or the new ones, never neither."""
    days = sorted(set(days))
    for start in range(0, len(days), DAYS_PER_STATEMENT):
        chunk = days[start:start + DAYS_PER_STATEMENT]
        DailyReferralStat.objects.filter(day__in=chunk).delete()
        low, high = _day_bounds(chunk[0], chunk[-1])
        referrals = Referral.objects.filter(created_at__gte=low, created_at__lt=high)
        if len(chunk) < (chunk[-1] - chunk[0]).days + 1:  # not contiguous: only the days asked for
            referrals = referrals.annotate(created_day=TruncDate("created_at")).filter(created_day__in=chunk)
        _insert_select(aggregation(referrals))
        _roll_up(chunk)
    return len(days)


def _roll_up(days: list) -> None:
    """DailyPlatformStat's rows of `days`: DailyReferralStat's summed over cases and groups (one statement)."""
    DailyPlatformStat.objects.filter(day__in=days).delete()
    q = connection.ops.quote_name
    fine, rollup = DailyReferralStat._meta, DailyPlatformStat._meta
    counts = [fine.get_field(name).column for name in COUNT_COLUMNS]
    keys = ["day", "platform_id", "instrument"]
    placeholders = ", ".join(["%s"] * len(days))
    sql = (f"INSERT INTO {q(rollup.db_table)} ({', '.join(q(c) for c in keys + counts)}) "  # noqa: S608
           f"SELECT {', '.join(q(c) for c in keys)}, {', '.join(f'SUM({q(c)})' for c in counts)} "
           f"FROM {q(fine.db_table)} WHERE day IN ({placeholders}) GROUP BY {', '.join(q(c) for c in keys)}")
    with connection.cursor() as cursor:
        cursor.execute(sql, days)


def _watermark():
    watermark, _ = StatsWatermark.objects.get_or_create(pk=1)
    return StatsWatermark.objects.select_for_update().get(pk=watermark.pk)


def refresh() -> int:
    """Recompute the days of the referrals changed since the last run (all days on the first run); returns how many
    days were recomputed. Safe to run twice, and concurrently (the second waits for the first)."""
    with transaction.atomic():
        watermark = _watermark()
        now = timezone.now()
        if watermark.refreshed_through is None:
            count = _rebuild_locked()
        else:
            since = watermark.refreshed_through - OVERLAP
            days = (Referral.objects.filter(updated_at__gt=since)
                    .annotate(created_day=TruncDate("created_at")).values_list("created_day", flat=True)
                    .distinct().order_by())
            # The desk's checks change no referral row: content found offline since is looked up on its own.
            offline_days = (LivenessState.objects.filter(offline_at__gt=since)
                            .annotate(created_day=TruncDate("referral__created_at"))
                            .values_list("created_day", flat=True).distinct().order_by())
            count = recompute_days({*days, *offline_days})
        watermark.refreshed_through = now
        watermark.save(update_fields=["refreshed_through"])
    return count


def _rebuild_locked() -> int:
    DailyReferralStat.objects.all().delete()
    DailyPlatformStat.objects.all().delete()
    span = Referral.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    if span["first"] is None:
        return 0
    first, last = span["first"].astimezone(UTC).date(), span["last"].astimezone(UTC).date()
    return recompute_days([first + timedelta(days=i) for i in range((last - first).days + 1)])


def rebuild() -> int:
    """Recompute every day from scratch (`manage.py rebuild_stats`); returns how many days."""
    with transaction.atomic():
        watermark = _watermark()
        now = timezone.now()
        count = _rebuild_locked()
        watermark.refreshed_through = now
        watermark.rebuilt_at = now
        watermark.save(update_fields=["refreshed_through", "rebuilt_at"])
    return count
