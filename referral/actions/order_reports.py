"""What a platform reports on a removal order after its answer (Regulation (EU) 2021/784): that it or the content
provider asked for scrutiny (Art 4(3)), that it preserves the content and its data (Art 6), that it informed the
content provider (Art 11(1)), a complaint of the content provider, its outcome, and a reinstatement (Art 10).

Each report is a fact on the order (RemovalOrder's fields) and an audit event with everything the platform said;
the order page and the Art 8 report read them. Only the liaison of the order's platform reports.
"""

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from audit import chain as audit
from core.errors import Conflict, InvalidInput, NotFound
from core.roles import LIAISONS, require_role
from core.transactions import retry_on_conflict
from referral.actions import orders
from referral.models import Referral, ReferralStatus, RemovalOrder

KINDS = ("scrutiny_requested", "preserved", "provider_informed", "complaint_received", "complaint_decided",
         "reinstated")
COMPLAINT_OUTCOMES = ("upheld", "rejected")
PRESERVATION = timedelta(days=183)  # Art 6(2): six months, longer at the authority's request
CLOCK_TOLERANCE = timedelta(minutes=5)  # a platform's clock a little ahead of ours is not an error
MAX_NOTE = 2000


def _check(order: RemovalOrder, referral: Referral, kind: str, at: datetime, until: date | None, outcome: str) -> None:
    now = timezone.now()
    if at > now + CLOCK_TOLERANCE:
        raise InvalidInput("The time is in the future.", field_errors={"at": ["Must not be in the future."]})
    if at < order.issued_at - CLOCK_TOLERANCE:
        raise InvalidInput("The time is before the order was issued.",
                           field_errors={"at": [f"Not before the order's issue ({order.issued_at.isoformat()})."]})
    if kind == "preserved" and until is not None and until < at.date():
        raise InvalidInput("Preserved until a date before the report.", field_errors={"until": ["Not before 'at'."]})
    if kind == "complaint_decided" and outcome not in COMPLAINT_OUTCOMES:
        raise InvalidInput("A complaint's decision needs its outcome.",
                           field_errors={"outcome": [f"One of: {', '.join(COMPLAINT_OUTCOMES)}."]})
    if kind == "provider_informed" and order.non_disclosure and (
            order.non_disclosure_until is None or at.date() <= order.non_disclosure_until):
        until_text = order.non_disclosure_until.isoformat() if order.non_disclosure_until else "further notice"
        raise Conflict(f"Order {order.reference} asks you not to inform the content provider until {until_text} "
                       "(Article 11(3)).")
    if kind == "complaint_decided" and order.complaint_received_at is None:
        raise Conflict("No complaint is recorded on this order: report it first (complaint_received).")
    lapsed = referral.status == ReferralStatus.WITHDRAWN
    if kind == "reinstated" and not (order.complaint_outcome == "upheld" or lapsed):
        raise Conflict("Content is reinstated after an upheld complaint or when the order lapsed or was withdrawn.")
    already = {"scrutiny_requested": order.scrutiny_requested_at, "provider_informed": order.provider_informed_at,
               "complaint_received": order.complaint_received_at, "complaint_decided": order.complaint_decided_at,
               "reinstated": order.reinstated_at}.get(kind)
    if already is not None:
        raise Conflict(f"'{kind}' is already recorded on order {order.reference} ({already.isoformat()}).")


@retry_on_conflict
def order_report_record(*, actor, referral_id: int, kind: str, at: datetime | None = None, until: date | None = None,
                        outcome: str = "", note: str = "") -> RemovalOrder:
    """The liaison of the order's platform reports one of KINDS (another platform's referral, or a voluntary
    referral, is NotFound). Each kind is recorded once (409 after), except `preserved`, which a later report
    extends. `at` defaults to now; `until` (preserved) to six months after `at`. Audited with the note."""
    require_role(actor, LIAISONS, "reporting on removal orders")
    if kind not in KINDS:
        raise InvalidInput("Unknown report.", field_errors={"kind": [f"One of: {', '.join(KINDS)}."]})
    at = at or timezone.now()
    with transaction.atomic():
        referral = (Referral.objects.select_for_update(no_key=True, of=("self",))
                    .filter(pk=referral_id, platform_id=actor.platform_id).first())
        order = orders.lock_order(referral) if referral is not None else None
        if order is None:
            raise NotFound("Not found.")
        _check(order, referral, kind, at, until, outcome)
        fields = {
            "scrutiny_requested": {"scrutiny_requested_at": at},
            "preserved": {"preserved_until": until or (at + PRESERVATION).date()},
            "provider_informed": {"provider_informed_at": at},
            "complaint_received": {"complaint_received_at": at},
            "complaint_decided": {"complaint_outcome": outcome, "complaint_decided_at": at},
            "reinstated": {"reinstated_at": at},
        }[kind]
        for name, value in fields.items():
            setattr(order, name, value)
        order.save(update_fields=list(fields))
        audit.record_many([{"actor": actor, "verb": f"order.{kind}", "object_type": "referral",
                            "object_id": referral.pk, "after": {
                                "order": order.reference, "at": at.isoformat(), "note": note[:MAX_NOTE],
                                **{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in fields.items()}}}])
    return order
