"""Reads of liveness for the referral's API output and page."""

from liveness.models import LivenessCheck, LivenessState, SummaryState
from referral.models import ReferralStatus

# A referral the platform does not have (never sent, withdrawn, not sent because already offline) is not reminded.
NOT_REMINDABLE = (ReferralStatus.QUEUED, ReferralStatus.FAILED, ReferralStatus.WITHDRAWN,
                  ReferralStatus.ALREADY_OFFLINE)


def can_remind(state) -> bool:
    """Flagged for follow-up and still online by the desk's last conclusive check (liveness.actions.referral_remind)."""
    return bool(state and state.followup_flagged_at and state.state == SummaryState.ONLINE)



def liveness_for(referral_ids) -> dict[int, dict]:
    """{referral id: {"state", "checked_at", "offline_at", "checks"}} for every id given, in one query.

    `state` is pending | online | offline | unknown (pending: not scheduled or not checked yet); `checked_at`
    the time of the last check; `offline_at` the first check that found it offline (time to offline is
    offline_at − Referral.sent_at); `checks` how many checks were made. Datetimes are aware datetimes (DRF
    renders them as ISO 8601)."""
    ids = [int(pk) for pk in referral_ids]
    found = {pk: {"state": state, "checked_at": checked_at, "offline_at": offline_at, "checks": checks}
             for pk, state, checked_at, offline_at, checks in LivenessState.objects.filter(referral_id__in=ids)
             .values_list("referral_id", "state", "checked_at", "offline_at", "checks")}
    empty = {"state": SummaryState.PENDING.value, "checked_at": None, "offline_at": None, "checks": 0}
    return {pk: found.get(pk, dict(empty)) for pk in ids}


def liveness_panel(referral, *, history: int = 50) -> dict:
    """What templates/liveness/_panel.html shows for one referral: the summary, the follow-up and reappearance
    flags, time to offline as measured beside the time the platform claims (action_taken_at − sent_at), and the
    last `history` checks with their evidence, newest first. Two queries."""
    state = LivenessState.objects.filter(referral_id=referral.pk).first()
    checks = list(LivenessCheck.objects.filter(referral_id=referral.pk, finished_at__isnull=False)
                  .order_by("-sequence", "presend")[:history])
    next_due = (LivenessCheck.objects.filter(referral_id=referral.pk, finished_at__isnull=True)
                .values_list("due_at", flat=True).first()) if state and not state.finished else None
    sent_at = referral.sent_at
    measured = (state.offline_at - sent_at) if state and state.offline_at and sent_at else None
    claimed = (referral.action_taken_at - sent_at) if referral.action_taken_at and sent_at else None
    return {
        "state": state.state if state else SummaryState.PENDING.value,
        "checked_at": state.checked_at if state else None,
        "offline_at": state.offline_at if state else None,
        "checks": state.checks if state else 0,
        "followup_flagged_at": state.followup_flagged_at if state else None,
        "reappeared_at": state.reappeared_at if state else None,
        "finished": bool(state and state.finished),
        "next_due_at": next_due,
        "sent_at": sent_at,
        "time_to_offline": measured,
        "claimed_action_at": referral.action_taken_at,
        "claimed_time_to_action": claimed,
        "history": checks,
        "referral_id": referral.pk,
        "reminded_at": state.reminded_at if state else None,
        "reminders": state.reminders if state else 0,
        "can_remind": can_remind(state) and referral.status not in NOT_REMINDABLE,
    }
