"""Search benchmark ("Find anything", issue 9): 1,000,000 items (a tenth on YouTube, 30 % with notes), 250,000
referrals with their deliveries (70 % carry a platform's reference) and 5,000 cases loaded with COPY into a fresh
PostgreSQL database with the search indexes in place (the migrations', as in production), ANALYZE, then each kind
of search served through the real page (Django's test Client signed in, DEBUG off, full rendering) and the real API
(a Bearer key), beside the same SQL run directly: the page's captured queries replayed on the bare psycopg2
cursor, alternating with the page so CPU drift hits both alike. Every request searches a different value.

Run: make bench-search   (env: BENCH_DATABASE_URL, BENCH_ITEMS, BENCH_REQUESTS; BENCH_EXPLAIN=1 prints each
kind's query plans; BENCH_REUSE=1 keeps the database for the next run, which then skips the load).
It creates and drops its own database; it talks only to 127.0.0.1. Target (issue 9): p95 < 100 ms.
"""

import io
import os
import platform
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))
from bench.support import UNTHROTTLED, drop_database, recreate_database  # noqa: E402

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/search_bench")
N = int(os.environ.get("BENCH_ITEMS", "1000000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "50"))
EXPLAIN = os.environ.get("BENCH_EXPLAIN") == "1"
REUSE = os.environ.get("BENCH_REUSE") == "1"
PLATFORMS = 60
CASES = 5000
os.environ.update({"DATABASE_URL": DB_URL, "SECRET_KEY": "bench-only", "ALLOWED_HOSTS": "testserver,localhost",
                   "LOG_LEVEL": "WARNING", "CELERY_BROKER_URL": "memory://", "STATIC_MANIFEST": "0",
                   "DEBUG": "false", **UNTHROTTLED})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Notes: a few common words of the trade, Zipf-weighted (the commonest is in most notes), and a long tail of rare
# tokens (each in a handful of items).
COMMON = ("video channel recruitment propaganda upload mirror nasheed speech claim attack outlet logo banner "
          "translation subtitles reupload archive account handle audio magazine issue poster statement martyrdom "
          "drone weapon training manual instructions livestream compilation montage interview sermon").split()
RARE = 50_000
TITLE_WORDS = ("hydra operation action day outlet network cell media wing foundation brigade bulletin series "
               "campaign wave summer winter spring autumn referral sweep").split()
STATUSES = ["logged"] * 55 + ["returned"] * 5 + ["proposed"] * 10 + ["approved"] * 20 + ["rejected"] * 3 + \
    ["discarded"] * 5 + ["on_hold"] * 2
REFERRAL_STATUSES = ["sent"] * 20 + ["acknowledged"] * 25 + ["removed"] * 40 + ["declined"] * 10 + ["queued"] * 5
ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
STAMP = "2025-01-01 00:00:00+00"


class Sample:
    """Values that exist in the loaded data, collected while loading, for the searches to look up."""

    def __init__(self):
        self.youtube_ids, self.plain_urls, self.rare_words, self.references, self.deliveries = [], [], [], [], []
        self.liaison_references = []


def load(connection, *, case_ids, platform_ids, youtube_platform, contact_points, logger_id, sample) -> dict:
    """COPY the items, then referrals (every 4th item with a platform) and one delivery each; seconds per table."""
    rng = random.Random(9)
    weights = [1 / (rank + 1) for rank in range(len(COMMON))]
    item_cols = ("case_id", "url", "canonical_url", "platform_id", "kind", "categories", "language", "notes",
                 "status", "logged_by_id", "decision_reason", "priority", "threat_to_life", "hold_reason",
                 "hold_requested_by", "held_from_status", "first_seen_at", "updated_at")
    timings, referrals = {}, []
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for start in range(0, N, 100_000):
            buf = io.StringIO()
            for n in range(start + 1, min(N, start + 100_000) + 1):  # item ids are 1..N in COPY order
                if n % 10 == 0:
                    video = "".join(rng.choice(ID_CHARS) for _ in range(11))
                    url, canonical, platform_id = (f"https://www.youtube.com/watch?v={video}",
                                                   f"https://youtube.com/watch?v={video}", youtube_platform)
                    if rng.random() < 0.001:
                        sample.youtube_ids.append(video)
                else:
                    platform_id = rng.choice(platform_ids) if rng.random() > 0.05 else None
                    url = canonical = f"https://p{platform_id}.example/v/{n}"
                    if rng.random() < 0.0001:
                        sample.plain_urls.append((platform_id, n))
                notes = ""
                if rng.random() < 0.3:
                    words = rng.choices(COMMON, weights, k=5) + [f"x{rng.randrange(RARE):05d}" for _ in range(3)]
                    rng.shuffle(words)
                    notes = " ".join(words)
                    if rng.random() < 0.001:
                        sample.rare_words.append(next(word for word in words if word.startswith("x")))
                status = rng.choice(STATUSES)
                buf.write("\t".join([
                    str(rng.choice(case_ids)), url, canonical, str(platform_id) if platform_id else r"\N", "post",
                    '["incitement"]', "en", notes, status, str(logger_id), "", "0", "f", "", "", "", STAMP, STAMP,
                ]) + "\n")
                if platform_id and n % 4 == 0:
                    referrals.append((n, platform_id))
            buf.seek(0)
            raw.copy_expert(f"COPY cases_item ({', '.join(item_cols)}) FROM STDIN", buf)
        timings["items"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        ref_cols = ("item_id", "platform_id", "instrument", "status", "platform_reference", "note", "approved_by_id",
                    "created_at", "updated_at")
        buf = io.StringIO()
        for number, (item_id, platform_id) in enumerate(referrals, start=1):  # referral ids are 1..R
            reference = f"TKT-{number}" if rng.random() < 0.7 else ""
            if reference and rng.random() < 0.002:
                sample.references.append(reference)
                if platform_id == platform_ids[0]:
                    sample.liaison_references.append(reference)
            buf.write("\t".join([str(item_id), str(platform_id), "referral", rng.choice(REFERRAL_STATUSES),
                                 reference, "", str(logger_id), STAMP, STAMP]) + "\n")
        buf.seek(0)
        raw.copy_expert(f"COPY referral_referral ({', '.join(ref_cols)}) FROM STDIN", buf)
        timings["referrals"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        deliveries, links = io.StringIO(), io.StringIO()
        for number, (_item_id, platform_id) in enumerate(referrals, start=1):
            delivery = uuid.UUID(int=rng.getrandbits(128), version=4)
            if rng.random() < 0.0005:
                sample.deliveries.append(delivery)
            deliveries.write("\t".join([str(delivery), str(contact_points[platform_id]), "sent", "1", "0", STAMP, "",
                                        "", STAMP]) + "\n")
            links.write(f"{delivery}\t{number}\n")
        deliveries.seek(0)
        links.seek(0)
        raw.copy_expert("COPY referral_delivery (id, contact_point_id, status, attempts, attempt_base, "
                        "next_attempt_at, last_error, external_reference, created_at) FROM STDIN", deliveries)
        raw.copy_expert("COPY referral_delivery_referrals (delivery_id, referral_id) FROM STDIN", links)
        timings["deliveries"] = time.perf_counter() - t0
    return timings


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def searches(sample, rng):
    """(label, who, [REQUESTS values]): each kind of search, a different existing value per request."""
    from django.conf import settings

    def pick(values, make=lambda v: v):
        return [make(rng.choice(values)) for _ in range(REQUESTS)]

    prefix = settings.UNIT_REFERENCE_PREFIX
    top_pairs = [f"{a} {b}" for a in COMMON[:6] for b in COMMON[:6] if a != b]
    return [
        ("URL, youtu.be form of a youtube.com item", "analyst",
         pick(sample.youtube_ids, lambda v: f"https://youtu.be/{v}?si=x")),
        ("URL, www. and a tracker", "analyst",
         pick(sample.plain_urls, lambda v: f"http://www.p{v[0]}.example/v/{v[1]}?utm_source=bench")),
        ("URL, not found", "analyst", [f"https://nowhere.example/v/{n}" for n in range(REQUESTS)]),
        ("number (item, referral and case)", "analyst", [f"#{rng.randint(1, N)}" for _ in range(REQUESTS)]),
        ("number with a kind, R-123", "analyst", [f"R-{rng.randint(1, N // 5)}" for _ in range(REQUESTS)]),
        ("platform's reference", "analyst", pick(sample.references, str.lower)),
        ("unit's reference", "analyst", pick(sample.deliveries, lambda d: f"{prefix}-{str(d)[:8].upper()}")),
        ("notes: a rare word (~20 items)", "analyst", pick(sample.rare_words)),
        ("notes: the commonest words (in most notes)", "analyst", pick(COMMON[:4])),
        ("notes + titles: two common words", "analyst", pick(top_pairs)),
        ("notes + titles: a word found nowhere", "analyst", [f"zq{n}nothing" for n in range(REQUESTS)]),
        ("case title: two words", "analyst", pick([f"{a} {b}" for a in TITLE_WORDS[:8] for b in TITLE_WORDS[8:]])),
        ("liaison: own platform's reference", "liaison", pick(sample.liaison_references or sample.references)),
    ]


def time_searches(kinds, page_client, api_client, connection):
    """[(label, found, queries, page s, API s, raw SQL s)] per kind of search."""
    rows = []
    raw_conn = connection.connection
    for label, who, values in kinds:
        page_times, api_times, sql_times, found, queries = [], [], [], [], 0
        for value in values:
            path = f"/search/?{urlencode({'q': value, 'list': '1'})}"
            captured = []

            def record(execute, sql, params, many, context, captured=captured):
                captured.append((sql, params))
                return execute(sql, params, many, context)

            t0 = time.perf_counter()
            with connection.execute_wrapper(record):
                res = page_client[who].get(path)
            page_times.append(time.perf_counter() - t0)
            assert res.status_code == 200, (path, res.status_code)
            search_sql = [(sql, params) for sql, params in captured if "cases_" in sql or "referral_" in sql]
            queries = max(queries, len(search_sql))
            t0 = time.perf_counter()
            with raw_conn.cursor() as cur:
                for sql, params in search_sql:
                    cur.execute(sql, params)
                    cur.fetchall()
            sql_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            body = api_client[who].get("/api/v1/search/", {"q": value}).json()
            api_times.append(time.perf_counter() - t0)
            found.append(sum(len(body[group]) for group in ("items", "referrals", "cases")))
        if EXPLAIN:
            print(f"--- {label}: {values[-1]!r}")
            with raw_conn.cursor() as cur:
                for sql, params in search_sql:
                    cur.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql, params)
                    print("\n".join(r[0] for r in cur.fetchall()))
        rows.append((label, statistics.median(found), queries, page_times, api_times, sql_times))
    return rows


def _database_exists(url: str) -> bool:
    import psycopg2

    try:
        psycopg2.connect(url).close()
    except psycopg2.OperationalError:
        return False
    return True


def main() -> None:
    import pickle

    reused = REUSE and _database_exists(DB_URL)
    if not reused:
        recreate_database(DB_URL)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from rest_framework.test import APIClient

    from accounts import services as account_services
    from accounts.models import User
    from cases.models import Case
    from platforms import services as platform_services
    from platforms.models import ContactPoint

    assert not settings.DEBUG
    sample_file = Path(f"/tmp/search-bench-sample-{N}.pickle")
    timings = {}
    if not reused:
        call_command("migrate", verbosity=0)
        analyst = account_services.user_create(actor=None, username="analyst", role="analyst")
        platforms = [platform_services.platform_create(actor=None, slug=f"p{n}", name=f"Platform {n}",
                                                       domains=[f"p{n}.example"], contact_points=[])
                     for n in range(PLATFORMS)]
        youtube = platform_services.platform_create(actor=None, slug="youtube", name="YouTube",
                                                    domains=["youtube.com"], contact_points=[])
        account_services.user_create(actor=None, username="liaison", role="liaison", platform_slug="p0")
        contact_points = {p.pk: ContactPoint.objects.create(platform=p, channel="webhook",
                                                            endpoint=f"https://{p.slug}.example/hook").pk
                          for p in [*platforms, youtube]}
        rng = random.Random(3)
        titles = [" ".join(rng.sample(TITLE_WORDS, 3)) + f" {2020 + n % 7}" for n in range(CASES)]
        case_ids = [c.pk for c in Case.objects.bulk_create([Case(title=t, created_by=analyst) for t in titles])]
        sample = Sample()
        with transaction.atomic():
            timings = load(connection, case_ids=case_ids, platform_ids=[p.pk for p in platforms],
                           youtube_platform=youtube.pk, contact_points=contact_points, logger_id=analyst.pk,
                           sample=sample)
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        timings["ANALYZE"] = time.perf_counter() - t0
        sample_file.write_bytes(pickle.dumps(sample))
    sample = pickle.loads(sample_file.read_bytes())  # noqa: S301  (our own file, written above)
    users = {name: User.objects.get(username=name) for name in ("analyst", "liaison")}
    page_client, api_client = {}, {}
    for name, user in users.items():
        page_client[name] = Client()
        page_client[name].force_login(user)
        _, key = account_services.api_key_issue(actor=None, user=user)
        api_client[name] = APIClient()
        api_client[name].credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    kinds = searches(sample, random.Random(5))
    time_searches(kinds[:1], page_client, api_client, connection)  # warm-up: imports, templates, caches
    results = time_searches(kinds, page_client, api_client, connection)
    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT count(*) FROM cases_item), (SELECT count(*) FROM referral_referral), "
                       "(SELECT count(*) FROM cases_item WHERE notes <> '')")
        items, referral_count, noted = cursor.fetchone()
        server = cursor.connection.server_version // 10000

    print()
    print(f"Search benchmark, {items:,} items ({noted:,} with notes), {referral_count:,} referrals, {CASES:,} cases, "
          f"{time.strftime('%Y-%m-%d %H:%M')} UTC, {platform.node()}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}, Python {platform.python_version()}, PostgreSQL {server}; {REQUESTS} requests "
          f"each, a different value each")
    if timings:
        print("Load (COPY with the indexes in place): " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    print()
    print("| search | found (median) | search queries | page p50 | page p95 | API p50 | API p95 | same SQL, raw p50 "
          "| raw p95 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    ms = 1000
    for label, found, queries, page_t, api_t, sql_t in results:
        print(f"| {label} | {found:g} | {queries} | {statistics.median(page_t) * ms:.1f} ms | "
              f"{pct(page_t, 95) * ms:.1f} ms | {statistics.median(api_t) * ms:.1f} ms | "
              f"{pct(api_t, 95) * ms:.1f} ms | "
              f"{statistics.median(sql_t) * ms:.2f} ms | {pct(sql_t, 95) * ms:.2f} ms |")
    connection.close()
    if not REUSE:
        drop_database(DB_URL)
        sample_file.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
