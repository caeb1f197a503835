"""Bulk approval benchmark: a supervisor approves 26,000 proposed items (the largest Referral Action Day) in one
call of referral.actions.approval.item_approve_many, on PostgreSQL, for a platform whose contact point batches 100
referrals a message and for one that sends each alone. Beside each figure, the raw limit measured in the same run:
the very same rows (the items' UPDATE, the referrals, the outbox rows and their links, the audit events) written
in one transaction by plain psycopg2 (one UPDATE, then COPY), with no checks and no Django.

Run: make bench-approve   (env: BENCH_DATABASE_URL, BENCH_REFERRALS, BENCH_PROFILE=file.prof for a cProfile of
the desk's calls). It creates and drops its own database; it talks only to 127.0.0.1.
"""

import cProfile
import io
import json
import os
import platform
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.support import recreate_database  # noqa: E402

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/approve_bench")
N = int(os.environ.get("BENCH_REFERRALS", "26000"))
PROFILE = os.environ.get("BENCH_PROFILE", "")
ENV = {"DATABASE_URL": DB_URL, "CELERY_BROKER_URL": "memory://", "ALLOW_PRIVATE_ENDPOINTS": "1",
       "SECRET_KEY": "bench-only", "LOG_LEVEL": "WARNING"}
os.environ.update(ENV)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _copy(cursor, model, rows: list[dict]) -> None:
    """COPY `rows` (attname → value) into `model`'s table; the other columns take their defaults."""
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if f.attname in rows[0]]
    buf = io.StringIO()
    for row in rows:
        values = []
        for f in fields:
            value = row[f.attname]
            if value is None:
                values.append("\\N")
            elif isinstance(value, dict | list):
                values.append(json.dumps(value))
            elif hasattr(value, "isoformat"):
                values.append(value.isoformat())
            else:
                values.append(str(value))
        buf.write("\t".join(values) + "\n")
    buf.seek(0)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    cursor.copy_expert(f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN", buf,
                       size=len(buf.getvalue()) + 1)


def raw_approval(item_ids: list[int], platform_id: int, contact_point_id: int, batch: int, supervisor) -> float:
    """The same rows as an approval of `item_ids`, written with psycopg2 alone: one UPDATE and four COPYs."""
    from django.db import connection, transaction
    from django.utils import timezone

    from audit.models import AuditEvent
    from referral.models import Delivery, Referral

    through = Delivery.referrals.through
    t0 = time.perf_counter()
    now = timezone.now()
    # One transaction (its deferred foreign-key checks run at commit, as the desk's), on psycopg2's own cursor.
    with transaction.atomic(), connection.cursor() as wrapper:
        cursor = wrapper.cursor
        cursor.execute("UPDATE cases_item SET status = 'approved', decided_by_id = %s, updated_at = %s "
                       "WHERE id = ANY(%s)", [supervisor.pk, now, item_ids])
        cursor.execute("SELECT nextval(pg_get_serial_sequence('referral_referral', 'id')) "
                       "FROM generate_series(1, %s)", [len(item_ids)])
        referral_ids = [r[0] for r in cursor.fetchall()]
        _copy(cursor, Referral, [
            {"id": rid, "item_id": iid, "platform_id": platform_id, "instrument": "referral", "status": "queued",
             "due_at": now, "platform_reference": "", "note": "", "approved_by_id": supervisor.pk,
             "created_at": now, "updated_at": now} for rid, iid in zip(referral_ids, item_ids, strict=True)])
        deliveries = [(uuid.uuid4(), referral_ids[i:i + batch]) for i in range(0, len(referral_ids), batch)]
        _copy(cursor, Delivery, [
            {"id": did, "contact_point_id": contact_point_id, "event": "referrals.created", "message": "",
             "status": "pending", "attempts": 0, "attempt_base": 0,
             "next_attempt_at": now, "last_error": "", "external_reference": "", "created_at": now}
            for did, _ in deliveries])
        _copy(cursor, through, [{"delivery_id": did, "referral_id": rid} for did, rids in deliveries for rid in rids])
        events = []
        for iid, rid in zip(item_ids, referral_ids, strict=True):
            events.append({"verb": "item.approved", "object_type": "item", "object_id": iid,
                           "before": {"status": "proposed"}, "after": {"status": "approved", "instrument": "referral"}})
            events.append({"verb": "referral.queued", "object_type": "referral", "object_id": rid,
                           "after": {"status": "queued", "platform": "raw", "instrument": "referral"}})
        events += [{"verb": "delivery.queued", "object_type": "delivery", "object_id": did,
                    "after": {"contact_point": contact_point_id, "channel": "webhook", "referrals": rids}}
                   for did, rids in deliveries]
        _copy(cursor, AuditEvent, [{"at": now, "actor_id": supervisor.pk, "actor_label": supervisor.username,
                                    "before": {}, **e} for e in events])
    return time.perf_counter() - t0


def main() -> None:
    recreate_database(DB_URL)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from accounts import services as account_services
    from cases.models import Case, Item
    from platforms import services as platform_services
    from platforms.models import ContactPoint, Platform
    from referral.actions import approval
    from referral.models import Delivery, Referral

    call_command("migrate", verbosity=0)
    analyst = account_services.user_create(actor=None, username="analyst", role="analyst")
    supervisor = account_services.user_create(actor=None, username="supervisor", role="supervisor")
    secret = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
    for slug, size in (("batched", 100), ("unbatched", 1)):
        platform_services.platform_create(
            actor=None, slug=slug, name=slug, domains=[f"{slug}.example"],
            contact_points=[{"channel": "webhook", "endpoint": f"http://127.0.0.1:9/hook/{slug}", "secret": secret,
                             "max_items_per_message": size}])
    case = Case.objects.create(title="bench", created_by=analyst)

    def proposed_items(slug: str, count: int) -> list[int]:
        p = Platform.objects.get(slug=slug)
        start = Item.objects.count()
        items = [Item(case=case, url=f"https://{slug}.example/v/{start + i}",
                      canonical_url=f"https://{slug}.example/v/{start + i}", platform=p, kind="post",
                      categories=["incitement"], status="proposed", logged_by=analyst, proposed_by=analyst)
                 for i in range(count)]
        return [i.pk for i in Item.objects.bulk_create(items, batch_size=2000)]

    profiler = cProfile.Profile() if PROFILE else None
    rows = []
    for slug, batch in (("batched", 100), ("unbatched", 1)):
        ids = proposed_items(slug, N)
        connection.close()  # each measurement starts on a fresh connection
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            if profiler:
                profiler.enable()
            result = approval.item_approve_many(actor=supervisor, item_ids=ids)
            if profiler:
                profiler.disable()
            desk = time.perf_counter() - t0
        assert len(result["referrals"]) == N and not result["errors"], result["errors"][:3]
        messages = Delivery.objects.filter(contact_point__platform__slug=slug).count()
        assert Referral.objects.filter(platform__slug=slug).count() == N
        raw_ids = proposed_items(slug, N)
        cp = ContactPoint.objects.get(platform__slug=slug)
        connection.close()
        connection.ensure_connection()
        raw = raw_approval(raw_ids, cp.platform_id, cp.pk, batch, supervisor)
        rows.append((slug, messages, desk, len(queries.captured_queries), raw))
    if profiler:
        profiler.dump_stats(PROFILE)

    from django.utils import timezone

    print()
    print(f"Bulk approval benchmark, {timezone.now():%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, PostgreSQL on localhost")
    print()
    print("| what | outbox rows | desk (item_approve_many) | queries | raw psycopg2 (UPDATE + COPY), same rows | "
          "desk / raw | target |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for slug, messages, desk, queries, raw in rows:
        label = "batched by 100" if slug == "batched" else "unbatched"
        print(f"| bulk approval of {N:,} ({label}), one transaction | {messages:,} | {desk:.1f} s "
              f"({N / desk:,.0f}/s) | {queries} | {raw:.2f} s ({N / raw:,.0f}/s) | {desk / raw:.1f}× | < 10 s |")


if __name__ == "__main__":
    main()
