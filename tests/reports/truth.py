"""The numbers as plain SQL over the referral, item and delivery tables: what the dashboard and the report must
equal."""

import math
from datetime import UTC, datetime, time, timedelta

from django.db import connection

from reports.buckets import bucket_of


def rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def bounds(date_from, date_to):
    return (datetime.combine(date_from, time.min, tzinfo=UTC),
            datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=UTC))


def per_day_status(date_from, date_to, platform_id=None) -> dict:
    sql = ("SELECT (created_at AT TIME ZONE 'UTC')::date, status, count(*) FROM referral_referral "
           "WHERE created_at >= %s AND created_at < %s AND (%s::bigint IS NULL OR platform_id = %s) GROUP BY 1, 2")
    return {(day, status): n for day, status, n in rows(sql, (*bounds(date_from, date_to), platform_id,
                                                               platform_id))}


def per_platform(date_from, date_to) -> dict:
    sql = """
        SELECT p.name, count(*),
               count(*) FILTER (WHERE r.status = 'withdrawn'),
               count(*) FILTER (WHERE r.status <> 'withdrawn' AND r.sent_at IS NOT NULL),
               count(*) FILTER (WHERE r.status <> 'withdrawn' AND r.acknowledged_at <= r.due_at),
               count(*) FILTER (WHERE r.status = 'removed' AND r.action_taken_at <= r.due_at),
               count(*) FILTER (WHERE r.instrument = 'removal_order' AND r.status <> 'withdrawn'
                                AND r.sent_at IS NOT NULL),
               count(*) FILTER (WHERE r.instrument = 'removal_order' AND r.status = 'removed'
                                AND r.action_taken_at - r.sent_at <= interval '1 hour')
        FROM referral_referral r JOIN platforms_platform p ON p.id = r.platform_id
        WHERE r.created_at >= %s AND r.created_at < %s GROUP BY p.name"""
    keys = ("total", "n_withdrawn", "delivered", "ack_within_sla", "removed_within_sla", "orders_delivered",
            "orders_within_hour")
    return {name: dict(zip(keys, values, strict=True)) for name, *values in rows(sql, bounds(date_from, date_to))}


def durations(date_from, date_to, platform_name, end: str, condition: str) -> list[float]:
    sql = (f"SELECT extract(epoch FROM r.{end} - r.sent_at) FROM referral_referral r "  # noqa: S608 (test constants)
           "JOIN platforms_platform p ON p.id = r.platform_id WHERE r.created_at >= %s AND r.created_at < %s "
           f"AND p.name = %s AND r.sent_at IS NOT NULL AND r.{end} IS NOT NULL AND r.status <> 'withdrawn' "
           f"AND {condition}")
    return [float(value) for (value,) in rows(sql, (*bounds(date_from, date_to), platform_name))]


def percentile_bucket(seconds: list[float], p: float) -> int | None:
    """The bucket of the exact nearest-rank percentile."""
    if not seconds:
        return None
    ordered = sorted(seconds)
    return bucket_of(timedelta(seconds=ordered[max(1, math.ceil(p * len(ordered))) - 1]))
