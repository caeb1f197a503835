"""REST API benchmark: the app under gunicorn as the Dockerfile runs it (config.wsgi:application, 3 sync workers),
loaded by Locust (headless, 4 users, one path at a time, warm-up then a fixed duration), on a fresh PostgreSQL
database seeded through the services and ANALYZEd. Beside the paths, the raw limits measured in the same run: a
bare Django JSON view (bench/bare_wsgi.py) under the same gunicorn, and a one-row INSERT + COMMIT loop (psycopg2)
from the same number of threads.

Run: make bench-api   (env: BENCH_DATABASE_URL, BENCH_REDIS_URL, BENCH_SECONDS, BENCH_WARMUP, BENCH_POOL,
                        BENCH_API_WORKERS)
It creates and drops its own database; it talks only to 127.0.0.1. No Celery worker runs: the approvals'
deliveries stay queued (the webhook endpoint is a port nobody listens on) and the queue is deleted at the end.
"""

import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.support import UNTHROTTLED, drop_database, free_port, recreate_database  # noqa: E402

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/api_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
SECONDS = float(os.environ.get("BENCH_SECONDS", "15"))
WARMUP = float(os.environ.get("BENCH_WARMUP", "3"))
POOL = int(os.environ.get("BENCH_POOL", "6000"))  # fresh items per consuming path (propose, approve, status)
LIST_ITEMS = 200
USERS = 4
WORKERS = int(os.environ.get("BENCH_API_WORKERS", "3"))  # the Dockerfile runs 3
QUEUE = "bench-api"
ENV = {
    "DATABASE_URL": DB_URL, "CELERY_BROKER_URL": REDIS_URL, "REDIS_URL": REDIS_URL, "CELERY_QUEUE": QUEUE,
    "SECRET_KEY": "bench-only", "DEBUG": "0", "STATIC_MANIFEST": "0", "ALLOWED_HOSTS": "127.0.0.1",
    "ALLOW_PRIVATE_ENDPOINTS": "1", "LOG_LEVEL": "WARNING",
    "PYTHONWARNINGS": "ignore:No directory at:UserWarning",  # WhiteNoise: no collectstatic run for a bench
    **UNTHROTTLED,
}
os.environ.update(ENV)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# (key, label, target from the issue)
PATHS = [
    ("item_create", "POST /api/v1/items/", "≥ 330/s, p50 < 15 ms"),
    ("item_get", "GET /api/v1/items/{id}/", "p50 < 10 ms"),
    ("item_list", "GET /api/v1/items/?case= (50 rows)", "≥ 200/s"),
    ("propose", "POST /api/v1/items/{id}/propose/", "≥ 200/s"),
    ("approve", "POST /api/v1/items/{id}/approve/", "≥ 200/s"),
    ("liaison_list", "liaison GET /api/v1/referrals/", "≥ 200/s"),
    ("liaison_status", "liaison POST /api/v1/referrals/{id}/status/", "≥ 300/s"),
]


def seed() -> dict:
    """Users with keys, a platform, cases and the pools of fresh items, all through the services where one
    exists; the pools (logged, proposed items) by bulk_create as bench/dispatch.py does."""
    from django.core.management import call_command
    from django.db import connection

    from accounts import services as account_services
    from cases.actions import cases as case_actions
    from cases.actions import items as item_actions
    from cases.models import Item
    from platforms import services as platform_services
    from platforms.models import Platform
    from referral.actions import approval

    call_command("migrate", verbosity=0)
    domain = "bench.example"
    platform_services.platform_create(
        actor=None, slug="bench", name="Bench", domains=[domain],
        contact_points=[{"channel": "webhook", "endpoint": f"http://127.0.0.1:{free_port()}/hook",
                         "secret": "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="}])
    plat = Platform.objects.get(slug="bench")
    users, keys = {}, {}
    for role in ("analyst", "supervisor", "liaison"):
        users[role] = account_services.user_create(actor=None, username=f"bench-{role}", role=role,
                                                   platform_slug="bench" if role == "liaison" else None)
        keys[role] = account_services.api_key_issue(actor=None, user=users[role])[1]
    analyst, supervisor = users["analyst"], users["supervisor"]
    case = case_actions.case_create(actor=analyst, title="bench: items logged over the API")
    list_case = case_actions.case_create(actor=analyst, title="bench: the list")
    pool_case = case_actions.case_create(actor=analyst, title="bench: pools")
    listed = [item_actions.item_log(actor=analyst, case=list_case, url=f"https://{domain}/l/{i}", kind="post",
                                    categories=["incitement"]).pk for i in range(LIST_ITEMS)]

    def pool(tag: str, status: str) -> list[int]:
        items = [Item(case=pool_case, url=f"https://{domain}/{tag}/{i}", canonical_url=f"https://{domain}/{tag}/{i}",
                      platform=plat, kind="post", categories=["incitement"], status=status, logged_by=analyst,
                      proposed_by=analyst if status == "proposed" else None)
                 for i in range(POOL)]
        return [i.pk for i in Item.objects.bulk_create(items, batch_size=2000)]

    propose_ids = pool("propose", "logged")
    approve_ids = pool("approve", "proposed")
    to_refer = pool("refer", "proposed")
    result = approval.item_approve_many(actor=supervisor, item_ids=to_refer)
    assert not result["errors"], result["errors"][:3]
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return {"keys": keys, "case": case.pk, "list_case": list_case.pk, "item": listed[0], "domain": domain,
            "run": os.getpid(), "propose": propose_ids, "approve": approve_ids, "referrals": result["referrals"]}


def start_gunicorn(app: str, port: int, check: str, headers: dict):
    import httpx

    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS),
         "--access-logfile", "-", "--log-level", "warning"], cwd=ROOT, env={**os.environ, **ENV},
        stdout=subprocess.DEVNULL)  # the access log, as the Dockerfile writes it, to nowhere
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{check}", headers=headers, timeout=5).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"gunicorn {app} did not answer on {port}")
        time.sleep(0.2)


def stop(proc) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def locust(path: str, port: int, data_file: str, tmp: str) -> dict:
    out = os.path.join(tmp, f"{path}.json")
    with open(os.path.join(tmp, f"{path}.log"), "w") as log:
        subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "api_locustfile.py"), "--headless",
             "-u", str(USERS), "-r", str(USERS), "-t", f"{WARMUP + SECONDS:.0f}s",
             "--host", f"http://127.0.0.1:{port}", "--only-summary", "--loglevel", "ERROR",
             "--exit-code-on-error", "0"],
            cwd=ROOT, env={**os.environ, "BENCH_API_PATH": path, "BENCH_API_DATA": data_file, "BENCH_API_OUT": out,
                           "BENCH_API_WARMUP": str(WARMUP)},
            stdout=log, stderr=subprocess.STDOUT, check=True, timeout=WARMUP + SECONDS + 60)
    with open(out) as f:
        return json.load(f)


def raw_insert() -> dict:
    """One-row INSERT + COMMIT in a loop from USERS threads, each on its own connection, for SECONDS."""
    import psycopg2

    def connect():
        conn = psycopg2.connect(DB_URL)
        conn.autocommit = False
        return conn

    setup = connect()
    with setup.cursor() as cur:
        cur.execute("CREATE TABLE bench_raw (id bigserial PRIMARY KEY, url text NOT NULL, "
                    "created_at timestamptz NOT NULL DEFAULT now())")
    setup.commit()
    setup.close()
    latencies: list[list[float]] = [[] for _ in range(USERS)]
    stop_at = time.perf_counter() + SECONDS

    def run(n: int) -> None:
        conn, own = connect(), latencies[n]
        with conn.cursor() as cur:
            i = 0
            while True:
                t0 = time.perf_counter()
                if t0 >= stop_at:
                    break
                cur.execute("INSERT INTO bench_raw (url) VALUES (%s)", (f"https://bench.example/raw/{n}-{i}",))
                conn.commit()
                own.append(time.perf_counter() - t0)
                i += 1
        conn.close()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=run, args=(n,)) for n in range(USERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    all_ms = sorted(x * 1000 for own in latencies for x in own)

    def pct(p):
        return all_ms[min(len(all_ms) - 1, int(round(p / 100 * (len(all_ms) - 1))))]

    return {"requests": len(all_ms), "failures": 0, "rps": len(all_ms) / elapsed, "p50": pct(50), "p95": pct(95),
            "p99": pct(99), "errors": []}


def main() -> None:
    recreate_database(DB_URL)
    import django

    django.setup()
    import redis
    from django.db import connections
    from django.utils import timezone

    procs = []
    try:
        t_seed = time.perf_counter()
        data = seed()
        seed_s = time.perf_counter() - t_seed
        connections.close_all()
        tmp = tempfile.mkdtemp(prefix="bench-api-")
        data_file = os.path.join(tmp, "data.json")
        with open(data_file, "w") as f:
            json.dump(data, f)

        bare_port = free_port()
        procs.append(start_gunicorn("bench.bare_wsgi:application", bare_port, "/bare/", {}))
        bare = locust("bare", bare_port, data_file, tmp)
        stop(procs.pop())
        raw = raw_insert()

        port = free_port()
        procs.append(start_gunicorn("config.wsgi:application", port, f"/api/v1/items/{data['item']}/",
                                    {"Authorization": f"Bearer {data['keys']['analyst']}"}))
        results = {key: locust(key, port, data_file, tmp) for key, _, _ in PATHS}
    finally:
        for proc in procs:
            stop(proc)
        try:
            r = redis.Redis.from_url(REDIS_URL)
            r.delete(QUEUE, *r.keys(f"_kombu.binding*.{QUEUE}"))
        except redis.RedisError as exc:
            print(f"(could not delete the queue {QUEUE}: {exc})")
        connections.close_all()
        drop_database(DB_URL)

    def ms(v: float) -> str:
        return f"{v:.1f}" if v < 10 else f"{v:.0f}"

    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print()
    print(f"REST API benchmark, {timezone.now():%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores "
          f"({cpu}), Python {platform.python_version()}; gunicorn {WORKERS} sync workers, Locust {USERS} users "
          f"(one process on the same machine), {WARMUP:.0f} s warm-up then {SECONDS:.0f} s per path; "
          f"seeded in {seed_s:.0f} s ({3 * POOL + LIST_ITEMS:,} items, {POOL:,} referrals)")
    print()
    print("| path | req/s | p50 ms | p95 ms | p99 ms | errors | target |")
    print("|---|---:|---:|---:|---:|---:|---|")
    rows = [("raw: bare Django JSON view, same gunicorn", bare, ""),
            (f"raw: one-row INSERT + COMMIT, psycopg2, {USERS} threads (rows/s)", raw, "")]
    rows += [(label, results[key], target) for key, label, target in PATHS]
    notes = []
    for label, r, target in rows:
        print(f"| {label} | {r['rps']:,.0f} | {ms(r['p50'])} | {ms(r['p95'])} | {ms(r['p99'])} | "
              f"{r['failures']:,} of {r['requests']:,} | {target} |")
        if r["errors"]:
            notes.append(f"{label}: {'; '.join(r['errors'])}")
        if r.get("pool_used", 0) > POOL and any(label == lb and k in ("propose", "approve", "liaison_status")
                                                for k, lb, _ in PATHS):
            notes.append(f"{label}: its pool of {POOL:,} fresh items ran out (raise BENCH_POOL)")
    for note in notes:
        print(f"- {note}")


if __name__ == "__main__":
    main()
