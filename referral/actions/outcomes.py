"""Referrals after sending: the platform's answers, overdue flags; the Referral transition table."""

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from alerts.models import Alert
from audit import chain as audit
from core.errors import InvalidInput, NotFound, TransitionNotAllowed
from core.roles import LIAISONS, has_role
from core.transactions import retry_on_conflict
from referral.models import Instrument, Referral, ReferralStatus

R = ReferralStatus


OUTCOMES = {R.REMOVED, R.RESTRICTED, R.DECLINED, R.NEEDS_INFO}


LIAISON_STATUSES = {R.ACKNOWLEDGED} | OUTCOMES


# A platform may answer before our "sent" commit lands (it got the message, then we crashed or were slow),
# so acknowledgement and outcomes are accepted from `queued` too. `needs_info` is answered by an outcome.
REFERRAL_ALLOWED: dict[str, set[str]] = {
    R.QUEUED: {R.SENT, R.FAILED, R.WITHDRAWN, R.ACKNOWLEDGED} | OUTCOMES,
    R.SENT: {R.ACKNOWLEDGED, R.FAILED, R.WITHDRAWN} | OUTCOMES,
    R.ACKNOWLEDGED: OUTCOMES | {R.WITHDRAWN},
    R.NEEDS_INFO: {R.REMOVED, R.RESTRICTED, R.DECLINED, R.WITHDRAWN},
    R.FAILED: {R.QUEUED},
    R.REMOVED: set(),
    R.RESTRICTED: set(),
    R.DECLINED: set(),
    R.WITHDRAWN: set(),
}


def _check_referral_move(referral: Referral, target: str) -> None:
    if target not in REFERRAL_ALLOWED[referral.status]:
        raise TransitionNotAllowed(
            f"Referral {referral.pk} is '{referral.status}'; it cannot become '{target}'.",
        )


def referral_move_locked(referral: Referral, target: str) -> None:
    """For the outbox: the move a delivery causes to a referral the caller has locked (failed when its last
    delivery dies, queued again on a re-drive), checked against REFERRAL_ALLOWED. The caller writes the audit."""
    _check_referral_move(referral, target)
    referral.status = target
    referral.save(update_fields=["status", "updated_at"])


def referrals_move_locked(referral_ids: list[int], source: str, target: str, *, now) -> None:
    """For the outbox: many locked referrals from `source` to `target` in one UPDATE (queued → sent when their
    delivery is accepted). Rows no longer in `source` are left as they are. The caller writes the audit."""
    if target not in REFERRAL_ALLOWED[source]:
        raise TransitionNotAllowed(f"A referral that is '{source}' cannot become '{target}'.")
    Referral.objects.filter(pk__in=referral_ids, status=source).update(status=target, updated_at=now)


@retry_on_conflict
def referral_record_status(
    *,
    actor,
    referral_id: int,
    status: str,
    platform_reference: str = "",
    note: str = "",
    action_taken_at: datetime | None = None,
) -> Referral:
    """A platform liaison acknowledges a referral or reports its outcome.

    Only the liaison of the referral's platform may; another platform's referral is NotFound, as if it did
    not exist. Repeating the current status is accepted without change (a platform retrying its call).
    """
    if status not in LIAISON_STATUSES:
        raise InvalidInput(
            "Unknown status.",
            field_errors={"status": [f"'{status}' is not one of: {', '.join(sorted(LIAISON_STATUSES))}."]},
        )
    if action_taken_at is not None and action_taken_at > timezone.now() + timedelta(minutes=5):
        raise InvalidInput(
            "action_taken_at is in the future.", field_errors={"action_taken_at": ["Must not be in the future."]}
        )
    with transaction.atomic():
        try:
            # The item comes along for the caller's answer; only the referral's row is locked.
            referral = (Referral.objects.select_for_update(no_key=True, of=("self",)).select_related("item")
                        .get(pk=referral_id))
        except Referral.DoesNotExist as exc:
            raise NotFound("Not found.") from exc
        if not has_role(actor, LIAISONS) or actor.platform_id != referral.platform_id:
            raise NotFound("Not found.")
        if referral.status == status:
            return referral
        _check_referral_move(referral, status)
        before = {"status": referral.status}
        now = timezone.now()
        referral.status = status
        fields = ["status", "updated_at"]
        if status == R.ACKNOWLEDGED:
            referral.acknowledged_at = now
            fields.append("acknowledged_at")
        else:
            referral.outcome_at = now
            referral.action_taken_at = action_taken_at or (now if status in (R.REMOVED, R.RESTRICTED) else None)
            fields += ["outcome_at", "action_taken_at"]
        if platform_reference:
            referral.platform_reference = platform_reference[:200]
            fields.append("platform_reference")
        if note:
            referral.note = note
            fields.append("note")
        referral.save(update_fields=fields)
        audit.record(
            actor=actor, verb=f"referral.{status}", obj=referral, before=before,
            after={"status": status, "platform_reference": referral.platform_reference},
        )
    return referral


@retry_on_conflict
def referrals_flag_overdue(*, now=None, limit: int = 1000) -> int:
    """Alert supervisors, once per referral, when a referral passes its due time with no outcome: for a removal
    order that is the TCO hour. One Alert per platform and instrument per run, listing the referrals.
    Returns how many referrals were flagged."""
    now = now or timezone.now()
    with transaction.atomic():
        qs = (Referral.objects.overdue(now).filter(overdue_alerted_at__isnull=True)
              .select_related("platform").order_by("due_at"))
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",), no_key=True)
        overdue = list(qs[:limit])
        if not overdue:
            return 0
        Referral.objects.filter(pk__in=[r.pk for r in overdue]).update(overdue_alerted_at=now)
        groups: dict = {}
        for referral in overdue:
            groups.setdefault((referral.platform, referral.instrument), []).append(referral)
        for (platform, instrument), referrals in groups.items():
            what = "removal order" if instrument == Instrument.REMOVAL_ORDER else "referral"
            ids = ", ".join(str(r.pk) for r in referrals[:20]) + (" …" if len(referrals) > 20 else "")
            Alert.objects.create(kind="referral_overdue", message=(
                f"{len(referrals)} {what}{'s' if len(referrals) > 1 else ''} to {platform.name} past due with no "
                f"outcome: {ids}."))
        audit.record_many([{"actor": None, "verb": "referral.overdue", "object_type": "referral", "object_id": r.pk,
                            "after": {"status": r.status, "due_at": r.due_at.isoformat()}} for r in overdue])
    return len(overdue)

