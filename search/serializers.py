"""The search API's answer (GET /api/v1/search/?q=): what the page shows, grouped by kind. Output only."""

from rest_framework import serializers

from cases.models import CaseStatus, ItemStatus
from referral.models import Instrument, ReferralStatus

MATCH_HELP = "How the row matched: URL, number, unit's reference, platform's reference, notes or title."


class ItemHit(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    status = serializers.ChoiceField(choices=ItemStatus.choices)
    case = serializers.IntegerField(source="case_id")
    case_title = serializers.CharField()
    platform = serializers.CharField(source="platform_name", allow_null=True)
    notes_excerpt = serializers.CharField(help_text="The notes' first 160 characters.")
    match = serializers.CharField(help_text=MATCH_HELP)
    api_url = serializers.CharField()
    page_url = serializers.CharField()


class ReferralHit(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ReferralStatus.choices)
    instrument = serializers.ChoiceField(choices=Instrument.choices)
    platform = serializers.CharField(source="platform_name")
    platform_reference = serializers.CharField()
    item = serializers.IntegerField(source="item_id")
    item_url = serializers.CharField()
    created_at = serializers.DateTimeField()
    match = serializers.CharField(help_text=MATCH_HELP)
    api_url = serializers.CharField()
    page_url = serializers.CharField()


class CaseHit(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    created_at = serializers.DateTimeField()
    match = serializers.CharField(help_text=MATCH_HELP)
    api_url = serializers.CharField()
    page_url = serializers.CharField()


class More(serializers.Serializer):
    items = serializers.BooleanField()
    referrals = serializers.BooleanField()
    cases = serializers.BooleanField()


class SearchOut(serializers.Serializer):
    query = serializers.CharField(help_text="The search as read (surrounding blanks removed).")
    interpreted_as = serializers.ChoiceField(choices=["url", "number", "unit_reference", "text"])
    canonical_url = serializers.CharField(allow_null=True, help_text="The URL searched for, canonicalised.")
    searched = serializers.ListField(child=serializers.CharField(),
                                     help_text="The groups you may search: a liaison only `referrals`.")
    items = ItemHit(many=True)
    referrals = ReferralHit(many=True)
    cases = CaseHit(many=True)
    more = More(help_text="Per group: more rows match than the 20 returned (refine the search).")
