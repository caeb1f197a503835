"""List pages benchmark: 1,000,000 items and a few hundred thousand referrals loaded with COPY into a fresh
PostgreSQL database (ANALYZE after), then each list page served through its real view and templates (Django's test
Client signed in, DEBUG off, full rendering), beside the same SQL run directly in the same run: the page's
captured queries replayed on the bare psycopg2 cursor, alternating with the page so CPU drift hits both alike.

Pages: the triage queue (the filters of bench/triage_queue.py), the Review page (threat to life, priority, oldest
proposal), the referrals list (unit staff, a status filter, a liaison), the case list and a case page (its items).

Run: make bench-pages   (env: BENCH_DATABASE_URL, BENCH_ITEMS, BENCH_REFERRALS, BENCH_REQUESTS, BENCH_ONLY: a
substring of the page labels to run only those; BENCH_PROFILE=label substring: cProfile that page instead;
BENCH_REUSE=1: keep the database for the next run, which then skips the load).
It creates and drops its own database; it talks only to 127.0.0.1. Target (issue 8): every page p50 < 10 ms.
"""

import io
import os
import platform
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pages_bench")
from bench import triage_queue as tq  # noqa: E402  (sets the Django environment: DATABASE_URL, DEBUG off)
from bench.sessions import signed_in_client  # noqa: E402
from bench.support import drop_database, recreate_database  # noqa: E402

DB_URL = tq.DB_URL
N = tq.N
R = int(os.environ.get("BENCH_REFERRALS", str(max(1, N * 3 // 10))))
REQUESTS = tq.REQUESTS
ONLY = os.environ.get("BENCH_ONLY", "")
PROFILE = os.environ.get("BENCH_PROFILE", "")
REUSE = os.environ.get("BENCH_REUSE") == "1"  # keep the database after the run, and load it only if it is new
os.environ["DEBUG"] = "false"

REFERRAL_STATUSES = [("queued", 4), ("sent", 20), ("acknowledged", 15), ("removed", 40), ("restricted", 5),
                     ("declined", 8), ("needs_info", 3), ("failed", 3), ("withdrawn", 2)]
ROWS = {  # how each page marks a row of its list
    "queue": re.compile(r'<tr id="q-item-\d+"'),
    "review": re.compile(r'<tr id="r-item-\d+" class="review-row'),
    "referrals": re.compile(r'<th scope="row"><a href="/referrals/\d+/">'),
    "cases": re.compile(r'<td><a href="/cases/\d+/">Case \d+</a></td>'),
    "case": re.compile(r'<tr id="item-\d+"'),
}


def load_referrals(connection, *, approver_id) -> float:
    """COPY R referrals: one for each approved item with a platform, oldest first, and a second (a removal order
    after the voluntary referral) for every other one until R; statuses varied, dates to match."""
    rng = random.Random(11)
    population = [s for s, weight in REFERRAL_STATUSES for _ in range(weight)]
    columns = ("item_id", "platform_id", "instrument", "status", "due_at", "sent_at", "acknowledged_at", "outcome_at",
               "action_taken_at", "platform_reference", "note", "overdue_alerted_at", "approved_by_id", "created_at",
               "updated_at", "dsa_decision", "dsa_ground")
    sql = f"COPY referral_referral ({', '.join(columns)}) FROM STDIN WITH (FORMAT text)"
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, platform_id FROM cases_item WHERE status = 'approved' AND platform_id IS NOT NULL "
                       "ORDER BY id")
        approved = cursor.fetchall()
        pairs = [(item, plat, "referral") for item, plat in approved]
        pairs += [(item, plat, "removal_order") for item, plat in approved[::2]]
        pairs = sorted(pairs[:R])
        buf = io.StringIO()
        null = r"\N"
        for n, (item_id, platform_id, instrument) in enumerate(pairs):
            status = rng.choice(population)
            day = 1 + n * 300 // max(1, len(pairs))  # created over ~10 months, in id order
            created = f"2025-{1 + day // 31 % 12:02d}-{1 + day % 28:02d} 10:00:00+00"
            sent = created if status not in ("queued", "failed") else null
            due = created.replace("10:00", "11:00") if instrument == "removal_order" else null
            ack = created if status in ("acknowledged", "removed", "restricted", "declined", "needs_info") else null
            outcome = created if status in ("removed", "restricted", "declined", "needs_info") else null
            reference = f"T-{item_id}" if ack != null else ""
            buf.write("\t".join([str(item_id), str(platform_id), instrument, status, due, sent, ack, outcome, null,
                                 reference, "", null, str(approver_id), created, created, "", ""]) + "\n")
        buf.seek(0)
        cursor.cursor.copy_expert(sql, buf)
    return time.perf_counter() - t0


def time_pages(client_for, pages, connection):
    """[(label, rows shown, queries, page seconds, raw SQL seconds)] for each page, REQUESTS times each."""
    results = []
    for label, kind, who, path in pages:
        client = client_for[who]
        res = client.get(path)
        assert res.status_code == 200, (path, res.status_code)
        shown = len(ROWS[kind].findall(res.content.decode()))
        captured = []

        def record(execute, sql, params, many, context, captured=captured):
            captured.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            client.get(path)
        raw_conn = connection.connection  # the psycopg2 connection under Django's: the same session, no wrappers
        page_times, sql_times = [], []
        for _ in range(REQUESTS):  # alternate A/B so CPU drift hits both alike
            t0 = time.perf_counter()
            client.get(path)
            page_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            with raw_conn.cursor() as cur:
                for sql, params in captured:
                    cur.execute(sql, params)
                    if cur.description is not None:
                        cur.fetchall()
            sql_times.append(time.perf_counter() - t0)
        results.append((label, shown, len(captured), page_times, sql_times))
    return results


def profile_page(client, path, count=200):
    import cProfile
    import pstats

    client.get(path)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        client.get(path)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)


def _database_exists(url: str) -> bool:
    import psycopg2

    try:
        psycopg2.connect(url).close()
    except psycopg2.OperationalError:
        return False
    return True


def main() -> None:
    reused = REUSE and _database_exists(DB_URL)
    if not reused:
        recreate_database(DB_URL)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction

    from accounts import services as account_services
    from accounts.models import User
    from cases import selectors as case_selectors
    from cases.models import Case, Group
    from platforms import services as platform_services
    from platforms.models import Platform

    assert not settings.DEBUG
    load_s = 0.0
    if not reused:
        call_command("migrate", verbosity=0)
        call_command("seed_groups", verbosity=0)
        analyst = account_services.user_create(actor=None, username="analyst", role="analyst")
        account_services.user_create(actor=None, username="supervisor", role="supervisor")
        others = [account_services.user_create(actor=None, username=f"analyst{n}", role="analyst") for n in range(5)]
        platform_ids = [platform_services.platform_create(actor=None, slug=f"p{n}", name=f"Platform {n}",
                                                          domains=[f"p{n}.example"], contact_points=[]).pk
                        for n in range(tq.PLATFORMS)]
        account_services.user_create(actor=None, username="liaison", role="liaison", platform_slug="p0")
        case_ids = [c.pk for c in Case.objects.bulk_create(
            [Case(title=f"Case {n}", created_by=analyst) for n in range(tq.CASES)])]
        group_ids = list(Group.objects.values_list("pk", flat=True))
        with transaction.atomic():
            load_s = tq.load_items(connection, case_ids=case_ids, platform_ids=platform_ids, group_ids=group_ids,
                                   user_ids=[analyst.pk] + [u.pk for u in others], logger_id=analyst.pk,
                                   proposer_id=others[0].pk)
            load_s += load_referrals(connection, approver_id=User.objects.get(username="supervisor").pk)
            with connection.cursor() as cursor:  # each proposal's time, as item_propose writes it
                cursor.execute("UPDATE cases_item SET proposed_at = updated_at - (id % 5000) * interval '1 second' "
                               "WHERE status = 'proposed'")
        with connection.cursor() as cursor:  # as autovacuum would: statistics, and the visibility map that lets
            cursor.execute("VACUUM ANALYZE")  # the counts read the proposals' platforms from the index alone
    analyst, supervisor, liaison = (User.objects.get(username=name) for name in ("analyst", "supervisor", "liaison"))
    platform_ids = list(Platform.objects.order_by("id").values_list("id", flat=True))
    case_ids = list(Case.objects.order_by("id").values_list("id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM referral_referral")
        referral_count = cursor.fetchone()[0]

    clients = {}
    for name, user in (("analyst", analyst), ("supervisor", supervisor), ("liaison", liaison)):
        clients[name] = signed_in_client(user)  # the supervisor's past the second factor
    busy = platform_ids[0]
    cursor = None
    for _ in range(20):  # a deep page: follow the cursor 20 pages into the default queue (1,000 rows in)
        cursor = case_selectors.triage_queue(analyst, {}, "priority", cursor).next_cursor
    case_id = case_ids[len(case_ids) // 2]
    pages = [
        ("queue: first page (logged + returned, by priority)", "queue", "analyst", "/queue/"),
        (f"queue: platform={busy} & status=logged", "queue", "analyst", f"/queue/?platform={busy}&status=logged"),
        ("queue: no platform matched", "queue", "analyst", "/queue/?platform=none"),
        ("queue: assignee = me, category = threat", "queue", "analyst", "/queue/?assignee=me&category=threat"),
        ("queue: any status, newest first", "queue", "analyst", "/queue/?status=all&sort=newest"),
        ("queue: page 21 of the first (keyset cursor)", "queue", "analyst", f"/queue/?after={cursor}"),
        ("review: threat to life, priority, oldest proposal (supervisor)", "review", "supervisor", "/review/"),
        ("referrals: all, newest first (supervisor)", "referrals", "supervisor", "/referrals/"),
        ("referrals: status = sent (analyst)", "referrals", "analyst", "/referrals/?status=sent"),
        ("referrals: liaison of a platform", "referrals", "liaison", "/referrals/"),
        ("cases: list, newest first", "cases", "analyst", "/cases/"),
        (f"case page: items of case {case_id}, newest first", "case", "analyst", f"/cases/{case_id}/"),
    ]
    pages = [page for page in pages if ONLY in page[0]]
    if PROFILE:
        for label, _kind, who, path in pages:
            if PROFILE in label:
                print(f"--- cProfile: {label} ({path})")
                profile_page(clients[who], path)
        connection.close()
        if not REUSE:
            drop_database(DB_URL)
        return
    results = time_pages(clients, pages, connection)

    print()
    print(f"List pages benchmark, {N:,} items, {referral_count:,} referrals, {time.strftime('%Y-%m-%d %H:%M')} UTC, "
          f"{platform.node()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, Python "
          f"{platform.python_version()}, PostgreSQL {connection.cursor().connection.server_version // 10000}; COPY "
          f"load {load_s:.0f} s{' (earlier run)' if reused else ''}; {REQUESTS} requests each, alternating with the "
          "raw SQL")
    print()
    print("| page | rows | queries | desk page p50 | desk page p95 | same SQL, raw p50 | raw p95 | page − SQL p50 | "
          "target |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for label, shown, queries, page_t, sql_t in results:
        p50, s50 = statistics.median(page_t) * 1000, statistics.median(sql_t) * 1000
        print(f"| {label} | {shown} | {queries} | {p50:.1f} ms | {tq.pct(page_t, 95) * 1000:.1f} ms | "
              f"{s50:.2f} ms | {tq.pct(sql_t, 95) * 1000:.2f} ms | {p50 - s50:.1f} ms | p50 < 10 ms |")
    connection.close()
    if not REUSE:
        drop_database(DB_URL)


if __name__ == "__main__":
    main()
