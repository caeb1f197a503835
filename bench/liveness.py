"""Liveness benchmark (issue 11): the first check of 26,000 referrals (an action day's) through the desk's checker
— claims with SKIP LOCKED, the per-host limits in Redis, httpx through a local forward proxy to local pages, the
verdicts and their recording — beside raw httpx doing the same GETs through the same proxy in the same run, with
no limits, no database and no recording. The referrals are spread over BENCH_HOSTS platforms' hosts; the limits
(LIVENESS_HOST_CONCURRENCY, LIVENESS_HOST_INTERVAL_MS) are the defaults unless set, and the floor they impose
(referrals per host × interval) is printed beside. The target: within 15 minutes on this 2-core machine.

Run: make bench-liveness   (env: BENCH_DATABASE_URL, BENCH_REFERRALS, BENCH_HOSTS, BENCH_WORKERS). It creates and
drops its own database; it talks only to 127.0.0.1 (the hosts are names only the proxy answers for).
"""

import logging
import os
import platform
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.support import recreate_database  # noqa: E402

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/liveness_bench")
N = int(os.environ.get("BENCH_REFERRALS", "26000"))
HOSTS = int(os.environ.get("BENCH_HOSTS", "10"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))  # checker processes side by side, as Celery workers would be
ENV = {"DATABASE_URL": DB_URL, "CELERY_BROKER_URL": "memory://", "ALLOW_PRIVATE_ENDPOINTS": "1",
       "SECRET_KEY": "bench-only", "LOG_LEVEL": "WARNING", "REDIS_URL": "redis://127.0.0.1:6379/9",
       "LIVENESS_REDIS_PREFIX": f"bench-liveness-{uuid.uuid4().hex}:"}
os.environ.update(ENV)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _seed(count: int) -> None:
    """`count` referrals over HOSTS platforms, approved through the bulk action, then marked received (the
    outbox's part is not what is measured here)."""
    from django.utils import timezone

    from accounts import services as account_services
    from cases.models import Case, Item
    from platforms import services as platform_services
    from platforms.models import Platform
    from referral.actions import approval
    from referral.models import Referral

    analyst = account_services.user_create(actor=None, username="analyst", role="analyst")
    supervisor = account_services.user_create(actor=None, username="supervisor", role="supervisor")
    case = Case.objects.create(title="bench", created_by=analyst)
    secret = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
    for h in range(HOSTS):
        platform_services.platform_create(
            actor=None, slug=f"site{h}", name=f"Site {h}", domains=[f"site{h}.example"],
            contact_points=[{"channel": "webhook", "endpoint": "http://127.0.0.1:9/hook", "secret": secret}])
    platforms = {p.slug: p for p in Platform.objects.all()}
    items = [Item(case=case, url=f"http://site{i % HOSTS}.example/v/{i}", canonical_url=f"http://site{i % HOSTS}"
                  f".example/v/{i}", platform=platforms[f"site{i % HOSTS}"], kind="post", categories=["incitement"],
                  status="proposed", logged_by=analyst, proposed_by=analyst) for i in range(count)]
    ids = [i.pk for i in Item.objects.bulk_create(items, batch_size=2000)]
    for start in range(0, len(ids), 5000):
        approval.item_approve_many(actor=supervisor, item_ids=ids[start:start + 5000])
    Referral.objects.update(sent_at=timezone.now())  # what the outbox does on the platform's 2xx


def _checker(now_iso: str) -> None:
    """One checker process (a worker): check until nothing is due."""
    import django

    django.setup()
    from datetime import datetime

    from liveness import checking
    from liveness.models import LivenessCheck

    now = datetime.fromisoformat(now_iso)
    while True:
        checking.check_due(time_budget=60, now=now)
        if not LivenessCheck.objects.filter(sequence=0, finished_at__isnull=True).exists():
            return


def raw_httpx(urls: list[str], proxy: str, concurrency: int) -> float:
    import httpx

    t0 = time.perf_counter()
    with httpx.Client(proxy=proxy, trust_env=False, timeout=10,
                      limits=httpx.Limits(max_connections=concurrency)) as client, \
            ThreadPoolExecutor(max_workers=concurrency) as pool:
        codes = list(pool.map(lambda url: client.get(url).status_code, urls))
    assert codes.count(200) == len(urls), {c: codes.count(c) for c in set(codes)}
    return time.perf_counter() - t0


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--checker":
        _checker(sys.argv[2])
        return
    recreate_database(DB_URL)
    import django

    django.setup()
    from datetime import timedelta

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from liveness.conf import knob
    from liveness.models import LivenessCheck
    from liveness.schedule import schedule_received
    from referral.models import Referral
    from tests.liveness.servers import ForwardProxy, Pages

    call_command("migrate", verbosity=0)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per page served
    t0 = time.perf_counter()
    _seed(N)
    seeded = time.perf_counter() - t0
    t0 = time.perf_counter()
    scheduled = schedule_received()
    scheduling = time.perf_counter() - t0
    assert scheduled == N
    sent_at = Referral.objects.order_by("-sent_at").values_list("sent_at", flat=True).first()
    now = sent_at + timedelta(seconds=knob("LIVENESS_SCHEDULE")[0] + 1)
    urls = list(Referral.objects.order_by("pk").values_list("item__url", flat=True))
    connection.close()
    with Pages() as pages, ForwardProxy(http_port=pages.port) as proxy:
        pages.default = (200, "<html><body><h1>A video</h1>" + "<p>text</p>" * 200 + "</body></html>", {})
        env = {**os.environ, "LIVENESS_PROXY": proxy.url}
        t0 = time.perf_counter()
        workers = [subprocess.Popen([sys.executable, "-P", __file__, "--checker", now.isoformat()], env=env)
                   for _ in range(WORKERS)]
        for worker in workers:
            assert worker.wait(timeout=3600) == 0
        desk = time.perf_counter() - t0
        done = LivenessCheck.objects.filter(sequence=0, finished_at__isnull=False)
        verdicts = {v: done.filter(verdict=v).count() for v in ("online", "offline", "unknown")}
        most = max(pages.max_inflight.values())
        pages.seen.clear()
        raw = raw_httpx(urls, proxy.url, knob("LIVENESS_CONCURRENCY") * WORKERS)
    per_host = N / HOSTS
    concurrency, interval = settings.LIVENESS_HOST_CONCURRENCY, settings.LIVENESS_HOST_INTERVAL_MS
    floor = per_host * interval / 1000
    print()
    print(f"Liveness benchmark, {timezone.now():%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, PostgreSQL and Redis on localhost; {N:,} referrals over {HOSTS} hosts, "
          f"through a local forward proxy (http) to local pages")
    print()
    print("| what | wall time | checks/s | note |")
    print("|---|---:|---:|---|")
    print(f"| seed: items, bulk approval, marked received | {seeded:.1f} s | | not measured work |")
    print(f"| liveness.schedule: states and first checks | {scheduling:.1f} s | {N / scheduling:,.0f} | |")
    print(f"| desk: first checks, {WORKERS} checker processes, limits on ({concurrency} in flight, {interval} ms "
          f"apart per host) | {desk:.1f} s | {N / desk:,.0f} | target < 900 s; {verdicts}; "
          f"at most {most} in flight at one host |")
    print(f"| floor set by the interval: {per_host:,.0f} checks per host × {interval} ms | {floor:.1f} s | "
          f"{N / floor if floor else 0:,.0f} | |")
    print(f"| raw httpx: the same GETs, {knob('LIVENESS_CONCURRENCY') * WORKERS} threads, no limits, no database "
          f"| {raw:.1f} s | {N / raw:,.0f} | |")
    print(f"\ndesk / raw: {desk / raw:.1f}×; desk / interval floor: {desk / floor if floor else 0:.2f}×")
    assert verdicts["online"] == N, verdicts


if __name__ == "__main__":
    main()
