"""API shapes of review decisions, referrals and deliveries."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.models import Category
from cases.serializers import iso
from liveness.selectors import liveness_for
from referral import dsa
from referral.actions import order_reports
from referral.actions.orders import CANNOT_EXECUTE_REASONS, TERRITORIAL_SCOPES, order_json
from referral.actions.outcomes import LIAISON_STATUSES
from referral.models import AWAITING_OUTCOME, Delivery, DeliveryAttempt, Instrument, Referral, RemovalOrder


class ApproveIn(serializers.Serializer):
    instrument = serializers.ChoiceField(choices=Instrument.choices, default=Instrument.REFERRAL)
    order = serializers.JSONField(required=False, allow_null=True, default=None, help_text=(
        "For a removal order (required then): {statement_of_reasons, emergency, emergency_reason, non_disclosure, "
        "non_disclosure_until}; see OrderIn. Errors answer 400 with {\"order\": {field: [messages]}}."))


class OrderIn(serializers.Serializer):
    """A removal order's details given by the approving supervisor (TCO Annex I, sections B and C). The service
    checks them (referral/actions/orders.py); this describes them in the schema."""

    statement_of_reasons = serializers.CharField(max_length=5000)
    emergency = serializers.BooleanField(required=False, default=False)
    emergency_reason = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    non_disclosure = serializers.BooleanField(required=False, default=False)
    non_disclosure_until = serializers.DateField(required=False, allow_null=True)


class BulkApproveIn(serializers.Serializer):
    items = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=5000)
    instrument = serializers.ChoiceField(choices=Instrument.choices, default=Instrument.REFERRAL)
    order = serializers.JSONField(required=False, allow_null=True, default=None,
                                  help_text="For a removal order: OrderIn, the same for every item.")


class BulkItemErrorOut(serializers.Serializer):
    """An item a bulk decision left as it was, and why (the status a single decision would have answered)."""

    item = serializers.IntegerField()
    detail = serializers.CharField()
    status_code = serializers.IntegerField()


class BulkApproveOut(serializers.Serializer):
    approved = serializers.ListField(child=serializers.IntegerField())
    referrals = serializers.ListField(child=serializers.IntegerField())
    errors = BulkItemErrorOut(many=True)


class BulkReasonIn(serializers.Serializer):
    items = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=5000)
    reason = serializers.CharField(max_length=5000)


class BulkReturnOut(serializers.Serializer):
    returned = serializers.ListField(child=serializers.IntegerField())
    errors = BulkItemErrorOut(many=True)


class BulkRejectOut(serializers.Serializer):
    rejected = serializers.ListField(child=serializers.IntegerField())
    errors = BulkItemErrorOut(many=True)


class ReasonIn(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)


class AuthorityOut(serializers.Serializer):
    type = serializers.CharField()
    name = serializers.CharField()
    contact = serializers.CharField()


class OrderOut(serializers.Serializer):
    """A removal order's Annex I content (referral/actions/orders.py order_json)."""

    reference = serializers.CharField()
    issuing_member_state = serializers.CharField()
    addressee = serializers.CharField()
    legal_representative = serializers.CharField()
    contact_point = serializers.CharField()
    host_member_state = serializers.CharField()
    issued_at = serializers.DateTimeField()
    urls = serializers.ListField(child=serializers.CharField())
    grounds = serializers.ListField(child=serializers.CharField())
    statement_of_reasons = serializers.CharField()
    emergency = serializers.BooleanField()
    emergency_reason = serializers.CharField()
    non_disclosure = serializers.BooleanField()
    non_disclosure_until = serializers.DateField(allow_null=True)
    copy_to_host_authority = serializers.BooleanField()
    copy_sent_at = serializers.DateTimeField(allow_null=True)
    authority = AuthorityOut()
    signatory = serializers.CharField(allow_null=True)
    follow_up_contact = serializers.CharField()
    redress = serializers.CharField()
    territorial_scope = serializers.ChoiceField(choices=TERRITORIAL_SCOPES, allow_null=True)
    cannot_execute_reason = serializers.ChoiceField(choices=CANNOT_EXECUTE_REASONS, allow_null=True)
    grounds_ceased_at = serializers.DateTimeField(allow_null=True)
    scrutiny_decision = serializers.ChoiceField(choices=["no_infringement", "infringement"], allow_null=True)
    scrutiny_decided_at = serializers.DateTimeField(allow_null=True)
    # What the platform reported afterwards (POST .../order-reports/).
    scrutiny_requested_at = serializers.DateTimeField(allow_null=True)
    preserved_until = serializers.DateField(allow_null=True)
    provider_informed_at = serializers.DateTimeField(allow_null=True)
    complaint_received_at = serializers.DateTimeField(allow_null=True)
    complaint_outcome = serializers.ChoiceField(choices=order_reports.COMPLAINT_OUTCOMES, allow_null=True)
    complaint_decided_at = serializers.DateTimeField(allow_null=True)
    reinstated_at = serializers.DateTimeField(allow_null=True)


class ClockOut(serializers.Serializer):
    due_at = serializers.DateTimeField(allow_null=True)
    paused = serializers.BooleanField(help_text="A removal order's hour is paused (cannot_execute, Annex III).")
    paused_reason = serializers.CharField()


class LivenessOut(serializers.Serializer):
    state = serializers.CharField(help_text="pending | online | offline | unknown")
    checked_at = serializers.DateTimeField(allow_null=True, help_text="The last check; null before the first.")
    offline_at = serializers.DateTimeField(allow_null=True, help_text="The first check that found it offline.")
    checks = serializers.IntegerField()


class ReferralOut(serializers.ModelSerializer):
    url = serializers.CharField(source="item.url", read_only=True)
    canonical_url = serializers.CharField(source="item.canonical_url", read_only=True)
    kind = serializers.CharField(source="item.kind", read_only=True)
    categories = serializers.ListField(child=serializers.ChoiceField(choices=Category.choices),
                                       source="item.categories", read_only=True)
    platform = serializers.SlugRelatedField(read_only=True, slug_field="slug")
    order = serializers.SerializerMethodField(help_text="A removal order's Annex I content; null for a referral.")
    clock = serializers.SerializerMethodField(help_text="The deadline, and whether a removal order's hour is paused.")
    liveness = serializers.SerializerMethodField(help_text="The desk's own checks of the URL (docs/verification.md).")

    class Meta:
        model = Referral
        fields = ["id", "item", "url", "canonical_url", "kind", "categories", "platform", "instrument", "status",
                  "due_at", "sent_at", "acknowledged_at", "outcome_at", "action_taken_at", "platform_reference",
                  "note", "dsa_decision", "dsa_ground", "updated_at", "order", "clock", "liveness"]

    @staticmethod
    def _order(obj):
        return RemovalOrder.objects.filter(pk=obj.order_id).select_related("signatory").first() \
            if obj.order_id else None

    @extend_schema_field(OrderOut(allow_null=True))
    def get_order(self, obj) -> dict | None:
        return order_json(self._order(obj))

    @extend_schema_field(ClockOut)
    def get_clock(self, obj) -> dict:
        return clock_json(obj.due_at, self._order(obj), obj.status)

    @extend_schema_field(LivenessOut)
    def get_liveness(self, obj) -> dict:
        return liveness_json(liveness_for([obj.pk])[obj.pk])


class ReferralStatusIn(serializers.Serializer):
    status = serializers.ChoiceField(choices=sorted(LIAISON_STATUSES))
    platform_reference = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    action_taken_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    # Removal orders (TCO Annexes II and III)
    reason = serializers.ChoiceField(choices=CANNOT_EXECUTE_REASONS, required=False, help_text=(
        "With status cannot_execute (removal orders only): why, after Annex III."))
    territorial_scope = serializers.ChoiceField(choices=TERRITORIAL_SCOPES, required=False, help_text=(
        "With removed or restricted, for a removal order (Annex II); all_member_states when left out."))
    grounds_ceased_at = serializers.DateTimeField(required=False, allow_null=True, help_text=(
        "With acknowledged after cannot_execute for force majeure: when the grounds ceased (the hour runs from it)."))
    # The DSA's statement-of-reasons vocabulary (Transparency Database), optional with an outcome.
    dsa_decision = serializers.ChoiceField(choices=dsa.DECISIONS, required=False, default="", help_text=(
        "What you restricted, as in your DSA statement of reasons (decision_visibility / decision_account)."))
    dsa_ground = serializers.ChoiceField(choices=dsa.GROUNDS, required=False, default="", help_text=(
        "On which ground, as in your DSA statement of reasons (decision_ground)."))


class ReferralStatusRowIn(ReferralStatusIn):
    id = serializers.IntegerField(min_value=1)


MAX_STATUS_ROWS = 1000


class BulkStatusRowOut(serializers.Serializer):
    """A row's answer: {id, status_code: 200, referral}, or {id, status_code, detail, errors} as a single call's."""

    id = serializers.IntegerField(allow_null=True, help_text="The row's id; null when the row had none readable.")
    status_code = serializers.IntegerField()
    referral = ReferralOut(required=False, help_text="The referral as recorded (status_code 200).")
    detail = serializers.CharField(required=False)
    errors = serializers.DictField(child=serializers.JSONField(), required=False)


class BulkStatusOut(serializers.Serializer):
    results = BulkStatusRowOut(many=True, help_text="One per row, in the rows' order.")


class WithdrawIn(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)


class BulkWithdrawIn(serializers.Serializer):
    referrals = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=5000)
    reason = serializers.CharField(max_length=5000)


class BulkReferralErrorOut(serializers.Serializer):
    referral = serializers.IntegerField()
    detail = serializers.CharField()
    status_code = serializers.IntegerField()


class BulkWithdrawOut(serializers.Serializer):
    withdrawn = serializers.ListField(child=serializers.IntegerField())
    errors = BulkReferralErrorOut(many=True)


class ScrutinyIn(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["no_infringement", "infringement"])
    decided_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class OrderReportIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=order_reports.KINDS, help_text=(
        "scrutiny_requested (Art 4(3)), preserved (Art 6), provider_informed (Art 11(1)), complaint_received, "
        "complaint_decided (with outcome) and reinstated (Art 10)."))
    at = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="When; default now.")
    until = serializers.DateField(required=False, allow_null=True, default=None,
                                  help_text="preserved: until when (default six months after `at`).")
    outcome = serializers.ChoiceField(choices=order_reports.COMPLAINT_OUTCOMES, required=False, default="",
                                      help_text="complaint_decided: upheld or rejected.")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class PreInformOut(serializers.Serializer):
    deliveries = serializers.IntegerField(help_text=(
        "Messages queued (one per active contact point). None to send to answers 409."))


class ClarifyIn(serializers.Serializer):
    message = serializers.CharField(max_length=5000)


class DeliveryAttemptOut(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "endpoint", "started_at", "finished_at", "duration_ms", "request_sha256", "signature",
                  "response_status", "response_sha256", "response_excerpt", "error", "outcome"]


class DeliveryOut(serializers.ModelSerializer):
    platform = serializers.CharField(source="contact_point.platform.slug", read_only=True)
    channel = serializers.CharField(source="contact_point.channel", read_only=True)
    endpoint = serializers.CharField(source="contact_point.endpoint", read_only=True)
    referrals = serializers.SerializerMethodField()
    attempt_records = DeliveryAttemptOut(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "platform", "channel", "endpoint", "status", "attempts", "next_attempt_at", "sent_at",
                  "last_status_code", "last_error", "external_reference", "created_at", "referrals",
                  "attempt_records"]

    def get_referrals(self, obj) -> list[int]:
        return sorted(r.pk for r in obj.referrals.all())


class ManualSubmittedIn(serializers.Serializer):
    ticket = serializers.CharField(max_length=200)



# --- Output as plain functions -------------------------------------------------------------------------------
# The same JSON as ReferralOut (which stays the schema's description), without a serializer's per-response field
# construction. tests/api/test_plain_output.py holds them equal.

REFERRAL_FIELDS = ("id", "item_id", "item__url", "item__canonical_url", "item__kind", "item__categories",
                   "platform__slug", "instrument", "status", "due_at", "sent_at", "acknowledged_at", "outcome_at",
                   "action_taken_at", "platform_reference", "note", "dsa_decision", "dsa_ground", "updated_at")


def referral_row_json(row: dict, order: RemovalOrder | None = None, liveness: dict | None = None) -> dict:
    """A referral as GET /api/v1/referrals/{id}/ shows it, from a `.values(*REFERRAL_FIELDS)` row and, for a
    removal order, its RemovalOrder (referral/selectors.py orders_for: one query for a page); `liveness` from
    liveness.selectors.liveness_for (the desk's own checks; left out: read here, one query)."""
    if liveness is None:
        liveness = liveness_for([row["id"]])[row["id"]]
    return {
        "id": row["id"], "item": row["item_id"], "url": row["item__url"], "canonical_url": row["item__canonical_url"],
        "kind": row["item__kind"], "categories": row["item__categories"], "platform": row["platform__slug"],
        "instrument": row["instrument"], "status": row["status"], "due_at": iso(row["due_at"]),
        "sent_at": iso(row["sent_at"]), "acknowledged_at": iso(row["acknowledged_at"]),
        "outcome_at": iso(row["outcome_at"]), "action_taken_at": iso(row["action_taken_at"]),
        "platform_reference": row["platform_reference"], "note": row["note"], "dsa_decision": row["dsa_decision"],
        "dsa_ground": row["dsa_ground"], "updated_at": iso(row["updated_at"]),
        "order": order_json(order), "clock": clock_json(row["due_at"], order, row["status"]),
        "liveness": liveness_json(liveness),
    }


def liveness_json(liveness: dict) -> dict:
    return {"state": liveness["state"], "checked_at": iso(liveness["checked_at"]),
            "offline_at": iso(liveness["offline_at"]), "checks": liveness["checks"]}


def clock_json(due_at, order, status: str) -> dict:
    """The one-hour clock of a removal order (for a referral, its due time and never paused): the order's pause
    holds for its URLs still open (awaiting an outcome, or answered cannot_execute), not for those settled."""
    paused = bool(order and order.paused and (status in AWAITING_OUTCOME or status == "cannot_execute"))
    return {"due_at": iso(due_at), "paused": paused, "paused_reason": order.paused_reason if paused else ""}


def referral_json(referral: Referral, platform_slug: str, order: RemovalOrder | None | bool = True,
                  liveness: dict | None = None) -> dict:
    """A referral instance (its item loaded) as GET /api/v1/referrals/{id}/ shows it. `order`: its RemovalOrder
    when the caller read it (None: it has none); left out, it is read here for a removal order."""
    item = referral.item
    if order is True:
        order = (RemovalOrder.objects.select_related("signatory").filter(pk=referral.order_id).first()
                 if referral.order_id else None)
    return referral_row_json({
        "id": referral.pk, "item_id": referral.item_id, "item__url": item.url,
        "item__canonical_url": item.canonical_url, "item__kind": item.kind, "item__categories": item.categories,
        "platform__slug": platform_slug, "instrument": referral.instrument, "status": referral.status,
        "due_at": referral.due_at, "sent_at": referral.sent_at, "acknowledged_at": referral.acknowledged_at,
        "outcome_at": referral.outcome_at, "action_taken_at": referral.action_taken_at,
        "platform_reference": referral.platform_reference, "note": referral.note,
        "dsa_decision": referral.dsa_decision, "dsa_ground": referral.dsa_ground, "updated_at": referral.updated_at,
    }, order, liveness)
