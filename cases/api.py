"""API v1: cases and items (logging, reading, proposing)."""

import django_filters
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from cases import selectors as case_selectors
from cases import serializers as case_s
from cases.actions import assessment as assessment_actions
from cases.actions import cases as case_actions
from cases.actions import items as item_actions
from cases.api_base import ItemActionView
from cases.models import Item, ItemStatus
from core.pagination import KeysetPagination
from core.permissions import (
    IsAnalyst,
    IsAnalystOrSupervisor,
    IsUnitStaff,
)

# Only an approved item has referrals (approval is final: cases/actions/items.py ITEM_ALLOWED), so only approved
# rows need their referrals' ids read.
APPROVED = ItemStatus.APPROVED


class CaseListCreate(generics.ListAPIView):
    serializer_class = case_s.CaseOut

    def get_permissions(self):
        return [IsAnalystOrSupervisor()] if self.request.method == "POST" else [IsUnitStaff()]

    def get_queryset(self):
        return case_selectors.cases_for(self.request.user)

    @extend_schema(request=case_s.CaseIn, responses={201: case_s.CaseOut})
    def post(self, request):
        data = case_s.CaseIn(data=request.data)
        data.is_valid(raise_exception=True)
        case = case_actions.case_create(actor=request.user, **data.validated_data)
        return Response(case_s.CaseOut(case).data, status=status.HTTP_201_CREATED)


class CaseDetail(generics.RetrieveAPIView):
    serializer_class = case_s.CaseOut
    permission_classes = [IsUnitStaff]

    def get_queryset(self):
        return case_selectors.cases_for(self.request.user)


class ItemFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ItemStatus.choices)
    case = django_filters.NumberFilter(field_name="case_id")
    platform = django_filters.CharFilter(field_name="platform__slug")

    class Meta:
        model = Item
        fields = ["status", "case", "platform"]


class ItemListCreate(generics.ListAPIView):
    """Items, newest first. Answers are built from plain rows (cases/serializers.py item_row_json), ItemOut stays
    their description in the schema: two queries a page (the items, their referrals' ids)."""

    serializer_class = case_s.ItemOut
    filterset_class = ItemFilter

    def get_permissions(self):
        return [IsAnalystOrSupervisor()] if self.request.method == "POST" else [IsUnitStaff()]

    def get_queryset(self):
        return case_selectors.item_rows_for(self.request.user)

    @property
    def paginator(self):
        """Proposed items come in Review's order (threat to life, priority, oldest proposal); the rest newest first."""
        if not hasattr(self, "_paginator"):
            if self.request.query_params.get("status") == ItemStatus.PROPOSED:
                self._paginator = KeysetPagination(case_selectors.REVIEW_KEYSET)
            else:
                self._paginator = self.pagination_class()
        return self._paginator

    def list(self, request, *args, **kwargs):
        rows = self.paginate_queryset(self.filter_queryset(self.get_queryset()).values(*case_s.ITEM_FIELDS))
        referrals = case_selectors.referral_ids_by_item([row["id"] for row in rows if row["status"] == APPROVED])
        return self.get_paginated_response([case_s.item_row_json(row, referrals.get(row["id"], [])) for row in rows])

    @extend_schema(request=case_s.ItemIn, responses={201: case_s.ItemOut})
    def post(self, request):
        data = case_s.ItemIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        item = item_actions.item_log(
            actor=request.user, case=v["case"], url=v["url"], kind=v["kind"], categories=v["categories"],
            language=v["language"], notes=v["notes"], platform_slug=v["platform"],
        )
        # A new item has no referrals, and item_log gave it its platform: no second read.
        return Response(case_s.item_json(item, referral_ids=[]), status=201)


class ItemDetail(generics.RetrieveAPIView):
    serializer_class = case_s.ItemOut
    permission_classes = [IsUnitStaff]

    def get_queryset(self):
        return case_selectors.item_rows_for(self.request.user)

    def retrieve(self, request, pk: int, *args, **kwargs):
        row = self.get_queryset().filter(pk=pk).values(*case_s.ITEM_FIELDS).first()
        if row is None:
            raise Http404
        referrals = case_selectors.referral_ids_by_item([pk]).get(pk, []) if row["status"] == APPROVED else []
        return Response(case_s.item_row_json(row, referrals))


@extend_schema(request=None, responses=case_s.ItemOut)
class ItemPropose(ItemActionView):
    permission_classes = [IsAnalyst]

    def act(self, request, item_id, data):
        return item_actions.item_propose(actor=request.user, item_id=item_id)


@extend_schema(request=case_s.AssessIn, responses=case_s.ItemOut)
class ItemAssess(ItemActionView):
    """Change the item's assessment: any of its fields; the priority follows (docs/triage.md)."""

    permission_classes = [IsAnalystOrSupervisor]
    input_serializer = case_s.AssessIn

    def act(self, request, item_id, data):
        return assessment_actions.item_assess_fields(actor=request.user, item_id=item_id, changes=dict(data))
