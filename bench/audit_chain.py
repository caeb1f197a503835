"""Audit chain benchmark: what writing an audit event costs an action, and what sealing and verifying cost.

Four threads, each on its own connection, run transactions for a fixed time; each transaction inserts one row into
a scratch table (standing for the change) and writes one audit event, then commits:

- desk: audit.chain.record (one INSERT of the unsealed event; no lock), through Django's ORM;
- the lock it replaced: the same through plain psycopg2 with the global advisory lock and the read of the last
  hash that every writer used to take and hold until COMMIT (emulated in SQL, hashing in Python as before);
- raw: the same two INSERTs and COMMIT through plain psycopg2, no lock (the stack's limit for this shape).

Then the sealer (audit.chain.seal) over 100,000 committed events, and verification (audit.checkpoints.verify) of
the whole chain with a checkpoint, beside a plain SHA-256 over the same number of canonical bodies.

Run: make bench-audit   (env: BENCH_DATABASE_URL, BENCH_SECONDS, BENCH_EVENTS)
It creates and drops its own database; it talks only to 127.0.0.1.
"""

import hashlib
import json
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.support import drop_database, recreate_database  # noqa: E402

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/audit_bench")
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "100000"))
THREADS = 4
os.environ.update({"DATABASE_URL": DB_URL, "SECRET_KEY": "bench-only", "LOG_LEVEL": "WARNING",
                   "CELERY_BROKER_URL": "memory://"})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _loop(work, done) -> dict:
    """Run work(thread_number, i) in THREADS threads for SECONDS, then done() in each thread; transactions per
    second and latency."""
    latencies: list[list[float]] = [[] for _ in range(THREADS)]
    stop_at = time.perf_counter() + SECONDS
    errors = []

    def run(n):
        try:
            i = 0
            while (t0 := time.perf_counter()) < stop_at:
                work(n, i)
                latencies[n].append(time.perf_counter() - t0)
                i += 1
        except Exception as exc:  # reported in the table
            errors.append(repr(exc))
        finally:
            done()

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    ms = sorted(x * 1000 for own in latencies for x in own)
    return {"n": len(ms), "rate": len(ms) / elapsed, "p50": statistics.median(ms),
            "p95": ms[int(0.95 * (len(ms) - 1))], "errors": errors[:1]}


def main() -> None:
    recreate_database(DB_URL)
    import django

    django.setup()
    import psycopg2
    from django.core.management import call_command
    from django.db import connection, connections, transaction
    from django.utils import timezone

    from audit import chain, checkpoints
    from audit.models import AuditEvent

    try:
        call_command("migrate", verbosity=0)
        table = AuditEvent._meta.db_table
        with connection.cursor() as cur:
            cur.execute("CREATE TABLE bench_change (id bigserial PRIMARY KEY, n int NOT NULL)")
            cur.execute("CREATE TABLE bench_plain_event (id bigserial PRIMARY KEY, verb text, object_id text, "
                        "after jsonb, prev_hash text, hash text)")

        def desk(n, i):
            with transaction.atomic():
                with connection.cursor() as cur:
                    cur.execute("INSERT INTO bench_change (n) VALUES (%s)", [i])
                chain.record_many([{"actor": None, "verb": "bench.changed", "object_type": "change",
                                    "object_id": f"{n}-{i}", "after": {"n": i}}])

        conns = {}

        def plain(n):
            if n not in conns:
                conns[n] = psycopg2.connect(DB_URL)
            return conns[n]

        def old_lock(n, i):
            conn = plain(n)
            with conn.cursor() as cur:
                cur.execute("INSERT INTO bench_change (n) VALUES (%s)", [i])
                cur.execute("SELECT pg_advisory_xact_lock(1380271684)")
                cur.execute("SELECT hash FROM bench_plain_event ORDER BY id DESC LIMIT 1")
                prev = (cur.fetchone() or ("0" * 64,))[0]
                body = json.dumps({"verb": "bench.changed", "object_id": f"{n}-{i}", "after": {"n": i},
                                   "prev_hash": prev}, sort_keys=True)
                cur.execute("INSERT INTO bench_plain_event (verb, object_id, after, prev_hash, hash) "
                            "VALUES (%s, %s, %s, %s, %s)", ["bench.changed", f"{n}-{i}", json.dumps({"n": i}), prev,
                                                           hashlib.sha256(body.encode()).hexdigest()])
            conn.commit()

        def raw(n, i):
            conn = plain(n)
            with conn.cursor() as cur:
                cur.execute("INSERT INTO bench_change (n) VALUES (%s)", [i])
                cur.execute("INSERT INTO bench_plain_event (verb, object_id, after) VALUES (%s, %s, %s)",
                            ["bench.changed", f"{n}-{i}", json.dumps({"n": i})])
            conn.commit()

        writers = {}
        for name, work in (("raw", raw), ("lock", old_lock), ("desk", desk)):
            writers[name] = _loop(work, done=connections.close_all)
        for conn in conns.values():
            conn.close()
        connections.close_all()

        # Sealing: what the writers left, plus enough to reach EVENTS unsealed events.
        pending = AuditEvent.objects.filter(seq__isnull=True).count()
        chain.seal()
        now = timezone.now()
        rows = [AuditEvent(at=now, actor_label="system", verb="bench.loaded", object_type="change",
                           object_id=str(i), after={"n": i}) for i in range(EVENTS)]
        AuditEvent.objects.bulk_create(rows, batch_size=5000)
        t0 = time.perf_counter()
        sealed = chain.seal()
        seal_s = time.perf_counter() - t0
        checkpoints.checkpoint_write()
        total = AuditEvent.objects.count()
        t0 = time.perf_counter()
        verdict = checkpoints.verify()
        verify_s = time.perf_counter() - t0
        assert verdict.ok, verdict
        bodies = [chain.canonical(e) for e in AuditEvent.objects.order_by("seq")[:EVENTS]]
        t0 = time.perf_counter()
        for body in bodies:
            hashlib.sha256(body).hexdigest()
        sha_s = time.perf_counter() - t0
        with connection.cursor() as cur:
            cur.execute(f"SELECT pg_size_pretty(pg_total_relation_size('{table}'))")  # noqa: S608 - our own name
            size = cur.fetchone()[0]
    finally:
        connections.close_all()
        drop_database(DB_URL)

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    print()
    print(f"Audit chain benchmark, {timezone.now():%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores "
          f"({cpu}), Python {platform.python_version()}; {THREADS} writer threads for {SECONDS:.0f} s each")
    print()
    print("| writers: one change + one audit event per transaction | transactions/s | p50 ms | p95 ms | errors |")
    print("|---|---:|---:|---:|---|")
    labels = {"raw": "raw: two INSERTs + COMMIT, psycopg2, no lock",
              "lock": "the lock it replaced: advisory lock + last hash + INSERT, held to COMMIT (psycopg2)",
              "desk": "desk: audit.chain.record through the ORM (unsealed INSERT, no lock)"}
    for key in ("raw", "lock", "desk"):
        r = writers[key]
        print(f"| {labels[key]} | {r['rate']:,.0f} | {r['p50']:.2f} | {r['p95']:.2f} | {r['errors'] or 'none'} |")
    print()
    print("| sealer and verification | events | seconds | events/s |")
    print("|---|---:|---:|---:|")
    print(f"| seal (sequence + SHA-256 + one UPDATE per 1,000) | {sealed:,} | {seal_s:.2f} | {sealed / seal_s:,.0f} |")
    print(f"| verify_audit: chain + checkpoints | {total:,} | {verify_s:.2f} | {total / verify_s:,.0f} |")
    print(f"| raw: SHA-256 of the same canonical bodies, Python | {len(bodies):,} | {sha_s:.2f} | "
          f"{len(bodies) / sha_s:,.0f} |")
    print(f"\n(events left unsealed by the writers before the seal: {pending:,}; audit table size {size})")


if __name__ == "__main__":
    main()
