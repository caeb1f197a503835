"""Review job benchmark (issue 9): a supervisor approves every proposal matching a filter, 26,000 of them (the
largest Referral Action Day), as the page's "decide on every matching proposal" does: a ReviewJob run to its end
(chunks of 1,000 read by keyset in Review's order, each approved by item_approve_many in its own transaction).
Beside it, in the same run, one item_approve_many of 26,000 other proposals (the bulk action alone).

Run: make bench-review-job   (env: BENCH_DATABASE_URL, BENCH_ITEMS). It creates its own database and talks only
to 127.0.0.1. Target: under 30 s.
"""

import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.support import recreate_database  # noqa: E402

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/review_job_bench")
N = int(os.environ.get("BENCH_ITEMS", "26000"))
os.environ.update({"DATABASE_URL": DB_URL, "CELERY_BROKER_URL": "memory://", "ALLOW_PRIVATE_ENDPOINTS": "1",
                   "SECRET_KEY": "bench-only", "LOG_LEVEL": "WARNING"})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    recreate_database(DB_URL)
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from accounts import services as account_services
    from cases.models import Case, Item
    from platforms import services as platform_services
    from platforms.models import Platform
    from referral.actions import approval, review_jobs
    from referral.models import Referral

    call_command("migrate", verbosity=0)
    analyst = account_services.user_create(actor=None, username="analyst", role="analyst")
    supervisor = account_services.user_create(actor=None, username="supervisor", role="supervisor")
    for slug in ("jobhost", "bulkhost"):
        platform_services.platform_create(
            actor=None, slug=slug, name=slug, domains=[f"{slug}.example"],
            contact_points=[{"channel": "webhook", "endpoint": f"http://127.0.0.1:9/{slug}",
                             "secret": "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=",
                             "max_items_per_message": 100}])
    case = Case.objects.create(title="bench", created_by=analyst)
    now = timezone.now()

    def proposals(slug: str) -> list[int]:
        p = Platform.objects.get(slug=slug)
        items = [Item(case=case, url=f"https://{slug}.example/v/{i}", canonical_url=f"https://{slug}.example/v/{i}",
                      platform=p, kind="post", categories=["incitement"], status="proposed", logged_by=analyst,
                      proposed_by=analyst, proposed_at=now, priority=i % 11) for i in range(N)]
        return [i.pk for i in Item.objects.bulk_create(items, batch_size=2000)]

    proposals("jobhost")
    bulk_ids = proposals("bulkhost")
    job_platform = Platform.objects.get(slug="jobhost").pk
    t0 = time.perf_counter()
    job = review_jobs.review_job_create(actor=supervisor, decision="approve", filters={"platform": job_platform},
                                        query=f"platform={job_platform}", queue=False)
    job = review_jobs.review_job_run(job.pk)
    job_s = time.perf_counter() - t0
    assert (job.status, job.done) == ("done", N), (job.status, job.done, job.failed, job.skipped)
    assert Referral.objects.filter(platform_id=job_platform).count() == N
    t0 = time.perf_counter()
    result = approval.item_approve_many(actor=supervisor, item_ids=bulk_ids)
    bulk_s = time.perf_counter() - t0
    assert len(result["approved"]) == N

    print()
    print(f"Review job benchmark, {timezone.now():%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}, Python {platform.python_version()}, PostgreSQL on localhost")
    print()
    print("| what | proposals | time | per second | target |")
    print("|---|---:|---:|---:|---|")
    print(f"| review job: approve every proposal matching a filter (chunks of 1,000) | {N:,} | {job_s:.1f} s | "
          f"{N / job_s:,.0f} | < 30 s |")
    print(f"| the bulk action alone: one item_approve_many | {N:,} | {bulk_s:.1f} s | {N / bulk_s:,.0f} | |")


if __name__ == "__main__":
    main()
