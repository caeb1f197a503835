"""The base of the API's item actions (propose here; approve, return, reject in referral/api/): one POST endpoint
per transition, answering the item as GET /api/v1/items/{id}/ shows it."""

from rest_framework.response import Response
from rest_framework.views import APIView

from cases.models import Item, ItemStatus
from cases.selectors import referral_ids_by_item
from cases.serializers import item_json
from platforms import directory


class ItemActionView(APIView):
    """Base for one POST endpoint per item transition."""

    input_serializer = None

    def act(self, request, item_id: int, data: dict) -> Item:  # pragma: no cover - abstract
        raise NotImplementedError

    def post(self, request, pk: int):
        data = {}
        if self.input_serializer is not None:
            parsed = self.input_serializer(data=request.data)
            parsed.is_valid(raise_exception=True)
            data = parsed.validated_data
        item = self.act(request, pk, data)
        # The action's own row, not a second read: only an approved item has referrals (approval is final), and
        # approval hands back the ids it wrote.
        referrals = getattr(item, "referral_ids", None)
        if referrals is None:
            referrals = referral_ids_by_item([item.pk]).get(item.pk, []) if item.status == ItemStatus.APPROVED else []
        return Response(item_json(item, referral_ids=referrals, platform_slug=directory.slug_of(item.platform_id)))
