"""API shapes of cases and items."""

from datetime import UTC

from django.utils import timezone
from rest_framework import serializers

from cases.models import Case, Category, Item, ItemKind


class CaseIn(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=20_000)


class CaseOut(serializers.ModelSerializer):
    class Meta:
        model = Case
        fields = ["id", "title", "description", "status", "created_at"]


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


class AssessIn(serializers.Serializer):
    """Any of the assessment's fields; those left out keep their values."""

    categories = serializers.ListField(child=serializers.ChoiceField(choices=Category.choices), required=False,
                                       max_length=len(Category.choices))
    group = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                     help_text="A group of the managed list (its id), or null for none.")
    language = serializers.CharField(required=False, allow_blank=True, max_length=16)
    severity = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=7)
    confidence = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=3)
    threat_to_life = serializers.BooleanField(required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give at least one of: categories, group, language, severity, "
                                              "confidence, threat_to_life.")
        return attrs


class ItemOut(serializers.ModelSerializer):
    platform = serializers.SlugRelatedField(read_only=True, slug_field="slug", allow_null=True,
                                            help_text="null: the URL's host is no known platform's.")
    categories = serializers.ListField(child=serializers.ChoiceField(choices=Category.choices), read_only=True)
    referrals = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="first_seen_at", read_only=True)

    class Meta:
        model = Item
        fields = ["id", "case", "url", "canonical_url", "platform", "kind", "categories", "language", "notes",
                  "status", "duplicate_of", "severity", "confidence", "threat_to_life", "priority", "group",
                  "referrals", "proposed_at", "created_at", "updated_at"]

    def get_referrals(self, obj) -> list[int]:
        return [r.pk for r in obj.referrals.all()]



# --- Output as plain functions -------------------------------------------------------------------------------
# The same JSON as ItemOut (which stays the schema's description), without a serializer's per-response field
# construction: about 1 ms an object with ItemOut. tests/api/test_plain_output.py holds them equal.

def iso(value) -> str | None:
    """A datetime as DRF writes it: ISO 8601 in the current time zone, 'Z' for +00:00. The current time zone is
    always UTC (settings.TIME_ZONE; the desk activates no other), so an aware datetime is written in UTC without
    asking for it: `timezone.localtime` reads the current zone from a context-local each time, a fifth of a
    50-row page's CPU (bench/api_profile.py)."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = timezone.localtime(value) if value.tzinfo is None else value.astimezone(UTC)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


ITEM_FIELDS = ("id", "case_id", "url", "canonical_url", "platform__slug", "kind", "categories", "language", "notes",
               "status", "duplicate_of_id", "severity", "confidence", "threat_to_life", "priority", "group_id",
               "proposed_at", "first_seen_at", "updated_at")


def item_row_json(row: dict, referral_ids: list[int]) -> dict:
    """An item as GET /api/v1/items/{id}/ shows it, from a `.values(*ITEM_FIELDS)` row."""
    return {
        "id": row["id"], "case": row["case_id"], "url": row["url"], "canonical_url": row["canonical_url"],
        "platform": row["platform__slug"], "kind": row["kind"], "categories": row["categories"],
        "language": row["language"], "notes": row["notes"], "status": row["status"],
        "duplicate_of": row["duplicate_of_id"], "severity": row["severity"], "confidence": row["confidence"],
        "threat_to_life": row["threat_to_life"], "priority": row["priority"], "group": row["group_id"],
        "referrals": referral_ids, "proposed_at": iso(row["proposed_at"]), "created_at": iso(row["first_seen_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def item_json(item: Item, referral_ids: list[int] | None = None, platform_slug: str | None = None) -> dict:
    """An item instance as GET /api/v1/items/{id}/ shows it. `referral_ids` when known (none for a new item);
    `platform_slug` saves loading the platform when the caller knows it."""
    if referral_ids is None:
        referral_ids = [r.pk for r in item.referrals.all()]
    if platform_slug is None and item.platform_id is not None:
        platform_slug = item.platform.slug
    return item_row_json({
        "id": item.pk, "case_id": item.case_id, "url": item.url, "canonical_url": item.canonical_url,
        "platform__slug": platform_slug, "kind": item.kind, "categories": item.categories,
        "language": item.language, "notes": item.notes, "status": item.status,
        "duplicate_of_id": item.duplicate_of_id, "severity": item.severity, "confidence": item.confidence,
        "threat_to_life": item.threat_to_life, "priority": item.priority, "group_id": item.group_id,
        "proposed_at": item.proposed_at, "first_seen_at": item.first_seen_at, "updated_at": item.updated_at,
    }, referral_ids)
