"""When a referral's URL is checked: LIVENESS_SCHEDULE (seconds after receipt, i.e. Referral.sent_at), then daily
for LIVENESS_DAILY_DAYS more days, until the content was found offline twice in a row.

Scheduling is a sweep (beat task `liveness.schedule`), not a hook in the outbox: referrals the platform received
and that have no LivenessState yet are taken in batches (`FOR NO KEY UPDATE SKIP LOCKED`, so sweeps running side
by side take different rows), given their state and their first check. Each recorded check then creates the next
one (liveness/recording.py), so a referral has at most one unfinished check at a time.
"""

from datetime import datetime, timedelta

from django.db import connection, transaction

from liveness.conf import knob
from liveness.models import LivenessCheck, LivenessState
from referral.models import Referral, ReferralStatus

OFFLINE_IN_A_ROW_TO_STOP = 2
DAY = 86400


def offset_seconds(sequence: int) -> int | None:
    """Seconds after receipt of check number `sequence` (0-based); None past the end of the schedule."""
    fixed = knob("LIVENESS_SCHEDULE")
    if sequence < len(fixed):
        return fixed[sequence]
    extra = sequence - len(fixed) + 1
    if extra > knob("LIVENESS_DAILY_DAYS"):
        return None
    return (fixed[-1] if fixed else 0) + extra * DAY


def next_slot(sent_at: datetime, after_sequence: int, now: datetime) -> tuple[int, datetime] | None:
    """The next check after `after_sequence`: the first slot still ahead of `now` (slots missed while the desk
    was down are skipped, not run back to back); None when the schedule is over."""
    sequence = after_sequence + 1
    while (offset := offset_seconds(sequence)) is not None:
        due = sent_at + timedelta(seconds=offset)
        if due > now:
            return sequence, due
        sequence += 1
    return None


def schedule_received(*, batch_size: int | None = None) -> int:
    """Give every referral the platform received (sent_at set) and not yet scheduled its LivenessState and first
    check, one batch per transaction. Withdrawn referrals are not checked. Safe to run twice and side by side
    (rows locked by another sweep are skipped; the state's primary key refuses a second one). Returns how many
    referrals were scheduled."""
    batch_size = batch_size or knob("LIVENESS_SCHEDULE_BATCH")
    total = 0
    while True:
        with transaction.atomic():
            qs = (Referral.objects.filter(sent_at__isnull=False, liveness__isnull=True)
                  .exclude(status=ReferralStatus.WITHDRAWN).order_by("pk"))
            if connection.features.has_select_for_update_skip_locked:
                qs = qs.select_for_update(skip_locked=True, of=("self",), no_key=True)
            rows = list(qs.values_list("pk", "sent_at")[:batch_size])
            if not rows:
                return total
            LivenessState.objects.bulk_create([LivenessState(referral_id=pk) for pk, _ in rows],
                                              ignore_conflicts=True)
            first = offset_seconds(0)
            if first is not None:
                LivenessCheck.objects.bulk_create(
                    [LivenessCheck(referral_id=pk, sequence=0, due_at=sent_at + timedelta(seconds=first))
                     for pk, sent_at in rows], ignore_conflicts=True)
            else:
                LivenessState.objects.filter(referral_id__in=[pk for pk, _ in rows]).update(finished=True)
            total += len(rows)
        if len(rows) < batch_size:
            return total
