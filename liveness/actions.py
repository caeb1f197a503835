"""A supervisor's follow-up of content still online: a reminder to the platform through the outbox.

The desk flags a referral for follow-up when its own checks still find the content online a day after the platform
received it (an hour for a removal order: liveness/recording.py). A supervisor may then remind the platform: a
`referrals.reminder` delivery to each active contact point of the platform, signed and retried like every message
(referral.actions.events.tell_platforms), with the unit's text. The referral's status does not change (the platform
may have answered `removed` while the content stays up: that is what the reminder is for).

Locks, in the order of core/locking.py: the referral, then its liveness state; the audit chain takes none.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from audit import chain as audit
from core.errors import Conflict, InvalidInput, NotFound
from core.roles import DECIDERS, require_role
from core.transactions import retry_on_conflict
from liveness.models import LivenessState
from liveness.selectors import NOT_REMINDABLE, can_remind
from referral.actions import events
from referral.models import DeliveryEvent, Referral

MAX_TEXT = 5000
REMIND_AGAIN_AFTER = timedelta(hours=1)  # one reminder an hour at most: a platform is reminded, not flooded


def reminder_text(referral: Referral, state: LivenessState) -> str:
    hours = int((state.checked_at - referral.sent_at).total_seconds() // 3600)
    return (f"Referral {referral.pk} ({referral.item.url}) is still online: our last check found it online on "
            f"{state.checked_at:%Y-%m-%d %H:%M} UTC, {hours} hours after you received it "
            f"({referral.sent_at:%Y-%m-%d %H:%M} UTC). Please act on it, or tell us your decision.")


@retry_on_conflict
def referral_remind(*, actor, referral_id: int, message: str = "") -> LivenessState:
    """A supervisor reminds the platform of a referral flagged for follow-up (the desk still finds it online after
    24 hours, one hour for a removal order): a referrals.reminder delivery to each of the platform's active contact
    points with `message` (a standard text when blank), the reminder counted on the liveness state, audited
    (`referral.reminded`). Raises NotFound, Conflict when the referral is not flagged, is not with the platform
    (never sent, withdrawn), was reminded within the hour, or the platform has no active contact point;
    InvalidInput for a text over 5,000 characters."""
    require_role(actor, DECIDERS, "reminding platforms")
    message = (message or "").strip()
    if len(message) > MAX_TEXT:
        too_long = f"At most {MAX_TEXT} characters."
        raise InvalidInput(too_long, field_errors={"message": [too_long]})
    with transaction.atomic():
        referral = (Referral.objects.select_for_update(no_key=True, of=("self",)).select_related("item")
                    .filter(pk=referral_id).first())
        if referral is None:
            raise NotFound("Not found.")
        state = LivenessState.objects.select_for_update(no_key=True).filter(referral_id=referral.pk).first()
        if not can_remind(state):
            raise Conflict(f"Referral {referral.pk} is not flagged for follow-up: the desk's checks have not found it "
                           "still online a day after receipt (an hour for a removal order).")
        if referral.status in NOT_REMINDABLE:
            raise Conflict(f"Referral {referral.pk} is '{referral.status}': the platform has nothing to recall.")
        now = timezone.now()
        if state.reminded_at and now - state.reminded_at < REMIND_AGAIN_AFTER:
            raise Conflict(f"The platform was reminded of referral {referral.pk} at {state.reminded_at:%H:%M} UTC; "
                           "remind it again an hour later at the earliest.")
        text = message or reminder_text(referral, state)
        entries = events.tell_platforms({referral.platform_id: [referral.pk]}, event=DeliveryEvent.REMINDER,
                                        message=text, actor=actor, now=now)
        if not entries:
            raise Conflict(f"The platform of referral {referral.pk} has no active contact point: it cannot be "
                           "reminded through the desk.")
        state.reminded_at, state.reminders = now, state.reminders + 1
        state.save(update_fields=["reminded_at", "reminders"])
        audit.record_many([{"actor": actor, "verb": "referral.reminded", "object_type": "referral",
                            "object_id": referral.pk, "after": {
                                "message": text, "reminders": state.reminders,
                                "followup_flagged_at": state.followup_flagged_at.isoformat(),
                                "last_online_at": state.checked_at.isoformat()}}, *entries])
    return state
