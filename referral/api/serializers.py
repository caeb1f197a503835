"""Input and output shapes of API v1. Inputs only parse; services decide. Outputs are the contract."""

from django.conf import settings
from rest_framework import serializers

from platforms.models import Channel, ContactPoint, Platform

from ..models import Case, Category, Delivery, DeliveryAttempt, Instrument, Item, ItemKind, Referral
from ..workflow import LIAISON_STATUSES

# --- Platforms ------------------------------------------------------------------------------------------


class ContactPointIn(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    endpoint = serializers.CharField(max_length=2048)
    secret = serializers.CharField(max_length=200, required=False, allow_blank=True, write_only=True)
    format = serializers.ChoiceField(choices=["json-v1", "email-v1", "text-v1"], required=False)
    language = serializers.CharField(max_length=8, required=False, default="en")
    max_items_per_message = serializers.IntegerField(min_value=1, max_value=10_000, required=False, default=100)
    rate_per_minute = serializers.IntegerField(min_value=1, max_value=100_000, required=False, allow_null=True)
    timeout_seconds = serializers.IntegerField(min_value=1, max_value=60, required=False,
                                               default=settings.DELIVERY_TIMEOUT_SECONDS)
    sla_hours = serializers.IntegerField(min_value=1, max_value=24 * 90, required=False, allow_null=True)


class PlatformIn(serializers.Serializer):
    slug = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=200)
    domains = serializers.ListField(child=serializers.CharField(max_length=253), max_length=500, default=list)
    contact_points = serializers.ListField(child=ContactPointIn(), max_length=20, default=list)


class ContactPointOut(serializers.ModelSerializer):
    has_secret = serializers.SerializerMethodField()
    rotating_until = serializers.DateTimeField(source="previous_secret_until", read_only=True)

    class Meta:
        model = ContactPoint
        fields = ["id", "channel", "endpoint", "format", "language", "max_items_per_message", "rate_per_minute",
                  "timeout_seconds", "sla_hours", "active", "disabled_reason", "has_secret", "rotating_until",
                  "consecutive_failures", "circuit_open_until"]

    def get_has_secret(self, obj) -> bool:
        return bool(obj.secret)


class RotateSecretIn(serializers.Serializer):
    secret = serializers.CharField(max_length=200)
    overlap_days = serializers.IntegerField(min_value=0, max_value=7, required=False, allow_null=True, default=None)


class PlatformOut(serializers.ModelSerializer):
    domains = serializers.SlugRelatedField(many=True, read_only=True, slug_field="domain")
    contact_points = ContactPointOut(many=True, read_only=True)

    class Meta:
        model = Platform
        fields = ["id", "slug", "name", "active", "domains", "contact_points", "created_at"]


# --- Cases ----------------------------------------------------------------------------------------------


class CaseIn(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=20_000)


class CaseOut(serializers.ModelSerializer):
    class Meta:
        model = Case
        fields = ["id", "title", "description", "status", "created_at"]


# --- Items ----------------------------------------------------------------------------------------------


class ItemIn(serializers.Serializer):
    case = serializers.PrimaryKeyRelatedField(queryset=Case.objects.all())
    # Length and shape are checked by the service, with messages an analyst understands.
    url = serializers.CharField(trim_whitespace=False, max_length=10_000)
    kind = serializers.ChoiceField(choices=ItemKind.choices)
    categories = serializers.ListField(child=serializers.ChoiceField(choices=Category.choices), default=list,
                                       max_length=len(Category.choices))
    language = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=20_000)
    platform = serializers.SlugField(max_length=64, required=False, allow_null=True, default=None)


class ItemOut(serializers.ModelSerializer):
    platform = serializers.SlugRelatedField(read_only=True, slug_field="slug")
    referrals = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="first_seen_at", read_only=True)

    class Meta:
        model = Item
        fields = ["id", "case", "url", "canonical_url", "platform", "kind", "categories", "language", "notes",
                  "status", "duplicate_of", "referrals", "created_at", "updated_at"]

    def get_referrals(self, obj) -> list[int]:
        return [r.pk for r in obj.referrals.all()]


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


# --- Referrals ------------------------------------------------------------------------------------------


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


# --- Deliveries -----------------------------------------------------------------------------------------


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
