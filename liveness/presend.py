"""The check just before sending: once, between approval and the referral's message becoming due, the desk fetches
the item's URL as the scheduled checks do (proxy, SSRF guard, user agent, per-host politeness, the platform's rules)
and keeps the evidence as a LivenessCheck (`presend`).

Where it runs, and why: not in the dispatcher. Approval makes a new referral's message due PRESEND_CHECK_SECONDS
later and nudges the task `liveness.presend_check` (this module), which claims the referrals waiting, checks them
and then either
- content `offline`: the referral is not sent (referral.actions.presend: `already_offline`, out of its message),
  its LivenessState says offline from the check, its schedule never starts;
- anything else (`online`, `unknown`): its message is made due at once when all its referrals are checked.
The dispatcher's hot path is unchanged, and a check never holds a message past its wait: one that could not start
(its host's politeness slots busy) or finish by then is closed as `unknown` ("not checked in time") and the message
goes at its due time. A removal order is thus delayed by at most PRESEND_CHECK_SECONDS (3 s by default), usually by
the one GET. A check whose run died is closed by the beat sweep (close_stale).
"""

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from liveness import claiming, fetching, politeness, verdicts
from liveness.conf import knob
from liveness.models import LivenessCheck, LivenessRule, LivenessState, SummaryState, Verdict
from liveness.recording import CHECK_FIELDS, Result, check_row
from referral.actions import presend as referral_presend
from referral.models import Delivery, DeliveryEvent, Referral, ReferralStatus
from referral.outbox.dispatcher import assert_outside_transaction

log = logging.getLogger(__name__)

MARGIN_SECONDS = 0.2  # a check must be recorded this long before its message is due, or it holds nothing
BATCH = 200


def _wait_seconds() -> float:
    return max(settings.PRESEND_CHECK_SECONDS, 0)


def platform_budget() -> int:
    """How many checks of one platform a run takes on: as many as its host's politeness lets start within the wait
    (LIVENESS_HOST_INTERVAL_MS apart), plus one round in flight. The others (an action day's thousands to one host)
    could not start in time anyway: they are not claimed at all and go unchecked at their due time, costing nothing."""
    interval = max(knob("LIVENESS_HOST_INTERVAL_MS"), 1)
    return int(_wait_seconds() * 1000 / interval) + max(knob("LIVENESS_HOST_CONCURRENCY"), 1)


def claim(limit: int = BATCH, *, left: dict | None = None) -> list[tuple[claiming.Job, float]]:
    """Queued referrals still inside their wait and not checked yet: each gets its (open) check before sending.
    Returns (job, deadline as time.time()) pairs. Referrals locked by a run beside this one are skipped. `left`
    (platform id → checks this run may still take on, platform_budget() if absent) is counted down."""
    left = {} if left is None else left
    wait = _wait_seconds()
    now = timezone.now()
    lease_until = now + timedelta(seconds=wait + 60)
    with transaction.atomic():
        qs = (Referral.objects.filter(status=ReferralStatus.QUEUED, sent_at__isnull=True,
                                      created_at__gte=now - timedelta(seconds=wait))
              .exclude(liveness_checks__presend=True)
              .exclude(platform_id__in=[pk for pk, n in left.items() if n <= 0]).order_by("pk"))
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",), no_key=True)
        rows = []
        for row in qs.values_list("pk", "platform_id", "item__url", "created_at")[:limit]:
            if left.setdefault(row[1], platform_budget()) > 0:
                left[row[1]] -= 1
                rows.append(row)
        if not rows:
            return []
        checks = LivenessCheck.objects.bulk_create([
            LivenessCheck(referral_id=pk, sequence=0, presend=True, due_at=now, attempts=1, lease_until=lease_until,
                          url=url[:2048]) for pk, _, url, _ in rows])
    jobs = []
    for check, (pk, platform_id, url, created_at) in zip(checks, rows, strict=True):
        try:
            host = (urlsplit(url).hostname or "").lower()
        except ValueError:
            host = ""
        job = claiming.Job(check_id=check.pk, attempt=1, lease_until=lease_until, referral_id=pk,
                           platform_id=platform_id, url=url, host=host)
        jobs.append((job, (created_at + timedelta(seconds=wait)).timestamp() - MARGIN_SECONDS))
    return jobs


def _check(client, gate, job: claiming.Job, deadline: float, rules: list) -> Result:
    """Wait for the host's politeness slot (never past the deadline), fetch, judge."""
    started = timezone.now()
    if not job.host:
        return Result(job=job, verdict=Verdict.UNKNOWN, matched_rule="not fetched", started_at=started,
                      finished_at=started, error="the item's URL has no host")
    pause = 0.0
    while True:
        if time.time() + pause >= deadline:
            return Result(job=job, verdict=Verdict.UNKNOWN, matched_rule="not fetched", started_at=started,
                          finished_at=timezone.now(),
                          error="not checked in time: the host's checks were busy; sent without it")
        time.sleep(pause)
        slot = gate.acquire(job.host)
        if not isinstance(slot, int):
            break
        pause = (slot / 1000) if slot > 0 else 0.01
    try:
        started = timezone.now()
        answer = fetching.fetch(client, job.url)
    finally:
        try:
            gate.release(slot)
        except Exception:  # the slot frees itself when its lease runs out
            log.warning("could not free the politeness slot of %s", job.host, exc_info=True)
    verdict, matched = verdicts.decide(rules, status_code=answer.status_code, final_url=answer.final_url,
                                       body=answer.body, error=answer.error)
    return Result(job=job, verdict=verdict, matched_rule=matched, started_at=started, finished_at=timezone.now(),
                  answer=answer)


def check_before_sending(*, time_budget: float = 20.0) -> dict:
    """Check every referral waiting for its check before sending; returns counts (online, offline, unknown,
    not_sent: referrals kept back, released: messages made due at once). Never inside a transaction."""
    assert_outside_transaction()
    wait = _wait_seconds()
    totals: dict = {}
    if not wait:
        return totals
    end = time.monotonic() + time_budget
    gate = politeness.gate()
    concurrency = max(knob("LIVENESS_CONCURRENCY"), 1)
    timeout = max(min(wait, knob("LIVENESS_TIMEOUT_SECONDS")), 0.5)
    with fetching.build_client(concurrency, timeout=timeout) as client, \
            ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="presend") as pool:
        left: dict[int, int] = {}
        while time.monotonic() < end:
            claimed = claim(left=left)
            if not claimed:
                break
            rules: dict[int, list] = {}
            for rule in LivenessRule.objects.filter(platform_id__in={j.platform_id for j, _ in claimed}) \
                    .order_by("position", "id"):
                rules.setdefault(rule.platform_id, []).append(rule)
            results = list(pool.map(_check, [client] * len(claimed), [gate] * len(claimed),
                                    [job for job, _ in claimed], [deadline for _, deadline in claimed],
                                    [rules.get(job.platform_id, []) for job, _ in claimed]))
            for key, value in record(results).items():
                totals[key] = totals.get(key, 0) + value
    if totals:
        log.info("checks before sending: %s", totals)
    return totals


def record(results: list[Result]) -> dict:
    """Close the checks with their evidence, keep offline content back, release the messages all checked."""
    counts: dict = {}
    if not results:
        return counts
    with transaction.atomic():
        LivenessCheck.objects.bulk_update([check_row(r) for r in results], CHECK_FIELDS)
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    offline = {r.job.referral_id: r for r in results if r.verdict == Verdict.OFFLINE}
    marked = referral_presend.referrals_not_sent_offline(evidence={pk: _evidence(r) for pk, r in offline.items()})
    if marked:
        LivenessState.objects.bulk_create([
            LivenessState(referral_id=pk, state=SummaryState.OFFLINE, checks=1, checked_at=offline[pk].started_at,
                          offline_at=offline[pk].started_at, consecutive_offline=1, finished=True)
            for pk in marked], ignore_conflicts=True)
        counts["not_sent"] = len(marked)
    checked = [r.job.referral_id for r in results if r.job.referral_id not in set(marked)]
    released = referral_presend.deliveries_checked_before_sending(_all_checked(checked))
    if released:
        counts["released"] = released
    return counts


def _evidence(result: Result) -> dict:
    answer = result.answer
    return {"check": result.job.check_id, "checked_at": result.started_at.isoformat(), "url": result.job.url,
            "status_code": answer.status_code if answer else None, "final_url": answer.final_url if answer else "",
            "matched_rule": result.matched_rule, "body_sha256": answer.body_sha256 if answer else ""}


def _all_checked(referral_ids: list[int]) -> set:
    """The new-referral messages of these referrals whose every referral has had its check before sending."""
    through = Delivery.referrals.through
    deliveries = set(through.objects.filter(referral_id__in=referral_ids, delivery__event=DeliveryEvent.CREATED)
                     .values_list("delivery_id", flat=True))
    links = list(through.objects.filter(delivery_id__in=deliveries).values_list("delivery_id", "referral_id"))
    done = set(LivenessCheck.objects.filter(presend=True, finished_at__isnull=False,
                                            referral_id__in={r for _, r in links})
               .values_list("referral_id", flat=True))
    return deliveries - {d for d, r in links if r not in done}


def close_stale() -> int:
    """Checks before sending whose run died (lease over): closed as unknown; their messages went at their time."""
    now = timezone.now()
    return LivenessCheck.objects.filter(presend=True, finished_at__isnull=True, lease_until__lt=now).update(
        finished_at=now, verdict=Verdict.UNKNOWN, matched_rule="not fetched", lease_until=None,
        error="not checked: the run stopped before it; the referral was sent without it")
