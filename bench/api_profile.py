"""In-process profile of the API's write paths (create, propose, approve, liaison status): per request wall and CPU
time, SQL statements and their time, and the desk's functions by cumulative time, under cProfile (which adds its
own overhead: compare paths with each other, not with bench/api.py's figures).

Run: .venv/bin/python -P bench/api_profile.py   It creates and drops nothing but its own database (prof_api) and
talks only to 127.0.0.1."""
import cProfile, io, os, pstats, sys, time
os.environ.update({"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/prof_api", "SECRET_KEY": "x",
                   "ALLOWED_HOSTS": "127.0.0.1", "CELERY_BROKER_URL": "memory://", "REDIS_URL": "redis://127.0.0.1:6379/8",
                   "LOG_LEVEL": "ERROR", "ALLOW_PRIVATE_ENDPOINTS": "1", "DJANGO_SETTINGS_MODULE": "config.settings"})
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.support import recreate_database
recreate_database(os.environ["DATABASE_URL"])
import django; django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from accounts import services as acc
from cases.actions import cases as case_actions, items as item_actions
from tests.conftest import make_platform
N = 300
platform = make_platform("tube", ["tube.example"])
analyst = acc.user_create(actor=None, username="analyst", role="analyst")
sup = acc.user_create(actor=None, username="sup", role="supervisor")
liaison = acc.user_create(actor=None, username="li", role="liaison", platform_slug="tube")
keys = {u.username: acc.api_key_issue(actor=None, user=u)[1] for u in (analyst, sup, liaison)}
case = case_actions.case_create(actor=analyst, title="prof")
clients = {k: Client(HTTP_AUTHORIZATION=f"Bearer {v}", HTTP_HOST="127.0.0.1") for k, v in keys.items()}
logged = [item_actions.item_log(actor=analyst, case=case, url=f"https://tube.example/watch?v=p{n}", kind="post",
                                categories=["incitement"]).pk for n in range(2 * N)]
for pk in logged[N:]:
    item_actions.item_propose(actor=analyst, item_id=pk)
from referral.actions import approval
referrals = [approval.item_approve(actor=sup, item_id=pk).referrals.get().pk for pk in logged[N + N // 2:]]
to_approve = logged[N:N + N // 2]
paths = {
  "POST /items/": lambda n: clients["analyst"].post("/api/v1/items/", {"case": case.pk, "url": f"https://tube.example/watch?v=new{n}", "kind": "post", "categories": ["incitement"]}, content_type="application/json"),
  "POST propose": lambda n: clients["analyst"].post(f"/api/v1/items/{logged[n]}/propose/", content_type="application/json"),
  "POST approve": lambda n: clients["sup"].post(f"/api/v1/items/{to_approve[n]}/approve/", {"instrument": "referral"}, content_type="application/json"),
  "POST status": lambda n: clients["li"].post(f"/api/v1/referrals/{referrals[n]}/status/", {"status": "acknowledged"}, content_type="application/json"),
}
counts = {"POST /items/": N, "POST propose": N, "POST approve": N // 2, "POST status": N // 2}
for name, call in paths.items():
    n = counts[name] - 20
    for i in range(10):  # warm-up
        assert call(i).status_code in (200, 201), call(i).content[:200]
    prof = cProfile.Profile()
    with CaptureQueriesContext(connection) as q:
        t0 = time.process_time(); w0 = time.perf_counter()
        prof.enable()
        for i in range(10, 10 + n):
            r = call(i)
            assert r.status_code in (200, 201), r.content[:300]
        prof.disable()
        cpu = (time.process_time() - t0) / n * 1000; wall = (time.perf_counter() - w0) / n * 1000
    sql = [x for x in q.captured_queries]
    sql_ms = sum(float(x["time"]) for x in sql) / n * 1000
    print(f"\n## {name}: {n} requests, wall {wall:.2f} ms, CPU {cpu:.2f} ms, SQL {len(sql)/n:.1f} statements {sql_ms:.2f} ms per request")
    s = io.StringIO(); pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(40)
    lines = [l for l in s.getvalue().splitlines() if "/work/main/" in l and ".venv" not in l][:12]
    print("\n".join(l[:160] for l in lines))
