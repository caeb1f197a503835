"""Bulk outcomes benchmark (issue 9): a platform's liaison reports 26,000 outcomes (an action day's referrals) through
POST /api/v1/referrals/status/ in calls of 1,000 rows, through the whole Django stack in-process (API-key
authentication, parsing, validation, the service's locks and checks, the answer per row), on PostgreSQL. Beside
it, the raw limit measured in the same run: the same rows written by plain psycopg2 in as many transactions (one
UPDATE … FROM (VALUES …) of the referrals and one COPY of the audit events per 1,000), with no checks and no
Django. Then the same rows sent again (a platform retrying: nothing changes, every row answered).

Run: make bench-outcomes   (env: BENCH_DATABASE_URL, BENCH_REFERRALS, BENCH_PROFILE=file.prof). It creates and
drops its own database; it talks only to 127.0.0.1.
"""

import cProfile
import io
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.support import UNTHROTTLED, recreate_database  # noqa: E402

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/outcomes_bench")
N = int(os.environ.get("BENCH_REFERRALS", "26000"))
ROWS_PER_CALL = 1000
PROFILE = os.environ.get("BENCH_PROFILE", "")
ENV = {"DATABASE_URL": DB_URL, "CELERY_BROKER_URL": "memory://", "ALLOW_PRIVATE_ENDPOINTS": "1",
       "SECRET_KEY": "bench-only", "LOG_LEVEL": "WARNING", "REDIS_URL": "redis://127.0.0.1:6379/9", **UNTHROTTLED}
os.environ.update(ENV)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _referrals(case, analyst, supervisor, slug: str, count: int) -> list[int]:
    from cases.models import Item
    from platforms.models import Platform
    from referral.actions import approval

    p = Platform.objects.get(slug=slug)
    start = Item.objects.count()
    items = [Item(case=case, url=f"https://{slug}.example/v/{start + i}", canonical_url=f"https://{slug}.example/v/"
                  f"{start + i}", platform=p, kind="post", categories=["incitement"], status="proposed",
                  logged_by=analyst, proposed_by=analyst) for i in range(count)]
    ids = [i.pk for i in Item.objects.bulk_create(items, batch_size=2000)]
    referrals = []
    for start in range(0, len(ids), 5000):  # the API's bulk approval takes 5,000 a call
        referrals += approval.item_approve_many(actor=supervisor, item_ids=ids[start:start + 5000])["referrals"]
    return referrals


def raw_outcomes(referral_ids: list[int], actor) -> float:
    """The same writes with psycopg2 alone: per 1,000 rows one UPDATE … FROM (VALUES …) and one COPY of events."""
    from django.db import connection, transaction
    from django.utils import timezone

    t0 = time.perf_counter()
    for start in range(0, len(referral_ids), ROWS_PER_CALL):
        chunk = referral_ids[start:start + ROWS_PER_CALL]
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as wrapper:
            cursor = wrapper.cursor
            values = ", ".join(["(%s, %s)"] * len(chunk))
            params = [v for pk in chunk for v in (pk, f"RAW-{pk}")]
            cursor.execute(f"UPDATE referral_referral r SET status = 'removed', outcome_at = %s, "  # noqa: S608
                           f"action_taken_at = %s, updated_at = %s, platform_reference = v.ref "
                           f"FROM (VALUES {values}) AS v(id, ref) WHERE r.id = v.id", [now, now, now, *params])
            buf = io.StringIO()
            for pk in chunk:
                after = json.dumps({"status": "removed", "platform_reference": f"RAW-{pk}"})
                buf.write(f"{now.isoformat()}\t{actor.pk}\t{actor.username}\treferral.removed\treferral\t{pk}\t"
                          f"{json.dumps({'status': 'sent'})}\t{after}\n")
            buf.seek(0)
            cursor.copy_expert("COPY audit_auditevent (at, actor_id, actor_label, verb, object_type, object_id, "
                               "before, after) FROM STDIN", buf)
    return time.perf_counter() - t0


def main() -> None:
    recreate_database(DB_URL)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from accounts import services as account_services
    from cases.models import Case
    from platforms import services as platform_services
    from referral.models import Referral

    call_command("migrate", verbosity=0)
    analyst = account_services.user_create(actor=None, username="analyst", role="analyst")
    supervisor = account_services.user_create(actor=None, username="supervisor", role="supervisor")
    secret = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
    for slug in ("tube", "rawtube"):
        platform_services.platform_create(
            actor=None, slug=slug, name=slug, domains=[f"{slug}.example"],
            contact_points=[{"channel": "webhook", "endpoint": f"http://127.0.0.1:9/hook/{slug}", "secret": secret,
                             "max_items_per_message": 100}])
    liaison = account_services.user_create(actor=None, username="liaison", role="liaison", platform_slug="tube")
    _, key = account_services.api_key_issue(actor=None, user=liaison, name="bench")
    case = Case.objects.create(title="bench", created_by=analyst)
    ids = _referrals(case, analyst, supervisor, "tube", N)
    raw_ids = _referrals(case, analyst, supervisor, "rawtube", N)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_HOST="127.0.0.1")
    now = timezone.now().isoformat()

    def send_all() -> tuple[float, list[float], int]:
        durations, answered = [], 0
        t0 = time.perf_counter()
        for start in range(0, N, ROWS_PER_CALL):
            rows = [{"id": pk, "status": "removed", "platform_reference": f"T-{pk}", "action_taken_at": now}
                    for pk in ids[start:start + ROWS_PER_CALL]]
            c0 = time.perf_counter()
            res = client.post("/api/v1/referrals/status/", rows, content_type="application/json")
            durations.append(time.perf_counter() - c0)
            assert res.status_code == 200, res.content[:300]
            results = res.json()["results"]
            assert all(r["status_code"] == 200 for r in results), [r for r in results if r["status_code"] != 200][:3]
            answered += len(results)
        return time.perf_counter() - t0, durations, answered

    profiler = cProfile.Profile() if PROFILE else None
    connection.close()
    if profiler:
        profiler.enable()
    desk, calls, answered = send_all()
    if profiler:
        profiler.disable()
        profiler.dump_stats(PROFILE)
    assert answered == N and Referral.objects.filter(platform__slug="tube", status="removed").count() == N
    again, again_calls, _ = send_all()
    connection.close()
    raw = raw_outcomes(raw_ids, liaison)
    assert Referral.objects.filter(platform__slug="rawtube", status="removed").count() == N

    def p(values, q):
        values = sorted(values)
        return values[min(len(values) - 1, int(q * len(values)))] * 1000

    print()
    print(f"Bulk outcomes benchmark, {timezone.now():%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, PostgreSQL on localhost")
    print()
    print("| what | total | rows/s | per call of 1,000: p50 / p95 | target |")
    print("|---|---:|---:|---:|---|")
    print(f"| desk: {N:,} outcomes, POST /api/v1/referrals/status/ (in-process, API key) | {desk:.1f} s | "
          f"{N / desk:,.0f} | {p(calls, 0.5):.0f} / {p(calls, 0.95):.0f} ms | < 30 s |")
    print(f"| desk: the same rows again (nothing changes) | {again:.1f} s | {N / again:,.0f} | "
          f"{p(again_calls, 0.5):.0f} / {p(again_calls, 0.95):.0f} ms | |")
    print(f"| raw psycopg2: UPDATE … FROM VALUES + COPY of events, per 1,000 | {raw:.2f} s | {N / raw:,.0f} | | |")
    print(f"\ndesk / raw: {desk / raw:.1f}×")


if __name__ == "__main__":
    main()
