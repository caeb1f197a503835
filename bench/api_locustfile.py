"""Locust users for bench/api.py: one path per run (BENCH_API_PATH), its data from the JSON file BENCH_API_DATA.
After BENCH_API_WARMUP seconds the statistics are reset; at the end they are written to BENCH_API_OUT."""

import itertools
import json
import os

import gevent
from locust import FastHttpUser, events, task
from locust.exception import StopUser

DATA = json.loads(open(os.environ["BENCH_API_DATA"]).read())
PATH = os.environ["BENCH_API_PATH"]
WARMUP = float(os.environ.get("BENCH_API_WARMUP", "3"))
COUNTER = itertools.count()  # one process, gevent: no lock needed
HEADERS = {role: {"Authorization": f"Bearer {key}"} for role, key in DATA["keys"].items()}


def next_of(pool: str) -> int:
    n = next(COUNTER)
    ids = DATA[pool]
    if n >= len(ids):
        raise StopUser()  # pool used up: bench/api.py reports it
    return ids[n]


class Desk(FastHttpUser):
    @task
    def one(self):
        c = self.client
        if PATH == "bare":
            c.get("/bare/", name="bare")
        elif PATH == "item_create":
            n = next(COUNTER)
            c.post("/api/v1/items/", json={"case": DATA["case"], "url": f"https://{DATA['domain']}/p/{DATA['run']}-{n}",
                                           "kind": "post", "categories": ["incitement"]},
                   headers=HEADERS["analyst"], name=PATH)
        elif PATH == "item_get":
            c.get(f"/api/v1/items/{DATA['item']}/", headers=HEADERS["analyst"], name=PATH)
        elif PATH == "item_list":
            c.get(f"/api/v1/items/?case={DATA['list_case']}", headers=HEADERS["analyst"], name=PATH)
        elif PATH == "propose":
            c.post(f"/api/v1/items/{next_of('propose')}/propose/", headers=HEADERS["analyst"], name=PATH)
        elif PATH == "approve":
            c.post(f"/api/v1/items/{next_of('approve')}/approve/", json={}, headers=HEADERS["supervisor"], name=PATH)
        elif PATH == "liaison_list":
            c.get("/api/v1/referrals/", headers=HEADERS["liaison"], name=PATH)
        elif PATH == "liaison_status":
            c.post(f"/api/v1/referrals/{next_of('referrals')}/status/", json={"status": "acknowledged"},
                   headers=HEADERS["liaison"], name=PATH)
        else:
            raise SystemExit(f"unknown BENCH_API_PATH {PATH}")


@events.test_start.add_listener
def _warmup(environment, **kwargs):
    gevent.spawn_later(WARMUP, environment.runner.stats.reset_all)


@events.quitting.add_listener
def _write(environment, **kwargs):
    s = environment.stats.total
    out = {"requests": s.num_requests, "failures": s.num_failures, "rps": s.total_rps,
           "p50": s.get_response_time_percentile(0.5), "p95": s.get_response_time_percentile(0.95),
           "p99": s.get_response_time_percentile(0.99), "pool_used": next(COUNTER),
           "errors": [f"{e.occurrences}× {e.error}" for e in list(environment.stats.errors.values())[:3]]}
    with open(os.environ["BENCH_API_OUT"], "w") as f:
        json.dump(out, f)
