"""Dashboard and period report benchmark: BENCH_REFERRALS referrals (default 1,000,000) made over one year, each on an
item of its own, loaded with COPY into a fresh PostgreSQL database (VACUUM ANALYZE after, as autovacuum would),
DailyReferralStat built by `rebuild_stats` (timed), then, in the same run and alternating so CPU drift hits both
alike:

- the dashboard's selectors (per day by outcome; per platform, with the verified offline rate and time to offline
  from the desk's own checks, 90 % of delivered referrals carrying a LivenessState; overdue now; dead letters now)
  and the whole page through its view and templates (Django's test Client, signed in, DEBUG off), for a year, a
  month, and a year filtered by platform, case, group and instrument;
- the period report for a year (its selector, and GET /api/v1/reports/referrals/);
- beside each, the same numbers computed by raw SQL straight from the referral table (no pre-aggregation: what the
  desk would cost without DailyReferralStat), and the selector's own captured SQL replayed on the bare cursor;
- the beat task's refresh after 1,000 referrals of one day changed.

Run: make bench-dashboard   (env: BENCH_DATABASE_URL, BENCH_REFERRALS, BENCH_REQUESTS, BENCH_REUSE=1 keeps the
database and loads it only when new). It creates and drops its own database; it talks only to 127.0.0.1.
Target (issue 11): dashboard and report for a year at 1,000,000 referrals under 500 ms.
"""

import io
import json
import os
import platform
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))
from bench.sessions import signed_in_client  # noqa: E402
from bench.support import UNTHROTTLED, drop_database, recreate_database  # noqa: E402

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres:postgres@127.0.0.1:5432/dashboard_bench")
R = int(os.environ.get("BENCH_REFERRALS", "1000000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "20"))
REUSE = os.environ.get("BENCH_REUSE") == "1"
PLATFORMS, CASES = 25, 120
YEAR_START = date(2025, 1, 1)
os.environ.update({"DATABASE_URL": DB_URL, "SECRET_KEY": "bench-only", "ALLOWED_HOSTS": "testserver,localhost",
                   "LOG_LEVEL": "WARNING", "CELERY_BROKER_URL": "memory://", "DEBUG": "false",
                   "STATIC_MANIFEST": "0", **UNTHROTTLED})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

STATUSES = [("queued", 1), ("sent", 6), ("acknowledged", 8), ("removed", 55), ("restricted", 6), ("declined", 12),
            ("needs_info", 3), ("failed", 2), ("withdrawn", 3)]
CATEGORIES = ["incitement", "solicitation", "participation", "instruction", "threat"]
NULL = r"\N"


def _fill(cursor, table: str, columns: tuple) -> tuple[tuple, list[str]]:
    """Columns other apps added that are NOT NULL without a database default (Django keeps defaults in Python):
    their names and a neutral value each, so the COPY below keeps working as the models grow."""
    cursor.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s "
                   "AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO' "
                   "AND is_generated = 'NEVER'", [table])
    neutral = {"boolean": "f", "jsonb": "[]", "integer": "0", "bigint": "0", "smallint": "0",
               "timestamp with time zone": "2025-01-01 00:00:00+00", "date": "2025-01-01"}
    extra = [(name, neutral.get(kind, "")) for name, kind in cursor.fetchall() if name not in columns]
    return tuple(name for name, _ in extra), [value for _, value in extra]


def _ts(moment: datetime | None) -> str:
    return NULL if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S+00")


LIVE_COLS = ("referral_id", "state", "checks", "checked_at", "offline_at", "consecutive_offline", "reappeared",
             "finished", "created_at")


def load(connection, *, platform_ids, case_ids, group_ids, user_id) -> float:
    """COPY R items and R referrals (item i ↔ referral i) spread over the year, cases active two months each,
    platforms and groups skewed, statuses and answer times varied. Returns seconds."""
    rng = random.Random(11)
    population = [s for s, weight in STATUSES for _ in range(weight)]
    item_cols = ("case_id", "url", "canonical_url", "platform_id", "kind", "categories", "language", "notes",
                 "status", "logged_by_id", "decision_reason", "group_id", "priority", "threat_to_life",
                 "hold_reason", "hold_requested_by", "held_from_status", "first_seen_at", "updated_at")
    ref_cols = ("item_id", "platform_id", "instrument", "status", "due_at", "sent_at", "acknowledged_at", "outcome_at",
                "action_taken_at", "platform_reference", "note", "approved_by_id", "created_at", "updated_at")
    t0 = time.perf_counter()
    chunk = 100_000
    with connection.cursor() as cursor:
        raw = cursor.cursor
        item_extra, item_extra_values = _fill(cursor, "cases_item", item_cols)
        ref_extra, ref_extra_values = _fill(cursor, "referral_referral", ref_cols)
        live_extra, live_extra_values = _fill(cursor, "liveness_livenessstate", LIVE_COLS)
        for start in range(0, R, chunk):
            items, refs, lives = io.StringIO(), io.StringIO(), io.StringIO()
            for n in range(start, min(R, start + chunk)):
                day = n * 365 // R
                created = datetime.combine(YEAR_START + timedelta(days=day), datetime.min.time(), tzinfo=UTC) + \
                    timedelta(seconds=rng.randint(0, 86399))
                logged = created - timedelta(hours=rng.randint(1, 48))
                case = case_ids[min(len(case_ids) - 1, day * len(case_ids) // 365 + rng.randint(0, 3))]
                plat = platform_ids[min(int(rng.paretovariate(1.2)) - 1, len(platform_ids) - 1)]
                group = str(group_ids[min(int(rng.paretovariate(1.0)) - 1, len(group_ids) - 1)]) \
                    if rng.random() < 0.6 else NULL
                url = f"https://p{plat}.example/v/{n}"
                items.write("\t".join([str(case), url, url, str(plat), "post",
                                       json.dumps(rng.sample(CATEGORIES, rng.randint(1, 2))), "en", "", "approved",
                                       str(user_id), "", group, "5", "f", "", "", "", _ts(logged), _ts(created),
                                       *item_extra_values]) + "\n")
                status = rng.choice(population)
                order = rng.random() < 0.15
                sent = None if status in ("queued", "failed") else created + timedelta(seconds=rng.randint(5, 900))
                due = (sent or created) + (timedelta(hours=1) if order else timedelta(hours=72))
                ack = outcome = action = None
                if sent and status not in ("sent",):
                    ack = sent + timedelta(minutes=rng.lognormvariate(4.5 if not order else 2.5, 1.0))
                    if status in ("removed", "restricted", "declined", "needs_info"):
                        outcome = ack + timedelta(minutes=rng.lognormvariate(6.0 if not order else 3.0, 1.2))
                        action = outcome if status in ("removed", "restricted") else None
                    if status == "withdrawn":
                        ack = None
                refs.write("\t".join([str(n + 1), str(plat), "removal_order" if order else "referral", status,
                                      _ts(due), _ts(sent), _ts(ack), _ts(outcome), _ts(action),
                                      f"T-{n}" if ack else "", "", str(user_id), _ts(created),
                                      _ts(outcome or ack or sent or created), *ref_extra_values]) + "\n")
                if sent and rng.random() < 0.9:  # the desk's own checks (liveness): most content it referred
                    gone = rng.random() < {"removed": 0.9, "restricted": 0.5}.get(status, 0.1)
                    offline = sent + timedelta(minutes=rng.lognormvariate(5.0, 1.3)) if gone else None
                    checked = offline or sent + timedelta(hours=24)
                    lives.write("\t".join([str(n + 1), "offline" if gone else "online", "3", _ts(checked),
                                           _ts(offline), "1" if gone else "0", "f", "f", _ts(checked),
                                           *live_extra_values]) + "\n")
            items.seek(0)
            refs.seek(0)
            lives.seek(0)
            raw.copy_expert(f"COPY cases_item ({', '.join(item_cols + item_extra)}) FROM STDIN", items)
            raw.copy_expert(f"COPY referral_referral ({', '.join(ref_cols + ref_extra)}) FROM STDIN", refs)
            raw.copy_expert(f"COPY liveness_livenessstate ({', '.join(LIVE_COLS + live_extra)}) FROM STDIN", lives)
    return time.perf_counter() - t0


# The same numbers straight from the referral table: what the dashboard would cost without DailyReferralStat.
RAW_PER_DAY = """
SELECT (r.created_at AT TIME ZONE 'UTC')::date AS day, r.status, count(*) FROM referral_referral r
JOIN cases_item i ON i.id = r.item_id
WHERE r.created_at >= %(low)s AND r.created_at < %(high)s {where} GROUP BY 1, 2"""
RAW_PER_PLATFORM = """
SELECT r.platform_id, count(*), count(*) FILTER (WHERE r.status = 'withdrawn'),
  count(*) FILTER (WHERE r.status <> 'withdrawn' AND r.sent_at IS NOT NULL),
  count(*) FILTER (WHERE r.status <> 'withdrawn' AND r.acknowledged_at <= r.due_at),
  count(*) FILTER (WHERE r.status = 'removed' AND r.action_taken_at <= r.due_at),
  count(*) FILTER (WHERE r.instrument = 'removal_order' AND r.status = 'removed'
                   AND r.action_taken_at - r.sent_at <= interval '1 hour'),
  percentile_disc(0.5) WITHIN GROUP (ORDER BY r.acknowledged_at - r.sent_at)
    FILTER (WHERE r.status <> 'withdrawn' AND r.acknowledged_at IS NOT NULL AND r.sent_at IS NOT NULL),
  percentile_disc(0.9) WITHIN GROUP (ORDER BY r.acknowledged_at - r.sent_at)
    FILTER (WHERE r.status <> 'withdrawn' AND r.acknowledged_at IS NOT NULL AND r.sent_at IS NOT NULL),
  percentile_disc(0.5) WITHIN GROUP (ORDER BY r.action_taken_at - r.sent_at)
    FILTER (WHERE r.status = 'removed' AND r.action_taken_at IS NOT NULL AND r.sent_at IS NOT NULL),
  percentile_disc(0.9) WITHIN GROUP (ORDER BY r.action_taken_at - r.sent_at)
    FILTER (WHERE r.status = 'removed' AND r.action_taken_at IS NOT NULL AND r.sent_at IS NOT NULL),
  count(*) FILTER (WHERE r.status <> 'withdrawn' AND r.sent_at IS NOT NULL AND l.offline_at IS NOT NULL),
  percentile_disc(0.5) WITHIN GROUP (ORDER BY l.offline_at - r.sent_at)
    FILTER (WHERE r.status <> 'withdrawn' AND r.sent_at IS NOT NULL AND l.offline_at IS NOT NULL)
FROM referral_referral r JOIN cases_item i ON i.id = r.item_id
LEFT JOIN liveness_livenessstate l ON l.referral_id = r.id
WHERE r.created_at >= %(low)s AND r.created_at < %(high)s {where} GROUP BY 1"""


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def ms(values) -> str:
    return f"{pct(values, 50) * 1000:8.1f} {pct(values, 95) * 1000:8.1f}"


def main() -> None:  # noqa: PLR0915  (one script, top to bottom)
    fresh = True
    if REUSE:
        import psycopg2

        try:
            psycopg2.connect(DB_URL.replace("postgres://", "postgresql://")).close()
            fresh = False
        except psycopg2.OperationalError:
            fresh = True
    if fresh:
        recreate_database(DB_URL)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from accounts import services as account_services
    from accounts.models import User
    from cases.models import Case, Group
    from platforms import services as platform_services
    from referral.models import Referral
    from reports import selectors, stats
    from reports.period import period_report
    from reports.selectors import Filters

    call_command("migrate", verbosity=0)
    load_s = rebuild_s = None
    if fresh:
        call_command("seed_groups", verbosity=0)
        boss = account_services.user_create(actor=None, username="supervisor", role="supervisor")
        platform_ids = [platform_services.platform_create(actor=None, slug=f"p{n}", name=f"Platform {n:02d}",
                                                          domains=[f"p{n}.example"], contact_points=[]).pk
                        for n in range(PLATFORMS)]
        case_ids = [c.pk for c in Case.objects.bulk_create(
            [Case(title=f"Case {n}", created_by=boss) for n in range(CASES)])]
        group_ids = list(Group.objects.order_by("pk").values_list("pk", flat=True))
        with transaction.atomic():
            load_s = load(connection, platform_ids=platform_ids, case_ids=case_ids, group_ids=group_ids,
                          user_id=boss.pk)
        # Autovacuum's steady state: statistics, and the visibility map that lets "overdue now" count from its
        # index alone (a fresh COPY has none, so every count would visit the table).
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE cases_item")
            cursor.execute("VACUUM ANALYZE referral_referral")
            cursor.execute("VACUUM ANALYZE liveness_livenessstate")
        load_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        stats.rebuild()
        rebuild_s = time.perf_counter() - t0
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE reports_dailyreferralstat")
            cursor.execute("VACUUM ANALYZE reports_dailyplatformstat")
    boss = User.objects.get(username="supervisor")
    stat_rows = stats.DailyReferralStat.objects.count()
    busiest_platform = Referral.objects.values_list("platform_id", flat=True).order_by("id").first()
    a_case = Case.objects.order_by("id").values_list("id", flat=True)[CASES // 2]
    a_group = Group.objects.order_by("id").values_list("id", flat=True).first()
    year = Filters(date_from=YEAR_START, date_to=YEAR_START + timedelta(days=364))
    month = Filters(date_from=YEAR_START + timedelta(days=150), date_to=YEAR_START + timedelta(days=180))
    cases = [
        ("a year", year, ""),
        ("a month", month, ""),
        ("a year, one platform", Filters(**{**year.__dict__, "platform_id": busiest_platform}),
         "AND r.platform_id = %(platform)s"),
        ("a year, one case", Filters(**{**year.__dict__, "case_id": a_case}), "AND i.case_id = %(case)s"),
        ("a year, one group, orders", Filters(**{**year.__dict__, "group_id": a_group, "instrument": "removal_order"}),
         "AND i.group_id = %(group)s AND r.instrument = 'removal_order'"),
    ]
    client = signed_in_client(boss)  # a supervisor: past the second factor
    raw = connection.connection

    def dashboard_selectors(filters):
        selectors.referrals_per_day(boss, filters)
        selectors.per_platform(boss, filters)
        selectors.overdue_now(boss, filters)
        selectors.dead_letters_now(boss, filters)

    def query_of(f: Filters) -> str:
        q = f"from={f.date_from}&to={f.date_to}"
        for key, value in (("platform", f.platform_id), ("case", f.case_id), ("group", f.group_id),
                           ("instrument", f.instrument)):
            if value:
                q += f"&{key}={value}"
        return q

    def replay(captured):
        with raw.cursor() as cur:
            for sql, params in captured:
                cur.execute(sql, params)
                cur.fetchall()

    rows = []
    for label, filters, where in cases:
        low = datetime.combine(filters.date_from, datetime.min.time(), tzinfo=UTC)
        high = datetime.combine(filters.date_to + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        params = {"low": low, "high": high, "platform": filters.platform_id, "case": filters.case_id,
                  "group": filters.group_id}
        with CaptureQueriesContext(connection) as ctx:
            dashboard_selectors(filters)
        captured = [(q["sql"], None) for q in ctx.captured_queries]
        path = f"/dashboard/?{query_of(filters)}"
        assert client.get(path).status_code == 200
        sel_t, page_t, replay_t, raw_t = [], [], [], []
        for _ in range(REQUESTS):
            t0 = time.perf_counter()
            dashboard_selectors(filters)
            sel_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            client.get(path)
            page_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            replay(captured)
            replay_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            with raw.cursor() as cur:
                for sql in (RAW_PER_DAY, RAW_PER_PLATFORM):
                    cur.execute(sql.format(where=where), params)
                    cur.fetchall()
            raw_t.append(time.perf_counter() - t0)
        rows.append((f"dashboard, {label}", sel_t, page_t, replay_t, raw_t))

    # The period report for the year: selector, API, its SQL replayed, and raw SQL over the referrals.
    with CaptureQueriesContext(connection) as ctx:
        period_report(boss, year.date_from, year.date_to)
    captured = [(q["sql"], None) for q in ctx.captured_queries]
    api = f"/api/v1/reports/referrals/?from={year.date_from}&to={year.date_to}"
    from rest_framework.test import APIClient
    api_client = APIClient()
    api_client.force_authenticate(boss)
    assert api_client.get(api).status_code == 200
    low = datetime.combine(year.date_from, datetime.min.time(), tzinfo=UTC)
    high = datetime.combine(year.date_to + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    raw_report = [
        "SELECT count(*) FROM cases_item WHERE first_seen_at >= %(low)s AND first_seen_at < %(high)s",
        "SELECT status, instrument, count(*) FROM referral_referral WHERE created_at >= %(low)s "
        "AND created_at < %(high)s GROUP BY 1, 2",
        "SELECT platform_id, status, count(*) FROM referral_referral WHERE created_at >= %(low)s "
        "AND created_at < %(high)s GROUP BY 1, 2",
        "SELECT i.group_id, count(*) FROM referral_referral r JOIN cases_item i ON i.id = r.item_id "
        "WHERE r.created_at >= %(low)s AND r.created_at < %(high)s GROUP BY 1",
        "SELECT c, count(*) FROM referral_referral r JOIN cases_item i ON i.id = r.item_id, "
        "jsonb_array_elements_text(i.categories) c "
        "WHERE r.created_at >= %(low)s AND r.created_at < %(high)s GROUP BY 1",
    ]
    sel_t, page_t, replay_t, raw_t = [], [], [], []
    for _ in range(REQUESTS):
        t0 = time.perf_counter()
        period_report(boss, year.date_from, year.date_to)
        sel_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        api_client.get(api)
        page_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        replay(captured)
        replay_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with raw.cursor() as cur:
            for sql in raw_report:
                cur.execute(sql, {"low": low, "high": high})
                cur.fetchall()
        raw_t.append(time.perf_counter() - t0)
    rows.append(("period report, a year (page column: the API)", sel_t, page_t, replay_t, raw_t))

    # The beat task after 1,000 referrals of one day changed.
    day = YEAR_START + timedelta(days=200)
    day_ids = list(Referral.objects.filter(
        created_at__gte=datetime.combine(day, datetime.min.time(), tzinfo=UTC),
        created_at__lt=datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC))
        .values_list("id", flat=True)[:1000])
    stats.refresh()
    Referral.objects.filter(pk__in=day_ids).update(updated_at=datetime.now(UTC))  # bench only: a touch, no move
    t0 = time.perf_counter()
    refreshed_days = stats.refresh()
    refresh_s = time.perf_counter() - t0

    print(f"\nDashboard and period report — {R:,} referrals over a year, {stat_rows:,} DailyReferralStat rows, "
          f"PostgreSQL, {os.cpu_count()} cores, Python {platform.python_version()}, {REQUESTS} runs each")
    if load_s is not None:
        print(f"load (COPY {R:,} items + {R:,} referrals, VACUUM ANALYZE): {load_s:.1f} s; "
              f"rebuild_stats: {rebuild_s:.1f} s")
    print(f"reports.refresh after {len(day_ids):,} referrals of one day changed: {refresh_s * 1000:.0f} ms "
          f"({refreshed_days} day recomputed)\n")
    print(f"{'':46} {'selectors':>17} {'page / API':>17} {'their SQL':>17} {'raw SQL, no stats':>17}")
    print(f"{'':46} {'p50 ms   p95 ms':>17} {'p50 ms   p95 ms':>17} {'p50 ms   p95 ms':>17} {'p50 ms   p95 ms':>17}")
    for label, sel_t, page_t, replay_t, raw_t in rows:
        print(f"{label:46} {ms(sel_t)} {ms(page_t)} {ms(replay_t)} {ms(raw_t)}")
    worst = max(pct(page_t, 95) for _, _, page_t, _, _ in rows)
    print(f"\nslowest page/API p95: {worst * 1000:.0f} ms (target < 500 ms): {'met' if worst < 0.5 else 'NOT met'}")
    if not REUSE:
        connection.close()
        drop_database(DB_URL)


if __name__ == "__main__":
    main()
