"""The checker: claim due checks, fetch them concurrently outside any transaction while keeping the per-host
limits (liveness/politeness.py), judge each answer by its platform's rules, record the results in batches.

Within one run a small scheduler holds the claimed checks in a queue per host and starts one only when the
host's gate gives a slot, so a slow or busy host holds its own queue, never the threads other hosts need.
"""

import logging
import time
from collections import Counter, defaultdict, deque
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import datetime, timedelta

from django.utils import timezone

from core.enqueue import send_task
from liveness import claiming, fetching, politeness, verdicts
from liveness.conf import knob
from liveness.models import LivenessRule, Verdict
from liveness.recording import Result, record_results
from referral.outbox.dispatcher import assert_outside_transaction

log = logging.getLogger(__name__)

CHECK_TASK = "liveness.check_due"
RECORD_EVERY_SECONDS = 0.25
FULL_RETRY_SECONDS = 0.01  # every slot of a host taken: ask again this soon (slots free as checks finish)


def _clock(now: datetime | None):
    """The run's clock: real time, or (tests, the benchmark) time running on from a given `now`."""
    if now is None:
        return timezone.now
    start = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - start)


def _run(client, job: claiming.Job, rules: list, clock) -> Result:
    started = clock()
    answer = fetching.fetch(client, job.url)
    verdict, matched = verdicts.decide(rules, status_code=answer.status_code, final_url=answer.final_url,
                                       body=answer.body, error=answer.error)
    return Result(job=job, verdict=verdict, matched_rule=matched, started_at=started, finished_at=clock(),
                  answer=answer)


def _unfetched(job: claiming.Job, clock, why: str) -> Result:
    at = clock()
    return Result(job=job, verdict=Verdict.UNKNOWN, matched_rule="not fetched", started_at=at, finished_at=at,
                  error=why)


def check_due(*, time_budget: float = 20.0, now: datetime | None = None) -> dict:
    """Check every due check until none is due or the time budget is spent; returns counts per verdict.

    Never inside a transaction: claims and recordings are short transactions of their own around the network
    I/O. Checks claimed but not started in time are given back, due at once.
    """
    assert_outside_transaction()
    clock = _clock(now)
    concurrency = max(knob("LIVENESS_CONCURRENCY"), 1)
    batch = max(knob("LIVENESS_BATCH_SIZE"), 1)
    gate = politeness.gate()
    rules: dict[int, list] = {}
    queued: dict[str, deque] = defaultdict(deque)
    ready_at: dict[str, float] = {}
    inflight: dict = {}
    finished: list[Result] = []
    totals: Counter = Counter()
    deadline = time.monotonic() + time_budget
    next_claim_at, asked_for_help, last_record = 0.0, False, time.monotonic()
    margin = knob("LIVENESS_TIMEOUT_SECONDS") * 2 + 5
    with fetching.build_client(concurrency) as client, \
            ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="liveness") as pool:
        while True:
            mono = time.monotonic()
            waiting = sum(len(q) for q in queued.values())
            if mono < deadline and mono >= next_claim_at and waiting + len(inflight) < concurrency * 2:
                jobs = claiming.claim_due(batch, now=clock())
                if len(jobs) == batch and not asked_for_help:
                    asked_for_help = True
                    send_task(CHECK_TASK)  # a backlog: another idle worker may start beside this one
                _load_rules(rules, {j.platform_id for j in jobs})
                for job in jobs:
                    if job.gave_up:
                        finished.append(_unfetched(job, clock, f"gave up after {job.attempt - 1} attempts"))
                    elif not job.host:
                        finished.append(_unfetched(job, clock, "the item's URL has no host"))
                    else:
                        queued[job.host].append(job)
                if not jobs:
                    next_claim_at = mono + 0.5
                waiting = sum(len(q) for q in queued.values())
            for host, q in queued.items():
                while q and len(inflight) < concurrency and ready_at.get(host, 0.0) <= mono:
                    job = q[0]
                    if job.lease_until - clock() < timedelta(seconds=margin):
                        q.popleft()
                        claiming.release(job)
                        totals["given_back"] += 1
                        continue
                    try:
                        slot = gate.acquire(host)
                    except Exception:  # the gate unreadable (Redis down): this host waits, nothing is sent
                        log.exception("could not take a politeness slot for %s", host)
                        ready_at[host] = mono + 1.0
                        break
                    if isinstance(slot, int):
                        ready_at[host] = mono + (slot / 1000 if slot > 0 else FULL_RETRY_SECONDS)
                        break
                    q.popleft()
                    job.slot = slot
                    inflight[pool.submit(_run, client, job, rules.get(job.platform_id, []), clock)] = job
            waiting = sum(len(q) for q in queued.values())
            pending_ready = [ready_at.get(h, 0.0) for h, q in queued.items() if q]
            pause = max(0.001, min([0.2, *(t - time.monotonic() for t in pending_ready)]))
            if inflight:
                done, _ = wait(list(inflight), timeout=pause, return_when=FIRST_COMPLETED)
                for future in done:
                    job = inflight.pop(future)
                    _release(gate, job)
                    try:
                        finished.append(future.result())
                    except Exception as exc:  # whatever one check raises stays with it
                        log.error("liveness check %s raised", job.check_id, exc_info=exc)
                        finished.append(_unfetched(job, clock, f"the check raised {type(exc).__name__}: {exc}"))
            elif waiting:
                time.sleep(pause)
            idle = not inflight and not waiting
            if finished and (idle or len(finished) >= batch or time.monotonic() - last_record >= RECORD_EVERY_SECONDS):
                totals.update(_record(finished))
                finished, last_record = [], time.monotonic()
            if idle and (time.monotonic() >= deadline or next_claim_at > time.monotonic()):
                break
            if time.monotonic() >= deadline and not inflight:
                break
        for q in queued.values():  # claimed, never started (time budget spent): due again at once
            while q:
                claiming.release(q.popleft())
                totals["given_back"] += 1
        totals.update(_record(finished))
    result = {str(key): value for key, value in totals.items() if value}
    if result:
        log.info("liveness checks: %s", result)
    return result


def _load_rules(rules: dict, platform_ids: set) -> None:
    missing = platform_ids - set(rules)
    for platform_id in missing:
        rules[platform_id] = []
    for rule in LivenessRule.objects.filter(platform_id__in=missing).order_by("position", "id"):
        rules[rule.platform_id].append(rule)


def _release(gate, job: claiming.Job) -> None:
    try:
        gate.release(job.slot)
    except Exception:  # the slot frees itself when its lease runs out
        log.warning("could not free the politeness slot of %s", job.host, exc_info=True)


def _record(finished: list[Result]) -> Counter:
    if not finished:
        return Counter()
    try:
        return record_results(finished)
    except Exception:  # the leases bring these checks back
        log.exception("could not record %d liveness checks", len(finished))
        return Counter(error=len(finished))
