"""Dispatch benchmark: 26,000 approved referrals (the largest Referral Action Day) delivered by two real Celery
workers on PostgreSQL and Redis to a local receiver, batched by 100 and unbatched; and approval-to-delivered
latency for single approvals. Beside each figure, the raw limit measured in the same run: plain httpx POSTs of
the same bodies to the same receiver.

Run: make bench-dispatch   (env: BENCH_DATABASE_URL, BENCH_REDIS_URL, BENCH_REFERRALS, BENCH_LATENCY_SAMPLES)
It creates and drops its own database; it talks only to 127.0.0.1.
"""

import os
import platform
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.support import free_port, recreate_database  # noqa: E402

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/referral_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
N = int(os.environ.get("BENCH_REFERRALS", "26000"))
LATENCY_SAMPLES = int(os.environ.get("BENCH_LATENCY_SAMPLES", "200"))
WORKERS = 2
ENV = {
    "DATABASE_URL": DB_URL, "CELERY_BROKER_URL": REDIS_URL, "REDIS_URL": REDIS_URL,
    "CELERY_QUEUE": f"bench-{os.getpid()}", "ALLOW_PRIVATE_ENDPOINTS": "1", "SECRET_KEY": "bench-only",
    "DELIVERY_SWEEP_SECONDS": "2", "LOG_LEVEL": "WARNING",
    "UNIT_AUTHORITY_NAME": "Bench IRU", "UNIT_AUTHORITY_TYPE": "Law enforcement authority",
    "UNIT_MEMBER_STATE": "NL", "UNIT_CONTACT_EMAIL": "iru@bench.invalid",
}
os.environ.update(ENV)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    recreate_database(DB_URL)
    import django

    django.setup()
    import httpx
    from django.core.management import call_command
    from django.utils import timezone

    from accounts import services as account_services
    from cases.models import Case, Item
    from platforms import services as platform_services
    from referral.actions import approval
    from referral.models import Delivery, Referral

    call_command("migrate", verbosity=0)
    port = free_port()
    procs = [subprocess.Popen([sys.executable, str(ROOT / "bench" / "receiver.py"), str(port)])]
    base = f"http://127.0.0.1:{port}"
    for _ in range(50):
        try:
            httpx.get(base + "/stats")
            break
        except httpx.HTTPError:
            time.sleep(0.1)

    analyst = account_services.user_create(actor=None, username="analyst", role="analyst")
    supervisor = account_services.user_create(actor=None, username="supervisor", role="supervisor")
    secret = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
    for slug, size in (("batched", 100), ("unbatched", 1)):
        platform_services.platform_create(
            actor=None, slug=slug, name=slug, domains=[f"{slug}.example"],
            contact_points=[{"channel": "webhook", "endpoint": f"{base}/hook/{slug}", "secret": secret,
                             "max_items_per_message": size}],
            legal={"pre_information_sent_at": "2026-01-05T09:00:00Z"})  # orders may go at once (TCO Art 3(2))
    case = Case.objects.create(title="bench", created_by=analyst)

    def proposed_items(slug: str, count: int) -> list[int]:
        from platforms.models import Platform

        p = Platform.objects.get(slug=slug)
        start = Item.objects.count()
        items = [Item(case=case, url=f"https://{slug}.example/v/{start + i}",
                      canonical_url=f"https://{slug}.example/v/{start + i}", platform=p, kind="post",
                      categories=["incitement"], status="proposed", logged_by=analyst, proposed_by=analyst)
                 for i in range(count)]
        return [i.pk for i in Item.objects.bulk_create(items, batch_size=2000)]

    env = {**os.environ, **ENV, "DELIVERY_CONCURRENCY": "16"}
    for i in range(WORKERS):
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo", "-n", f"bench{i}-{os.getpid()}@%h",
             "--without-gossip", "--without-mingle", "--loglevel", "WARNING"], cwd=ROOT, env=env))
    time.sleep(4)  # workers connected and idle

    def stats() -> dict:
        return httpx.get(base + "/stats", timeout=30).json()

    def deliver(slug: str) -> dict:
        ids = proposed_items(slug, N)
        httpx.post(base + "/reset")
        t0 = time.perf_counter()
        result = approval.item_approve_many(actor=supervisor, item_ids=ids)
        committed_wall, approve_s = time.time(), time.perf_counter() - t0
        assert len(result["referrals"]) == N, result["errors"][:3]
        deadline = time.monotonic() + 600
        while Referral.objects.filter(platform__slug=slug).exclude(status="sent").exists():
            if time.monotonic() > deadline:
                raise SystemExit(f"{slug}: not delivered within 600 s")
            time.sleep(0.2)
        received = stats()["received"]
        messages = Delivery.objects.filter(contact_point__platform__slug=slug).count()
        assert len(received) == messages and sum(n for _, n in received.values()) == N
        last = max(ts for ts, _ in received.values())
        return {"approve_s": approve_s, "deliver_s": last - committed_wall, "messages": messages}

    def raw_posts(slug: str, threads: int) -> float:
        """Plain httpx POSTs of the same bodies (the stored payloads) to the same receiver."""
        bodies = [bytes(b) for b in Delivery.objects.filter(contact_point__platform__slug=slug)
                  .values_list("payload", flat=True)]
        headers = {"content-type": "application/json", "webhook-id": "raw"}
        t0 = time.perf_counter()
        if threads == 1:
            with httpx.Client() as client:
                for body in bodies:
                    client.post(f"{base}/raw", content=body, headers=headers)
        else:
            with httpx.Client(limits=httpx.Limits(max_connections=threads)) as client, \
                    ThreadPoolExecutor(threads) as pool:
                list(pool.map(lambda b: client.post(f"{base}/raw", content=b, headers=headers), bodies))
        return time.perf_counter() - t0

    try:
        rows = []
        for slug in ("batched", "unbatched"):
            figures = deliver(slug)
            raw1, raw16 = raw_posts(slug, 1), raw_posts(slug, 16)
            rows.append((slug, figures, raw1, raw16))

        latencies = []
        ids = proposed_items("unbatched", LATENCY_SAMPLES)
        httpx.post(base + "/reset")
        committed = {}
        for item_id in ids:
            approval.item_approve(actor=supervisor, item_id=item_id, instrument="removal_order",
                                  order={"statement_of_reasons": "Bench."})
            committed[item_id] = time.time()
            time.sleep(0.05)
        deadline = time.monotonic() + 120
        while Referral.objects.filter(item_id__in=ids).exclude(status="sent").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        received = stats()["received"]
        by_item = {str(d.pk): d.referrals.get().item_id for d in
                   Delivery.objects.filter(referrals__item_id__in=ids).prefetch_related("referrals")}
        for msg_id, (ts, _) in received.items():
            if msg_id in by_item:
                latencies.append(ts - committed[by_item[msg_id]])
        latencies.sort()
        raw_single = []
        body = bytes(Delivery.objects.filter(referrals__item_id=ids[0]).values_list("payload", flat=True).get())
        with httpx.Client() as client:
            for _ in range(LATENCY_SAMPLES):
                t0 = time.perf_counter()
                client.post(f"{base}/raw", content=body)
                raw_single.append(time.perf_counter() - t0)
        raw_single.sort()

        def pct(values, p):
            return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]

        print()
        print(f"Dispatch benchmark, {timezone.now():%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}; {WORKERS} workers, PostgreSQL + Redis on localhost")
        print()
        print("| what | messages | desk | raw httpx, sequential | raw httpx, 16 threads | target |")
        print("|---|---:|---:|---:|---:|---|")
        targets = {"batched": "< 15 s", "unbatched": "< 60 s"}
        for slug, f, raw1, raw16 in rows:
            label = f"{N:,} referrals, {'batched by 100' if slug == 'batched' else 'unbatched'}"
            print(f"| {label}: approval commit → last message received | {f['messages']:,} | {f['deliver_s']:.1f} s "
                  f"({f['messages'] / f['deliver_s']:,.0f} msg/s) | {raw1:.1f} s ({f['messages'] / raw1:,.0f}/s) | "
                  f"{raw16:.1f} s ({f['messages'] / raw16:,.0f}/s) | {targets[slug]} |")
        for slug, f, _, _ in rows:
            print(f"| bulk approval of {N:,} ({slug}), one transaction | | {f['approve_s']:.1f} s | | | |")
        print(f"| approval → delivered, single removal orders (n={len(latencies)}) | | "
              f"p50 {pct(latencies, 50) * 1000:.0f} ms, p99 {pct(latencies, 99) * 1000:.0f} ms | "
              f"one POST p50 {pct(raw_single, 50) * 1000:.1f} ms, p99 {pct(raw_single, 99) * 1000:.1f} ms | | "
              "p99 < 2 s |")
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
