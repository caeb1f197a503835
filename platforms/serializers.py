"""API shapes of platforms and contact points."""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from platforms.models import Channel, ContactPoint, Platform, PlatformKind, PlatformLegal


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
    kind = serializers.CharField(max_length=16, default=PlatformKind.PLATFORM, help_text=(
        "platform (a hosting service provider), or authority: a Member State's competent authority, sent copies of "
        "removal orders (TCO Art 4)."))
    legal = serializers.JSONField(required=False, allow_null=True, default=None, help_text=(
        "The legal directory for removal orders: {main_establishment (Member State ISO code), "
        "legal_representative, languages (ISO 639-1 list)}."))


class ContactPointOut(serializers.ModelSerializer):
    has_secret = serializers.SerializerMethodField()
    rotating_until = serializers.DateTimeField(source="previous_secret_until", read_only=True, allow_null=True)

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


class LegalOut(serializers.Serializer):
    """A platform's legal directory as the API shows it (PlatformOut.legal)."""

    main_establishment = serializers.CharField(help_text="Member State (ISO code) of its main establishment.")
    legal_representative = serializers.CharField()
    languages = serializers.ListField(child=serializers.CharField(), help_text="ISO 639-1 codes it accepts orders in.")
    pre_information_sent_at = serializers.DateTimeField(allow_null=True, help_text=(
        "When it received the removal-order procedures (TCO Art 3(2)); null: not yet."))
    exposed = serializers.BooleanField(help_text="Two or more final removal orders in twelve months (TCO Art 5(4)).")
    exposed_since = serializers.DateTimeField(allow_null=True)
    final_orders_12_months = serializers.IntegerField()


class PlatformOut(serializers.ModelSerializer):
    domains = serializers.SlugRelatedField(many=True, read_only=True, slug_field="domain")
    kind = serializers.CharField(read_only=True, help_text="platform | authority")
    contact_points = ContactPointOut(many=True, read_only=True)
    legal = serializers.SerializerMethodField()

    class Meta:
        model = Platform
        fields = ["id", "slug", "name", "kind", "active", "domains", "contact_points", "legal", "created_at"]

    @extend_schema_field(LegalOut(allow_null=True))
    def get_legal(self, obj) -> dict | None:
        try:
            legal = obj.legal
        except PlatformLegal.DoesNotExist:
            return None
        return {"main_establishment": legal.main_establishment, "legal_representative": legal.legal_representative,
                "languages": legal.languages,
                "pre_information_sent_at": legal.pre_information_sent_at.isoformat().replace("+00:00", "Z")
                if legal.pre_information_sent_at else None,
                # TCO Art 5(4): two or more final removal orders in twelve months (referral/exposure.py).
                "exposed": legal.exposed_since is not None,
                "exposed_since": (legal.exposed_since.isoformat().replace("+00:00", "Z") if legal.exposed_since
                                  else None),
                "final_orders_12_months": legal.final_orders_12_months}



class LegalIn(serializers.Serializer):
    """A platform's legal directory (checked by platforms.services; this describes it in the schema)."""

    main_establishment = serializers.CharField(max_length=2, allow_blank=True, required=False)
    legal_representative = serializers.CharField(max_length=2000, allow_blank=True, required=False)
    languages = serializers.ListField(child=serializers.CharField(max_length=2), required=False)
