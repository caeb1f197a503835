"""In-process profile of every path of bench/api.py's table (create, the item, a case's list, propose, approve, the
liaison's list and status): per request wall and CPU time and SQL statements and their time, measured without a
profiler; then, under cProfile (which adds its own overhead: compare its shares, not its times), where the CPU goes:
outside the view (middleware, authentication, throttling, DRF), the view's own code, the SQL calls, and the desk's
functions by cumulative time.

Run: .venv/bin/python -P bench/api_profile.py   It recreates its own database (prof_api) and talks only to
127.0.0.1.
"""

import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.support import UNTHROTTLED  # noqa: E402

os.environ.update({
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/prof_api", "SECRET_KEY": "bench-only",
    "ALLOWED_HOSTS": "127.0.0.1", "CELERY_BROKER_URL": "memory://", "REDIS_URL": "redis://127.0.0.1:6379/8",
    "LOG_LEVEL": "ERROR", "ALLOW_PRIVATE_ENDPOINTS": "1", "DJANGO_SETTINGS_MODULE": "config.settings", **UNTHROTTLED,
})
N = 300


def main() -> None:
    from bench.support import recreate_database

    recreate_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts import services as accounts
    from cases.actions import cases as case_actions
    from cases.actions import items as item_actions
    from referral.actions import approval
    from tests.conftest import make_platform

    call_command("migrate", verbosity=0)
    make_platform("tube", ["tube.example"])
    analyst = accounts.user_create(actor=None, username="analyst", role="analyst")
    supervisor = accounts.user_create(actor=None, username="supervisor", role="supervisor")
    liaison = accounts.user_create(actor=None, username="liaison", role="liaison", platform_slug="tube")
    client = {user.username: Client(HTTP_AUTHORIZATION=f"Bearer {accounts.api_key_issue(actor=None, user=user)[1]}",
                                    HTTP_HOST="127.0.0.1") for user in (analyst, supervisor, liaison)}
    case = case_actions.case_create(actor=analyst, title="profile")
    logged = [item_actions.item_log(actor=analyst, case=case, url=f"https://tube.example/watch?v=p{n}", kind="post",
                                    categories=["incitement"]).pk for n in range(2 * N)]
    for pk in logged[N:]:
        item_actions.item_propose(actor=analyst, item_id=pk)
    to_approve = logged[N:N + N // 2]
    referrals = [approval.item_approve(actor=supervisor, item_id=pk).referrals.get().pk
                 for pk in logged[N + N // 2:]]
    json = "application/json"
    paths = {
        "POST /api/v1/items/": (N, lambda n: client["analyst"].post("/api/v1/items/", {
            "case": case.pk, "url": f"https://tube.example/watch?v=new{n}", "kind": "post",
            "categories": ["incitement"]}, content_type=json)),
        "GET /api/v1/items/{id}/": (N, lambda n: client["analyst"].get(f"/api/v1/items/{logged[n]}/")),
        "GET /api/v1/items/?case= (50 rows)": (N, lambda n: client["analyst"].get(f"/api/v1/items/?case={case.pk}")),
        "POST .../propose/": (N, lambda n: client["analyst"].post(f"/api/v1/items/{logged[n]}/propose/",
                                                                  content_type=json)),
        "POST .../approve/": (N // 2, lambda n: client["supervisor"].post(
            f"/api/v1/items/{to_approve[n]}/approve/", {"instrument": "referral"}, content_type=json)),
        "liaison GET /api/v1/referrals/": (N, lambda n: client["liaison"].get("/api/v1/referrals/")),
        "POST referrals/{id}/status/": (N // 2, lambda n: client["liaison"].post(
            f"/api/v1/referrals/{referrals[n]}/status/", {"status": "acknowledged"}, content_type=json)),
    }
    summary = []
    for name, (count, call) in paths.items():
        for i in range(10):  # warm-up
            assert call(i).status_code in (200, 201)
        # Half the requests timed as they run, the other half under the profiler, capturing the SQL.
        middle = (10 + count) // 2
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for i in range(10, middle):
            response = call(i)
            assert response.status_code in (200, 201), response.content[:300]
        n = middle - 10
        cpu, wall = (time.process_time() - cpu0) / n * 1000, (time.perf_counter() - wall0) / n * 1000
        profiler = cProfile.Profile()
        with CaptureQueriesContext(connection) as queries:
            profiler.enable()
            for i in range(middle, count):
                response = call(i)
                assert response.status_code in (200, 201), response.content[:300]
            profiler.disable()
        m = count - middle
        statements = len(queries.captured_queries) / m
        sql_ms = sum(float(q["time"]) for q in queries.captured_queries) / m * 1000
        stats = pstats.Stats(profiler)
        shares = _shares(stats)
        summary.append((name, n, wall, cpu, statements, sql_ms, shares))
        print(f"\n## {name}: {n} requests timed, per request wall {wall:.2f} ms, CPU {cpu:.2f} ms; {m} profiled: "
              f"{statements:.1f} SQL statements taking {sql_ms:.2f} ms")
        out = io.StringIO()
        stats.stream = out
        stats.sort_stats("cumulative").print_stats(60)
        ours = [line for line in out.getvalue().splitlines() if str(ROOT) in line and ".venv" not in line]
        print("\n".join(line[:160] for line in ours[:12]))
    print("\n| path | wall ms | CPU ms | SQL statements | SQL ms | profiled: outside the view | authentication, "
          "throttling, permissions | the view's code | rendering | in SQL calls |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, _n, wall, cpu, statements, sql_ms, shares in summary:
        print(f"| {name} | {wall:.1f} | {cpu:.1f} | {statements:.0f} | {sql_ms:.1f} | "
              + " | ".join(f"{share:.0%}" for share in shares) + " |")


def _cumulative(stats: pstats.Stats, path_end: str, function: str) -> float:
    return sum(ct for (file, _line, func), (_cc, _nc, _tt, ct, _callers) in stats.stats.items()
               if file.endswith(path_end) and func == function)


def _shares(stats: pstats.Stats) -> tuple[float, ...]:
    """Of the profiled wall time of the requests: outside DRF's view (Django's handler, the middleware), DRF's
    initial() (authentication, throttling, permissions), the view's own code, rendering the response, and the time
    in the database driver's calls (SQL and commits, inside the other parts)."""
    total = _cumulative(stats, "django/core/handlers/base.py", "get_response")
    dispatch = _cumulative(stats, "rest_framework/views.py", "dispatch")
    initial = _cumulative(stats, "rest_framework/views.py", "initial")
    render = _cumulative(stats, "rest_framework/response.py", "rendered_content")
    sql = sum(tt for (file, _line, func), (_cc, _nc, tt, _ct, _callers) in stats.stats.items()
              if file == "~" and ("psycopg2" in func or func in ("<method 'commit' of 'psycopg2.extensions."
                                                                 "connection' objects>",)))
    final = _cumulative(stats, "rest_framework/views.py", "finalize_response")
    return ((total - dispatch) / total, initial / total, (dispatch - initial - final) / total, render / total,
            sql / total)

if __name__ == "__main__":
    main()
