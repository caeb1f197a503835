"""API v1 views: parse, check the role, call a service, serialize. One POST endpoint per action."""

import django_filters
from django.db import IntegrityError
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from platforms import services as platform_services
from platforms.models import Platform

from .. import selectors, workflow
from ..errors import InvalidInput, NotFound
from ..models import Delivery, DeliveryStatus, Item, ItemStatus, Referral, ReferralStatus
from . import serializers as s
from .pagination import NewestFirstCursorPagination
from .permissions import (
    CanReadReferrals,
    IsAdminRole,
    IsAnalyst,
    IsAnalystOrSupervisor,
    IsLiaison,
    IsSupervisor,
    IsUnitStaff,
)

# --- Platforms ------------------------------------------------------------------------------------------


class PlatformListCreate(generics.ListAPIView):
    serializer_class = s.PlatformOut

    def get_permissions(self):
        return [IsAdminRole()] if self.request.method == "POST" else [IsUnitStaff()]

    def get_queryset(self):
        return Platform.objects.prefetch_related("domains", "contact_points")

    @extend_schema(request=s.PlatformIn, responses={201: s.PlatformOut})
    def post(self, request):
        data = s.PlatformIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            platform = platform_services.platform_create(actor=request.user, **data.validated_data)
        except IntegrityError as exc:  # a concurrent create took the slug or a domain
            raise InvalidInput("The platform's slug or a domain is already taken.") from exc
        platform = Platform.objects.prefetch_related("domains", "contact_points").get(pk=platform.pk)
        return Response(s.PlatformOut(platform).data, status=status.HTTP_201_CREATED)


# --- Cases ----------------------------------------------------------------------------------------------


class CaseListCreate(generics.ListAPIView):
    serializer_class = s.CaseOut

    def get_permissions(self):
        return [IsAnalystOrSupervisor()] if self.request.method == "POST" else [IsUnitStaff()]

    def get_queryset(self):
        return selectors.cases_for(self.request.user)

    @extend_schema(request=s.CaseIn, responses={201: s.CaseOut})
    def post(self, request):
        data = s.CaseIn(data=request.data)
        data.is_valid(raise_exception=True)
        case = workflow.case_create(actor=request.user, **data.validated_data)
        return Response(s.CaseOut(case).data, status=status.HTTP_201_CREATED)


class CaseDetail(generics.RetrieveAPIView):
    serializer_class = s.CaseOut
    permission_classes = [IsUnitStaff]

    def get_queryset(self):
        return selectors.cases_for(self.request.user)


# --- Items ----------------------------------------------------------------------------------------------


class ItemFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ItemStatus.choices)
    case = django_filters.NumberFilter(field_name="case_id")
    platform = django_filters.CharFilter(field_name="platform__slug")

    class Meta:
        model = Item
        fields = ["status", "case", "platform"]


class ItemListCreate(generics.ListAPIView):
    serializer_class = s.ItemOut
    filterset_class = ItemFilter

    def get_permissions(self):
        return [IsAnalystOrSupervisor()] if self.request.method == "POST" else [IsUnitStaff()]

    def get_queryset(self):
        return selectors.items_for(self.request.user)

    @extend_schema(request=s.ItemIn, responses={201: s.ItemOut})
    def post(self, request):
        data = s.ItemIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        item = workflow.item_log(
            actor=request.user, case=v["case"], url=v["url"], kind=v["kind"], categories=v["categories"],
            language=v["language"], notes=v["notes"], platform_slug=v["platform"],
        )
        return Response(s.ItemOut(selectors.items_for(request.user).get(pk=item.pk)).data, status=201)


class ItemDetail(generics.RetrieveAPIView):
    serializer_class = s.ItemOut
    permission_classes = [IsUnitStaff]

    def get_queryset(self):
        return selectors.items_for(self.request.user)


class _ItemAction(APIView):
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
        return Response(s.ItemOut(selectors.items_for(request.user).get(pk=item.pk)).data)


@extend_schema(request=None, responses=s.ItemOut)
class ItemPropose(_ItemAction):
    permission_classes = [IsAnalyst]

    def act(self, request, item_id, data):
        return workflow.item_propose(actor=request.user, item_id=item_id)


@extend_schema(request=s.ApproveIn, responses=s.ItemOut)
class ItemApprove(_ItemAction):
    permission_classes = [IsSupervisor]
    input_serializer = s.ApproveIn

    def act(self, request, item_id, data):
        return workflow.item_approve(actor=request.user, item_id=item_id, instrument=data["instrument"])


@extend_schema(request=s.ReasonIn, responses=s.ItemOut)
class ItemReject(_ItemAction):
    permission_classes = [IsSupervisor]
    input_serializer = s.ReasonIn

    def act(self, request, item_id, data):
        return workflow.item_reject(actor=request.user, item_id=item_id, reason=data["reason"])


@extend_schema(request=s.ReasonIn, responses=s.ItemOut)
class ItemReturn(_ItemAction):
    permission_classes = [IsSupervisor]
    input_serializer = s.ReasonIn

    def act(self, request, item_id, data):
        return workflow.item_return(actor=request.user, item_id=item_id, reason=data["reason"])


class ItemBulkApprove(APIView):
    """Approve many proposed items at once (an action day's batch); each is checked as a single approval."""

    permission_classes = [IsSupervisor]

    @extend_schema(request=s.BulkApproveIn, responses=s.BulkApproveOut, operation_id="v1_items_bulk_approve")
    def post(self, request):
        data = s.BulkApproveIn(data=request.data)
        data.is_valid(raise_exception=True)
        result = workflow.item_approve_many(actor=request.user, item_ids=data.validated_data["items"],
                                            instrument=data.validated_data["instrument"])
        return Response(result)


# --- Referrals ------------------------------------------------------------------------------------------


class ReferralFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ReferralStatus.choices)
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Referral
        fields = ["status", "updated_since"]


class ReferralList(generics.ListAPIView):
    """Unit staff see every referral; a liaison sees only their platform's."""

    serializer_class = s.ReferralOut
    permission_classes = [CanReadReferrals]
    filterset_class = ReferralFilter

    def get_queryset(self):
        return selectors.referrals_for(self.request.user)


class ReferralDetail(generics.RetrieveAPIView):
    serializer_class = s.ReferralOut
    permission_classes = [CanReadReferrals]

    def get_queryset(self):
        return selectors.referrals_for(self.request.user)


class ReferralStatusUpdate(APIView):
    permission_classes = [IsLiaison]

    @extend_schema(request=s.ReferralStatusIn, responses=s.ReferralOut)
    def post(self, request, pk: int):
        # Scope first: another platform's referral is a 404 whatever the body says.
        if not selectors.referrals_for(request.user).filter(pk=pk).exists():
            raise NotFound("Not found.")
        data = s.ReferralStatusIn(data=request.data)
        data.is_valid(raise_exception=True)
        workflow.referral_record_status(actor=request.user, referral_id=pk, **data.validated_data)
        return Response(s.ReferralOut(selectors.referrals_for(request.user).get(pk=pk)).data)


# --- Contact points -------------------------------------------------------------------------------------


class ContactPointRotateSecret(APIView):
    permission_classes = [IsAdminRole]

    @extend_schema(request=s.RotateSecretIn, responses=s.ContactPointOut)
    def post(self, request, pk: int):
        data = s.RotateSecretIn(data=request.data)
        data.is_valid(raise_exception=True)
        cp = platform_services.contact_point_rotate_secret(actor=request.user, contact_point_id=pk,
                                                           **data.validated_data)
        return Response(s.ContactPointOut(cp).data)


class ContactPointEnable(APIView):
    permission_classes = [IsAdminRole]

    @extend_schema(request=None, responses=s.ContactPointOut)
    def post(self, request, pk: int):
        cp = platform_services.contact_point_enable(actor=request.user, contact_point_id=pk)
        return Response(s.ContactPointOut(cp).data)


# --- Deliveries -----------------------------------------------------------------------------------------


class DeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    platform = django_filters.CharFilter(field_name="contact_point__platform__slug")

    class Meta:
        model = Delivery
        fields = ["status", "platform"]


class DeliveryPagination(NewestFirstCursorPagination):
    ordering = "-created_at"


class DeliveryList(generics.ListAPIView):
    """The outbox, for the unit's staff: `?status=failed` and `?status=stopped` are the dead letters,
    `?status=manual` the web-form submissions waiting for an analyst."""

    serializer_class = s.DeliveryOut
    permission_classes = [IsUnitStaff]
    filterset_class = DeliveryFilter
    pagination_class = DeliveryPagination

    def get_queryset(self):
        return selectors.deliveries_for(self.request.user)


class DeliveryDetail(generics.RetrieveAPIView):
    serializer_class = s.DeliveryOut
    permission_classes = [IsUnitStaff]

    def get_queryset(self):
        return selectors.deliveries_for(self.request.user)


class DeliveryRedrive(APIView):
    permission_classes = [IsSupervisor]

    @extend_schema(request=None, responses=s.DeliveryOut)
    def post(self, request, pk):
        workflow.delivery_redrive(actor=request.user, delivery_id=pk)
        return Response(s.DeliveryOut(selectors.deliveries_for(request.user).get(pk=pk)).data)


class DeliveryManualSubmitted(APIView):
    permission_classes = [IsAnalystOrSupervisor]

    @extend_schema(request=s.ManualSubmittedIn, responses=s.DeliveryOut)
    def post(self, request, pk):
        data = s.ManualSubmittedIn(data=request.data)
        data.is_valid(raise_exception=True)
        workflow.delivery_complete_manual(actor=request.user, delivery_id=pk, ticket=data.validated_data["ticket"])
        return Response(s.DeliveryOut(selectors.deliveries_for(request.user).get(pk=pk)).data)
