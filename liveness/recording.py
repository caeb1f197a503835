"""Recording checks: each result closes its check with the evidence, moves the referral's LivenessState, and
creates the next check of the schedule, many results in one short transaction.

A result is recorded only if its check is still open and still carries the attempt this run claimed (a run
whose lease ran out while another claimed the check records nothing). What the state says:
- the first `offline` sets offline_at (time to offline = offline_at − sent_at); two in a row end the schedule;
- `online` after `offline` is a reappearance: the referral's approver and the item's proposer are notified
  ("reappeared") and the event is audited;
- still `online` a day after receipt (an hour for a removal order) flags the referral for follow-up, once;
- `unknown` changes nothing but the count and the time of the last check.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from audit import chain as audit
from liveness.claiming import Job
from liveness.fetching import Answer
from liveness.models import LivenessCheck, LivenessState, SummaryState, Verdict
from liveness.schedule import OFFLINE_IN_A_ROW_TO_STOP, next_slot
from notifications.actions import notify_users
from notifications.models import NotificationKind, ObjectType
from referral.models import Instrument, Referral, ReferralStatus

FOLLOWUP_AFTER = {Instrument.REFERRAL: timedelta(hours=24), Instrument.REMOVAL_ORDER: timedelta(hours=1)}
CHECK_FIELDS = ["finished_at", "started_at", "verdict", "url", "status_code", "final_url", "redirects",
                "body_sha256", "body_bytes", "matched_rule", "error", "duration_ms", "via_proxy", "lease_until"]
STATE_FIELDS = ["state", "checks", "checked_at", "offline_at", "consecutive_offline", "followup_flagged_at",
                "reappeared", "reappeared_at", "finished"]


@dataclass
class Result:
    job: Job
    verdict: str
    matched_rule: str
    started_at: datetime
    finished_at: datetime
    answer: Answer | None = None  # None: not fetched (gave up after too many attempts)
    error: str = ""


def check_row(result: Result) -> LivenessCheck:
    answer = result.answer or Answer(url=result.job.url)
    return LivenessCheck(
        pk=result.job.check_id, started_at=result.started_at, finished_at=result.finished_at,
        verdict=result.verdict, url=answer.url[:2048], status_code=answer.status_code,
        final_url=answer.final_url[:2048], redirects=answer.redirects, body_sha256=answer.body_sha256,
        body_bytes=len(answer.body) if answer.body_sha256 else None, matched_rule=result.matched_rule[:200],
        error=(result.error or answer.error)[:2000], duration_ms=answer.duration_ms, via_proxy=answer.via_proxy,
        lease_until=None)


class _Referral:
    """The few columns of a referral a verdict needs (read, never written: hence `referral_status`)."""

    def __init__(self, pk, sent_at, instrument, referral_status, approved_by_id, proposed_by_id, url):
        self.pk, self.sent_at, self.instrument, self.referral_status = pk, sent_at, instrument, referral_status
        self.approved_by_id, self.proposed_by_id, self.url = approved_by_id, proposed_by_id, url


def _apply(state: LivenessState, referral: _Referral, verdict: str, at: datetime, sequence: int,
           out: dict) -> None:
    """Move one state by one verdict; append what follows (events, notifications, the next check) to `out`."""
    state.checks += 1
    state.checked_at = at
    if verdict == Verdict.OFFLINE:
        state.consecutive_offline += 1
        if state.offline_at is None:
            state.offline_at = at
            out["events"].append(_event(referral.pk, "referral.liveness_offline",
                                        {"offline_at": at.isoformat(),
                                         "seconds_after_receipt": int((at - referral.sent_at).total_seconds())}))
        state.state = SummaryState.OFFLINE
    elif verdict == Verdict.ONLINE:
        if state.state == SummaryState.OFFLINE:
            state.reappeared, state.reappeared_at = True, at
            out["events"].append(_event(referral.pk, "referral.liveness_reappeared", {"reappeared_at": at.isoformat()}))
            out["reappeared"].append((referral, state.offline_at))
        state.consecutive_offline = 0
        state.state = SummaryState.ONLINE
        grace = FOLLOWUP_AFTER.get(referral.instrument, FOLLOWUP_AFTER[Instrument.REFERRAL])
        if state.followup_flagged_at is None and at >= referral.sent_at + grace:
            state.followup_flagged_at = at
            out["events"].append(_event(referral.pk, "referral.liveness_followup", {"online_at": at.isoformat()}))
    elif state.state == SummaryState.PENDING:
        state.state = SummaryState.UNKNOWN
    nxt = None
    if state.consecutive_offline < OFFLINE_IN_A_ROW_TO_STOP and referral.referral_status != ReferralStatus.WITHDRAWN:
        nxt = next_slot(referral.sent_at, sequence, at)
    if nxt is None:
        state.finished = True
    else:
        out["next"].append(LivenessCheck(referral_id=referral.pk, sequence=nxt[0], due_at=nxt[1]))


def _event(referral_id: int, verb: str, after: dict) -> dict:
    return {"actor": None, "verb": verb, "object_type": "referral", "object_id": referral_id, "after": after}


def record_results(results: list[Result]) -> Counter:
    """Record finished checks in one transaction; returns the count per verdict of those recorded."""
    counts: Counter = Counter()
    if not results:
        return counts
    by_check = {r.job.check_id: r for r in results}
    with transaction.atomic():
        open_rows = (LivenessCheck.objects.select_for_update(no_key=True, of=("self",))
                     .filter(pk__in=list(by_check), finished_at__isnull=True).order_by("pk")
                     .values_list("pk", "attempts", "sequence"))
        ours = [(by_check[pk], sequence) for pk, attempts, sequence in open_rows
                if attempts == by_check[pk].job.attempt]
        counts["stale"] = len(results) - len(ours)
        if not ours:
            return +counts
        LivenessCheck.objects.bulk_update([check_row(r) for r, _ in ours], CHECK_FIELDS, batch_size=500)
        referral_ids = sorted({r.job.referral_id for r, _ in ours})
        referrals = {row[0]: _Referral(*row) for row in Referral.objects.filter(pk__in=referral_ids).values_list(
            "pk", "sent_at", "instrument", "status", "approved_by_id", "item__proposed_by_id", "item__url")}
        states = {s.referral_id: s for s in LivenessState.objects.select_for_update(no_key=True)
                  .filter(referral_id__in=referral_ids).order_by("referral_id")}
        out: dict = {"events": [], "reappeared": [], "next": []}
        for result, sequence in sorted(ours, key=lambda pair: (pair[0].job.referral_id, pair[1])):
            counts[result.verdict] += 1
            referral = referrals[result.job.referral_id]
            state = states.get(referral.pk)
            if state is None:  # a check made by hand without a state: give it one
                state = states[referral.pk] = LivenessState.objects.create(referral_id=referral.pk)
            _apply(state, referral, result.verdict, result.started_at, sequence, out)
        LivenessState.objects.bulk_update(list(states.values()), STATE_FIELDS, batch_size=500)
        if out["next"]:
            LivenessCheck.objects.bulk_create(out["next"], ignore_conflicts=True)
        for referral, offline_at in out["reappeared"]:
            seen = f" on {offline_at:%Y-%m-%d %H:%M} UTC" if offline_at else ""
            notify_users([referral.approved_by_id, referral.proposed_by_id], kind=NotificationKind.REAPPEARED,
                         message=f"Referral {referral.pk}: {referral.url} is online again; the desk had found it "
                                 f"offline{seen}.", object_type=ObjectType.REFERRAL, object_id=referral.pk)
        if out["events"]:
            audit.record_many(out["events"])
    return +counts
