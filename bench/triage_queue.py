"""Triage queue benchmark: 1,000,000 items loaded with COPY into a fresh PostgreSQL database, then the queue's
pages served through the real selector, view and templates (Django's test Client, signed in as an analyst),
beside the same SQL run directly (the raw stack: what the database alone costs for those queries).

Run: make bench-queue   (env: BENCH_DATABASE_URL, BENCH_ITEMS, BENCH_REQUESTS)
It creates and drops its own database; it talks only to 127.0.0.1. Target: queue page p95 < 100 ms.
"""

import io
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# This file is named like the standard library's `queue`: take bench/ off the path so `import queue` (asgiref,
# concurrent.futures) finds the real one.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))
from bench.support import drop_database, recreate_database  # noqa: E402

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/triage_bench")
N = int(os.environ.get("BENCH_ITEMS", "1000000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "50"))
PLATFORMS = 60
CASES = 200
# Redis as in production (sessions read from it, config/settings.py): its own db, flushed by nothing here.
os.environ.update({"DATABASE_URL": DB_URL, "SECRET_KEY": "bench-only", "ALLOWED_HOSTS": "testserver,localhost",
                   "LOG_LEVEL": "WARNING", "CELERY_BROKER_URL": "memory://",
                   "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
                   "STATIC_MANIFEST": "0"})  # no collectstatic here: static files under their own names
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

STATUSES = [("logged", 55), ("returned", 5), ("proposed", 10), ("approved", 20), ("rejected", 3),
            ("discarded", 5), ("on_hold", 2)]
KINDS = ["post", "account", "channel", "media", "website", "file"]
CATEGORIES = ["incitement", "solicitation", "participation", "instruction", "threat"]
LANGUAGES = ["ar", "en", "fr", "de", "ru", "ps", "tr"]


def load_items(connection, *, case_ids, platform_ids, group_ids, user_ids, logger_id, proposer_id=None) -> float:
    """COPY N items with varied status, priority, platform (5 % none), case, assignee, 3 % duplicates of an earlier
    item, and (with `proposer_id`) a proposer on the items proposed or decided; returns seconds.

    Run on a fresh table: item ids are then 1..N in COPY order, which the duplicates rely on."""
    from cases.actions.assessment import item_priority

    rng = random.Random(7)
    population = [s for s, weight in STATUSES for _ in range(weight)]
    columns = ("case_id", "url", "canonical_url", "platform_id", "kind", "categories", "language", "notes",
               "status", "logged_by_id", "decision_reason", "group_id", "severity", "confidence", "priority",
               "threat_to_life", "assignee_id", "hold_reason", "hold_requested_by", "held_from_status",
               "first_seen_at", "updated_at", "proposed_by_id", "duplicate_of_id")
    sql = f"COPY cases_item ({', '.join(columns)}) FROM STDIN WITH (FORMAT text)"
    t0 = time.perf_counter()
    chunk = 100_000
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg2 cursor underneath Django's wrapper
        for start in range(0, N, chunk):
            buf = io.StringIO()
            for n in range(start, min(N, start + chunk)):
                platform_id = r"\N" if rng.random() < 0.05 else str(rng.choice(platform_ids))
                severity, confidence = rng.randint(0, 7), rng.randint(0, 3)
                ttl = rng.random() < 0.0005
                cats = json.dumps(rng.sample(CATEGORIES, rng.randint(1, 2)))
                url = f"https://p{platform_id}.example/v/{n}"
                assignee = str(rng.choice(user_ids)) if rng.random() < 0.3 else r"\N"
                group = str(rng.choice(group_ids)) if rng.random() < 0.4 else r"\N"
                status = rng.choice(population)
                proposer = str(proposer_id) if proposer_id and status in ("proposed", "approved", "rejected") else r"\N"
                duplicate = str(rng.randint(1, n)) if n and rng.random() < 0.03 else r"\N"
                buf.write("\t".join([
                    str(rng.choice(case_ids)), url, url, platform_id, rng.choice(KINDS), cats,
                    rng.choice(LANGUAGES), "", status, str(logger_id), "", group, str(severity),
                    str(confidence), str(item_priority(severity=severity, confidence=confidence, threat_to_life=ttl)),
                    "t" if ttl else "f", assignee, "", "", "", "2025-01-01 00:00:00+00", "2025-01-01 00:00:00+00",
                    proposer, duplicate,
                ]) + "\n")
            buf.seek(0)
            raw.copy_expert(sql, buf)
        cursor.execute("ANALYZE cases_item")
    return time.perf_counter() - t0


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    recreate_database(DB_URL)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client

    from accounts import services as account_services
    from cases import selectors as case_selectors
    from cases.models import Case, Group
    from platforms import services as platform_services

    call_command("migrate", verbosity=0)
    call_command("seed_groups", verbosity=0)
    analyst = account_services.user_create(actor=None, username="analyst", role="analyst")
    others = [account_services.user_create(actor=None, username=f"analyst{n}", role="analyst") for n in range(5)]
    platform_ids = [platform_services.platform_create(actor=None, slug=f"p{n}", name=f"Platform {n}",
                                                      domains=[f"p{n}.example"], contact_points=[]).pk
                    for n in range(PLATFORMS)]
    case_ids = [c.pk for c in Case.objects.bulk_create(
        [Case(title=f"Case {n}", created_by=analyst) for n in range(CASES)])]
    group_ids = list(Group.objects.values_list("pk", flat=True))
    with transaction.atomic():
        load_s = load_items(connection, case_ids=case_ids, platform_ids=platform_ids, group_ids=group_ids,
                            user_ids=[analyst.pk] + [u.pk for u in others], logger_id=analyst.pk)

    client = Client()
    client.force_login(analyst)
    busy = platform_ids[0]
    pages = [
        ("first page (logged + returned, by priority)", "/queue/"),
        (f"platform={busy} & status=logged", f"/queue/?platform={busy}&status=logged"),
        ("no platform matched", "/queue/?platform=none"),
        ("assignee = me, category = threat", "/queue/?assignee=me&category=threat"),
        ("any status, newest first", "/queue/?status=all&sort=newest"),
    ]
    # A deep page: follow the cursor 20 pages into the default queue (1,000 rows in).

    cursor, filters = None, {}
    for _ in range(20):
        cursor = case_selectors.triage_queue(analyst, filters, "priority", cursor).next_cursor
    pages.append(("page 21 of the first (keyset cursor)", f"/queue/?after={cursor}"))

    rows = []
    for label, path in pages:
        res = client.get(path)
        assert res.status_code == 200, (path, res.status_code)
        shown = res.content.decode().count('<tr id="q-item-')
        captured = []

        def record(execute, sql, params, many, context, captured=captured):
            captured.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            client.get(path)
        item_sql = [(sql, params) for sql, params in captured if "cases_item" in sql]
        page_times, sql_times = [], []
        for _ in range(REQUESTS):  # alternate A/B so CPU drift hits both alike
            t0 = time.perf_counter()
            client.get(path)
            page_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            with connection.cursor() as cur:
                for sql, params in item_sql:
                    cur.execute(sql, params)
                    cur.fetchall()
            sql_times.append(time.perf_counter() - t0)
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + item_sql[0][0], item_sql[0][1])
            explain_ms = cur.fetchone()[0][0]["Execution Time"]
        rows.append((label, shown, len(captured), page_times, sql_times, explain_ms))

    print()
    print(f"Triage queue benchmark, {N:,} items, {time.strftime('%Y-%m-%d %H:%M')} UTC, {platform.node()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL "
          f"{connection.cursor().connection.server_version // 10000}; COPY load {load_s:.0f} s "
          f"({N / load_s:,.0f} rows/s); {REQUESTS} requests each")
    print()
    print("| page | rows | queries | desk page p50 | desk page p95 | same SQL, raw p50 | raw p95 | "
          "EXPLAIN ANALYZE (keys query) | target |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for label, shown, queries, page_t, sql_t, explain_ms in rows:
        print(f"| {label} | {shown} | {queries} | {statistics.median(page_t) * 1000:.1f} ms | "
              f"{pct(page_t, 95) * 1000:.1f} ms | {statistics.median(sql_t) * 1000:.2f} ms | "
              f"{pct(sql_t, 95) * 1000:.2f} ms | {explain_ms:.2f} ms | p95 < 100 ms |")
    connection.close()
    drop_database(DB_URL)


if __name__ == "__main__":
    main()
