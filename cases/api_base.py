"""The base of the API's item actions (propose here; approve, return, reject in referral/api/): one POST endpoint
per transition, answering the item as GET /api/v1/items/{id}/ shows it."""

from rest_framework.response import Response
from rest_framework.views import APIView

from cases.models import Item
from cases.selectors import items_for
from cases.serializers import ItemOut


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
        return Response(ItemOut(items_for(request.user).get(pk=item.pk)).data)
