"""API shapes of review decisions, referrals and deliveries."""

from rest_framework import serializers

from referral.actions.outcomes import LIAISON_STATUSES
from referral.models import Delivery, DeliveryAttempt, Instrument, Referral


class ApproveIn(serializers.Serializer):
    instrument = serializers.ChoiceField(choices=Instrument.choices, default=Instrument.REFERRAL)


class BulkApproveIn(serializers.Serializer):
    items = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=5000)
    instrument = serializers.ChoiceField(choices=Instrument.choices, default=Instrument.REFERRAL)


class BulkApproveOut(serializers.Serializer):
    approved = serializers.ListField(child=serializers.IntegerField())
    referrals = serializers.ListField(child=serializers.IntegerField())
    errors = serializers.ListField(child=serializers.DictField())


class ReasonIn(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)


class ReferralOut(serializers.ModelSerializer):
    url = serializers.CharField(source="item.url", read_only=True)
    canonical_url = serializers.CharField(source="item.canonical_url", read_only=True)
    kind = serializers.CharField(source="item.kind", read_only=True)
    categories = serializers.JSONField(source="item.categories", read_only=True)
    platform = serializers.SlugRelatedField(read_only=True, slug_field="slug")

    class Meta:
        model = Referral
        fields = ["id", "item", "url", "canonical_url", "kind", "categories", "platform", "instrument", "status",
                  "due_at", "sent_at", "acknowledged_at", "outcome_at", "action_taken_at", "platform_reference",
                  "note", "updated_at"]


class ReferralStatusIn(serializers.Serializer):
    status = serializers.ChoiceField(choices=sorted(LIAISON_STATUSES))
    platform_reference = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    action_taken_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


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

