"""Removal orders (Regulation (EU) 2021/784, "TCO"): the Annex I content checked and stored when a supervisor
approves an item as a removal order (referral/actions/approval.py calls in here inside its transaction).

The supervisor gives what changes per order (`order`: statement_of_reasons, emergency and its reason,
non_disclosure and until when); the item gives the URL and the Art 2(7) grounds (its categories); the environment
gives the issuing authority (UNIT_AUTHORITY_NAME, UNIT_AUTHORITY_TYPE, UNIT_MEMBER_STATE, UNIT_CONTACT_EMAIL: 409
naming the missing ones); the platform's legal directory (platforms.PlatformLegal) gives the addressee's
establishment and legal representative.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_date

from core.errors import Conflict, InvalidInput
from referral.models import Referral, RemovalOrder

AUTHORITY_SETTINGS = ("UNIT_AUTHORITY_NAME", "UNIT_AUTHORITY_TYPE", "UNIT_MEMBER_STATE", "UNIT_CONTACT_EMAIL")
ORDER_FIELDS = ("statement_of_reasons", "emergency", "emergency_reason", "non_disclosure", "non_disclosure_until")
MAX_TEXT = 5000
# Art 11(3): the platform must not inform the content provider for six weeks from the order (extendable by six).
NON_DISCLOSURE_MAX = timedelta(weeks=6)
REDRESS = ("The hosting service provider and the content provider may challenge this removal order before the "
           "courts of the issuing Member State (Regulation (EU) 2021/784, Article 9(1)), and the hosting service "
           "provider may request scrutiny by the competent authority of the Member State of its main establishment "
           "(Article 4(3) and (4)) within 48 hours of receipt.")


def check_authority() -> dict:
    """The issuing authority from the environment, or Conflict naming what to set."""
    missing = [name for name in AUTHORITY_SETTINGS if not getattr(settings, name, "")]
    if missing:
        raise Conflict(f"The unit cannot issue removal orders until {', '.join(missing)} "
                       f"{'is' if len(missing) == 1 else 'are'} set in the environment (docs/removal-orders.md).")
    return {"name": settings.UNIT_AUTHORITY_NAME, "type": settings.UNIT_AUTHORITY_TYPE,
            "member_state": settings.UNIT_MEMBER_STATE, "contact": settings.UNIT_CONTACT_EMAIL}


def check_order_details(order, *, now=None) -> dict:
    """The supervisor's part of Annex I, checked: InvalidInput with {"order": {field: [messages]}} otherwise."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if not isinstance(order, dict):
        raise InvalidInput("A removal order needs its details.", field_errors={"order": {
            "statement_of_reasons": ["A removal order needs a statement of reasons (Annex I, section B)."]}})
    unknown = sorted(set(order) - set(ORDER_FIELDS))
    if unknown:
        errors["non_field_errors"] = [f"Unknown field(s): {', '.join(unknown)}."]
    reasons = order.get("statement_of_reasons")
    reasons = reasons.strip() if isinstance(reasons, str) else ""
    if not reasons:
        errors["statement_of_reasons"] = ["A removal order needs a statement of reasons (Annex I, section B)."]
    elif len(reasons) > MAX_TEXT:
        errors["statement_of_reasons"] = [f"At most {MAX_TEXT} characters."]
    flags = {}
    for name in ("emergency", "non_disclosure"):
        value = order.get(name, False)
        if not isinstance(value, bool):
            errors[name] = ["Must be true or false."]
        flags[name] = value is True
    emergency_reason = order.get("emergency_reason") or ""
    emergency_reason = emergency_reason.strip() if isinstance(emergency_reason, str) else ""
    if flags["emergency"] and not emergency_reason:
        errors["emergency_reason"] = ["Say why this first order cannot wait for the platform's 12 hours' notice "
                                      "(Article 3(2))."]
    until = order.get("non_disclosure_until")
    if isinstance(until, date):
        until_date = until
    elif isinstance(until, str) and until:
        try:
            until_date = parse_date(until)
        except ValueError:
            until_date = None
        if until_date is None:
            errors["non_disclosure_until"] = ["A date: YYYY-MM-DD."]
    else:
        until_date = None
    today = timezone.localdate(now)
    if flags["non_disclosure"]:
        if until_date is None and "non_disclosure_until" not in errors:
            until_date = today + NON_DISCLOSURE_MAX
        elif until_date is not None and not today < until_date <= today + NON_DISCLOSURE_MAX:
            errors["non_disclosure_until"] = ["Within six weeks from today (Article 11(3)); extend it later."]
    elif until_date is not None:
        errors["non_disclosure_until"] = ["Only with non_disclosure."]
    if errors:
        raise InvalidInput("The removal order is incomplete.", field_errors={"order": errors})
    return {"statement_of_reasons": reasons, "emergency": flags["emergency"], "emergency_reason": emergency_reason,
            "non_disclosure": flags["non_disclosure"], "non_disclosure_until": until_date}


def order_reference(member_state: str, referral_id: int, now) -> str:
    """Unique per issuing authority: the Member State, the year and the number of the order's first referral."""
    return f"{member_state}-TCO-{now:%Y}-{referral_id:07d}"


def order_size(platform) -> int:
    """How many URLs one order names at most for `platform`: ORDER_MAX_URLS, and never more than one message to
    any of its active contact points carries, so that an order travels whole (its hour runs from one receipt)."""
    sizes = [cp.max_items_per_message for cp in platform.contact_points.all() if cp.active]
    return max(1, min([settings.ORDER_MAX_URLS, *sizes]))


def orders_create(rows: list[tuple], *, details: dict, authority: dict, actor, now) -> list[RemovalOrder]:
    """Store the Annex I content of new orders, in the caller's transaction, and link their referrals. `rows` are
    (referral_id, url, categories, platform), the platform's legal directory and contact points loaded: the
    referrals of one platform approved together under one statement of reasons form one order naming their URLs
    (up to order_size), its grounds the union of their categories. Each order gets `referral_ids` (in order)."""
    by_platform: dict[int, list[tuple]] = {}
    for row in sorted(rows, key=lambda row: row[0]):
        by_platform.setdefault(row[3].pk, []).append(row)
    orders, groups = [], []
    for platform_rows in by_platform.values():
        platform = platform_rows[0][3]
        size = order_size(platform)
        legal = getattr(platform, "legal", None)
        contact = next((cp.endpoint for cp in platform.contact_points.all() if cp.active), "")
        for start in range(0, len(platform_rows), size):
            group = platform_rows[start:start + size]
            grounds = sorted({category for row in group for category in (row[2] or [])})
            groups.append([row[0] for row in group])
            orders.append(RemovalOrder(
                platform=platform, reference=order_reference(authority["member_state"], group[0][0], now),
                issuing_member_state=authority["member_state"], addressee=platform.name,
                legal_representative=legal.legal_representative if legal else "", contact_point=contact,
                host_member_state=legal.main_establishment if legal else "", issued_at=now,
                urls=[row[1] for row in group], grounds=grounds, **details,
                copy_to_host_authority=bool(legal and legal.main_establishment
                                            and legal.main_establishment != authority["member_state"]),
                authority_type=authority["type"], authority_name=authority["name"],
                authority_contact=authority["contact"], signatory=actor, follow_up_contact=authority["contact"],
                redress=REDRESS))
    created = RemovalOrder.objects.bulk_create(orders)
    for order, referral_ids in zip(created, groups, strict=True):
        order.referral_ids = referral_ids
    _link(created)
    return created


def _link(created: list[RemovalOrder]) -> None:
    """Set each referral's order: one UPDATE on PostgreSQL (unnest of the pairs), one per order elsewhere."""
    if connection.vendor == "postgresql":
        pairs = [(referral_id, order.pk) for order in created for referral_id in order.referral_ids]
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {Referral._meta.db_table} r SET order_id = v.order_id "  # noqa: S608
                           "FROM unnest(%s::bigint[], %s::bigint[]) AS v(referral_id, order_id) "
                           "WHERE r.id = v.referral_id", [[p[0] for p in pairs], [p[1] for p in pairs]])
        return
    for order in created:
        Referral.objects.filter(pk__in=order.referral_ids).update(order=order)


# Annex III: why a platform cannot execute an order (Art 3(7) force majeure or de facto impossibility; Art 3(8)
# manifest errors or insufficient information).
CANNOT_EXECUTE_REASONS = ("force_majeure", "manifest_error", "insufficient_information")
TERRITORIAL_SCOPES = ("all_member_states", "some_member_states")  # Annex II: removed, or access disabled, where
ONE_HOUR = timedelta(hours=1)


def lock_order(referral) -> RemovalOrder | None:
    """The order of a referral the caller has locked (None for a voluntary referral), locked after it."""
    if referral.order_id is None:
        return None
    return RemovalOrder.objects.select_for_update(no_key=True).filter(pk=referral.order_id).first()


def lock_orders(referrals) -> dict[int, RemovalOrder]:
    """The orders of referrals the caller has locked, by referral id (the referrals of one order share one
    instance), locked in id order."""
    order_ids = {r.order_id for r in referrals if r.order_id is not None}
    if not order_ids:
        return {}
    locked = RemovalOrder.objects.select_for_update(no_key=True).filter(pk__in=order_ids).order_by("pk").in_bulk()
    return {r.pk: locked[r.order_id] for r in referrals if r.order_id is not None}


def sync_pause(changed) -> None:
    """After its referrals' answers are saved: an order's clock stays paused while any of its URLs is answered
    'cannot_execute' (Annex III) and not yet clarified, and runs again when none is. Then each order is saved."""
    changed = list({order.pk: order for order in changed}.values())
    if not changed:
        return
    waiting = set(Referral.objects.filter(order_id__in=[o.pk for o in changed], status="cannot_execute")
                  .values_list("order_id", flat=True).distinct())
    for order in changed:
        if order.pk not in waiting:
            order.paused = False
    RemovalOrder.objects.bulk_update(changed, ["territorial_scope", "cannot_execute_reason", "grounds_ceased_at",
                                               "paused", "paused_reason", "paused_at"])


def order_answer(order: RemovalOrder | None, referral, *, status: str, now, reason=None, territorial_scope=None,
                 grounds_ceased_at=None) -> list[str]:
    """A platform's answer to a removal order, on the order (the caller saves it) and its clock: Annex III
    (cannot_execute, with a reason) pauses the clock; Annex II (removed or restricted) records the measure's
    territorial scope; after force majeure, acknowledged with grounds_ceased_at restarts the hour from then.
    Checked before anything changes (InvalidInput). Returns the referral's fields it changed."""
    if status == "cannot_execute" and order is None:
        raise InvalidInput("Only a removal order can be answered 'cannot_execute'.",
                           field_errors={"status": ["For a voluntary referral, answer 'declined' with a note."]})
    if order is None:
        return []
    if status == "cannot_execute":
        if reason not in CANNOT_EXECUTE_REASONS:
            raise InvalidInput("Say why the order cannot be executed (Annex III).", field_errors={
                "reason": [f"One of: {', '.join(CANNOT_EXECUTE_REASONS)}."]})
        order.cannot_execute_reason = reason
        order.paused, order.paused_reason, order.paused_at = True, reason, now
        return []
    if status in ("removed", "restricted"):
        scope = territorial_scope or "all_member_states"
        if scope not in TERRITORIAL_SCOPES:
            raise InvalidInput("Unknown territorial scope.", field_errors={
                "territorial_scope": [f"One of: {', '.join(TERRITORIAL_SCOPES)}."]})
        order.territorial_scope = scope  # the clock runs again unless another URL awaits a clarification
        return []
    if status == "acknowledged" and order.paused and order.paused_reason == "force_majeure":
        ceased = grounds_ceased_at or now
        if ceased > now + timedelta(minutes=5):
            raise InvalidInput("grounds_ceased_at is in the future.",
                               field_errors={"grounds_ceased_at": ["Must not be in the future."]})
        order.grounds_ceased_at = ceased
        referral.due_at = ceased + ONE_HOUR  # Art 3(7): the hour runs from when the grounds ceased
        return ["due_at"]
    return []


def order_clarified(order: RemovalOrder, referral, *, now) -> None:
    """The unit answered an Annex III (manifest error, insufficient information): the clock restarts; its hour
    runs from the platform's receipt of the answer (recorded when the clarification is delivered; until then
    one hour from now). The caller saves the referral's due_at, then the order (sync_pause)."""
    referral.due_at = now + ONE_HOUR


def procedure_information(platform) -> str:
    """What a platform is told before its first removal order (TCO Art 3(2)): the applicable procedures and
    deadlines."""
    authority = ", ".join(filter(None, [settings.UNIT_AUTHORITY_NAME, settings.UNIT_MEMBER_STATE])) or "The unit"
    return (
        f"{authority} may issue removal orders to {platform.name} under Regulation (EU) 2021/784 (TCO).\n"
        "- An order reaches your contact point like a referral, marked instrument \"removal_order\", with its Annex I "
        "content (reference, URLs, grounds, statement of reasons, issuing authority, redress).\n"
        "- You must remove the content or disable access to it in all Member States as soon as possible and in any "
        "event within one hour of receipt (Article 3(3)).\n"
        "- Report what you did (Annex II: removed or restricted, with the time and territorial scope) or why you "
        "cannot (Annex III: force majeure or de facto impossibility, manifest errors, insufficient information) "
        "through the API's status call; the hour is paused until we answer an Annex III.\n"
        "- You and the content provider may seek redress (Article 9), and you may request scrutiny by the authority "
        "of your main establishment (Article 4).\n"
        f"- Contact: {settings.UNIT_CONTACT_EMAIL or 'the unit'}.\n"
        f"Your first order can follow at the earliest {settings.ORDER_PRE_INFORMATION_HOURS} hours after you "
        "receive this message, except in duly justified cases of emergency.")


def order_json(order: RemovalOrder | None) -> dict | None:
    """A referral's `order` in the API: the Annex I fields, or None for a voluntary referral."""
    if order is None:
        return None
    iso = _iso
    return {
        "reference": order.reference, "issuing_member_state": order.issuing_member_state,
        "addressee": order.addressee, "legal_representative": order.legal_representative,
        "contact_point": order.contact_point, "host_member_state": order.host_member_state,
        "issued_at": iso(order.issued_at), "urls": order.urls, "grounds": order.grounds,
        "statement_of_reasons": order.statement_of_reasons, "emergency": order.emergency,
        "emergency_reason": order.emergency_reason, "non_disclosure": order.non_disclosure,
        "non_disclosure_until": order.non_disclosure_until.isoformat() if order.non_disclosure_until else None,
        "copy_to_host_authority": order.copy_to_host_authority, "copy_sent_at": iso(order.copy_sent_at),
        "authority": {"type": order.authority_type, "name": order.authority_name,
                      "contact": order.authority_contact},
        "signatory": order.signatory.get_username() if order.signatory_id else None,
        "follow_up_contact": order.follow_up_contact, "redress": order.redress,
        "territorial_scope": order.territorial_scope or None,
        "cannot_execute_reason": order.cannot_execute_reason or None,
        "grounds_ceased_at": iso(order.grounds_ceased_at),
        "scrutiny_decision": order.scrutiny_decision or None, "scrutiny_decided_at": iso(order.scrutiny_decided_at),
        # What the platform reported afterwards (POST .../order-reports/): Art 4(3), 6, 11(1), 10.
        "scrutiny_requested_at": iso(order.scrutiny_requested_at),
        "preserved_until": order.preserved_until.isoformat() if order.preserved_until else None,
        "provider_informed_at": iso(order.provider_informed_at),
        "complaint_received_at": iso(order.complaint_received_at),
        "complaint_outcome": order.complaint_outcome or None, "complaint_decided_at": iso(order.complaint_decided_at),
        "reinstated_at": iso(order.reinstated_at),
    }


def _iso(value):
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
