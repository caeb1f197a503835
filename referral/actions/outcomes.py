"""Referrals after sending: the platform's answers, overdue flags; the Referral transition table."""

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from alerts.models import Alert
from audit import chain as audit
from core.errors import InvalidInput, NotFound, TransitionNotAllowed
from core.roles import LIAISONS, has_role
from core.transactions import retry_on_conflict
from notifications.actions import notify_supervisors, notify_users
from referral import dsa as dsa_vocabulary
from referral.actions import orders
from referral.models import Instrument, Referral, ReferralStatus

R = ReferralStatus


OUTCOMES = {R.REMOVED, R.RESTRICTED, R.DECLINED, R.NEEDS_INFO}


LIAISON_STATUSES = {R.ACKNOWLEDGED, R.CANNOT_EXECUTE} | OUTCOMES


# A platform may answer before our "sent" commit lands (it got the message, then we crashed or were slow),
# so acknowledgement and outcomes are accepted from `queued` too. `needs_info` is answered by an outcome, or by the
# unit's clarification (back to acknowledged: waiting for the outcome again). Any referral without a final outcome
# can be withdrawn (referral/actions/withdrawal.py), a failed one too.
REFERRAL_ALLOWED: dict[str, set[str]] = {
    # already_offline: the check just before sending found the content gone; it is never sent (actions/presend.py).
    R.QUEUED: {R.SENT, R.FAILED, R.WITHDRAWN, R.ACKNOWLEDGED, R.CANNOT_EXECUTE, R.ALREADY_OFFLINE} | OUTCOMES,
    R.SENT: {R.ACKNOWLEDGED, R.FAILED, R.WITHDRAWN, R.CANNOT_EXECUTE} | OUTCOMES,
    R.ACKNOWLEDGED: OUTCOMES | {R.WITHDRAWN, R.CANNOT_EXECUTE},
    # A removal order the platform cannot execute (Annex III): the clock is paused until the unit clarifies (or, for
    # force majeure, the platform says the grounds ceased: acknowledged again); it may still act, or decline.
    R.CANNOT_EXECUTE: {R.ACKNOWLEDGED, R.REMOVED, R.RESTRICTED, R.DECLINED, R.WITHDRAWN},
    R.NEEDS_INFO: {R.REMOVED, R.RESTRICTED, R.DECLINED, R.WITHDRAWN, R.ACKNOWLEDGED},
    R.FAILED: {R.QUEUED, R.WITHDRAWN},
    R.REMOVED: set(),
    R.RESTRICTED: set(),
    R.DECLINED: set(),
    R.WITHDRAWN: set(),
    R.ALREADY_OFFLINE: set(),
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


CLOCK_SKEW = timedelta(minutes=5)  # a platform's clock may be this far from ours


def _check_status_input(status: str, action_taken_at) -> None:
    if status not in LIAISON_STATUSES:
        raise InvalidInput(
            "Unknown status.",
            field_errors={"status": [f"'{status}' is not one of: {', '.join(sorted(LIAISON_STATUSES))}."]},
        )
    if action_taken_at is not None and action_taken_at > timezone.now() + CLOCK_SKEW:
        raise InvalidInput(
            "action_taken_at is in the future.", field_errors={"action_taken_at": ["Must not be in the future."]}
        )


def _apply_status(referral: Referral, *, status, platform_reference, note, action_taken_at, now, order=None,
                  annex: dict | None = None, dsa: dict | None = None) -> list[str]:
    """Set a liaison's answer on a locked referral (moves checked); returns the fields to save. A removal order's
    answer also goes to its locked RemovalOrder (`order`, saved by the caller): Annex II or III (`annex`)."""
    _check_referral_move(referral, status)
    if action_taken_at is not None and referral.sent_at is not None and action_taken_at < referral.sent_at - CLOCK_SKEW:
        raise InvalidInput("action_taken_at is before the platform received the referral.", field_errors={
            "action_taken_at": [f"Not before the referral was received ({referral.sent_at:%Y-%m-%d %H:%M:%S} UTC)."]})
    extra = orders.order_answer(order, referral, status=status, now=now, **(annex or {}))
    referral.status = status
    fields = ["status", "updated_at"]
    referral.updated_at = now
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
    for name, value in (dsa or {}).items():  # the DSA's statement-of-reasons vocabulary, when the platform gives it
        allowed = DSA_VALUES[name]
        if value and value not in allowed:
            raise InvalidInput(f"Unknown {name}.", field_errors={name: [f"One of: {', '.join(allowed)}."]})
        if value:
            setattr(referral, name, value)
            fields.append(name)
    return fields + extra


DSA_VALUES = {"dsa_decision": dsa_vocabulary.DECISIONS, "dsa_ground": dsa_vocabulary.GROUNDS}

# The platform's answers the referral's people hear of at once: its proposer and the supervisor who approved it.
TOLD_OF = {R.NEEDS_INFO: ("needs_info", "asks for more information on"), R.DECLINED: ("declined", "declined")}


def _tell_people(referrals: list[Referral]) -> None:
    for referral in referrals:
        if referral.status in TOLD_OF:
            kind, what = TOLD_OF[referral.status]
            note = f": {referral.note[:300]}" if referral.note else "."
            notify_users([referral.approved_by_id, referral.item.proposed_by_id], kind=kind, object_type="referral",
                         object_id=referral.pk,
                         message=f"The platform {what} referral {referral.pk} ({referral.item.url[:200]}){note}")


def _status_event(actor, referral: Referral, before: str) -> dict:
    return {"actor": actor, "verb": f"referral.{referral.status}", "object_type": "referral",
            "object_id": referral.pk, "before": {"status": before},
            "after": {"status": referral.status, "platform_reference": referral.platform_reference}}


@retry_on_conflict
def referral_record_status(
    *,
    actor,
    referral_id: int,
    status: str,
    platform_reference: str = "",
    note: str = "",
    action_taken_at: datetime | None = None,
    reason: str = "",
    territorial_scope: str = "",
    grounds_ceased_at: datetime | None = None,
    dsa_decision: str = "",
    dsa_ground: str = "",
) -> Referral:
    """A platform liaison acknowledges a referral or reports its outcome; for a removal order, with Annex II
    (territorial_scope) or Annex III (cannot_execute with its reason; grounds_ceased_at ends a force majeure).

    Only the liaison of the referral's platform may; another platform's referral is NotFound, as if it did
    not exist. Repeating the current status is accepted without change (a platform retrying its call). A withdrawn
    referral refuses every answer (TransitionNotAllowed: 409).
    """
    _check_status_input(status, action_taken_at)
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
        before = referral.status
        order = orders.lock_order(referral)
        fields = _apply_status(referral, status=status, platform_reference=platform_reference, note=note,
                               action_taken_at=action_taken_at, now=timezone.now(), order=order,
                               annex={"reason": reason, "territorial_scope": territorial_scope,
                                      "grounds_ceased_at": grounds_ceased_at},
                               dsa={"dsa_decision": dsa_decision, "dsa_ground": dsa_ground})
        referral.save(update_fields=fields)
        if order is not None:
            orders.sync_pause([order])
        audit.record_many([_status_event(actor, referral, before)])
        _tell_people([referral])
    return referral


_ANSWER_COLUMNS = (("status", ""), ("updated_at", "::timestamptz"), ("due_at", "::timestamptz"),
                   ("acknowledged_at", "::timestamptz"),
                   ("outcome_at", "::timestamptz"), ("action_taken_at", "::timestamptz"),
                   ("platform_reference", ""), ("note", ""), ("dsa_decision", ""), ("dsa_ground", ""))


def _save_answers(referrals: list[Referral], fields: set[str]) -> None:
    """Write the answers of locked referrals: on PostgreSQL one UPDATE … FROM (VALUES …) per 1,000 rows, every
    answer column from the instance (bulk_update's CASE per column costs seconds at this size); elsewhere
    bulk_update."""
    if connection.vendor != "postgresql":
        Referral.objects.bulk_update(referrals, sorted(fields), batch_size=500)
        return
    table = connection.ops.quote_name(Referral._meta.db_table)
    names = [name for name, _ in _ANSWER_COLUMNS]
    row = "(%s::bigint, " + ", ".join(f"%s{cast}" for _, cast in _ANSWER_COLUMNS) + ")"
    assignments = ", ".join(f"{name} = v.{name}" for name in names)
    with connection.cursor() as cursor:
        for start in range(0, len(referrals), 1000):
            chunk = referrals[start:start + 1000]
            params = [value for r in chunk for value in (r.pk, *(getattr(r, name) for name in names))]
            cursor.execute(f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row] * len(chunk))}) "  # noqa: S608
                           f"AS v(id, {', '.join(names)}) WHERE {table}.id = v.id", params)


def referrals_record_status_many(*, actor, rows: list[dict]) -> list[dict]:
    """A liaison's answers for many referrals in one transaction (an action day's outcomes), each row checked as
    referral_record_status checks one: `rows` are dicts of id, status and optionally platform_reference, note,
    action_taken_at. Returns, in the rows' order, {"id", "status_code": 200, "referral": Referral} or
    {"id", "status_code", "detail", "errors"}. Another platform's referral is 404 with a missing one's body; a row
    that repeats the current status changes nothing (the same rows sent twice: the second time nothing moves)."""
    if not has_role(actor, LIAISONS) or actor.platform_id is None:
        raise NotFound("Not found.")
    results: list[dict] = []
    with transaction.atomic():
        ids = sorted({row["id"] for row in rows})
        referrals = (Referral.objects.select_for_update(no_key=True, of=("self",)).select_related("item")
                     .filter(pk__in=ids, platform_id=actor.platform_id).order_by("pk").in_bulk())
        now = timezone.now()
        locked_orders = orders.lock_orders(referrals.values())
        changed: dict[int, Referral] = {}
        fields: set[str] = set()
        events = []
        for row in rows:
            referral = referrals.get(row["id"])
            if referral is None:
                results.append({"id": row["id"], "status_code": 404, "detail": "Not found.", "errors": {}})
                continue
            try:
                _check_status_input(row["status"], row.get("action_taken_at"))
                if referral.status != row["status"]:
                    before = referral.status
                    fields.update(_apply_status(
                        referral, status=row["status"], platform_reference=row.get("platform_reference", ""),
                        note=row.get("note", ""), action_taken_at=row.get("action_taken_at"), now=now,
                        order=locked_orders.get(referral.pk),
                        annex={name: row.get(name) for name in ("reason", "territorial_scope", "grounds_ceased_at")},
                        dsa={name: row.get(name, "") for name in ("dsa_decision", "dsa_ground")}))
                    changed[referral.pk] = referral
                    events.append(_status_event(actor, referral, before))
            except (InvalidInput, TransitionNotAllowed) as exc:
                results.append({"id": row["id"], "status_code": exc.status_code, "detail": exc.message,
                                "errors": getattr(exc, "field_errors", None) or {}})
                continue
            results.append({"id": row["id"], "status_code": 200, "referral": referral})
        if changed:
            _save_answers(list(changed.values()), fields)
            orders.sync_pause([locked_orders[pk] for pk in changed if pk in locked_orders])
            audit.record_many(events)
            _tell_people(list(changed.values()))
    return results


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
        for order in (r for r in overdue if r.instrument == Instrument.REMOVAL_ORDER):
            notify_supervisors(kind="removal_order_overdue", object_type="referral", object_id=order.pk,
                               message=f"Removal order {order.pk} to {order.platform.name} is past its hour with no "
                                       "outcome.")
        audit.record_many([{"actor": None, "verb": "referral.overdue", "object_type": "referral", "object_id": r.pk,
                            "after": {"status": r.status, "due_at": r.due_at.isoformat()}} for r in overdue])
    return len(overdue)

