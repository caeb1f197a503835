"""API shapes of cases and items."""

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

