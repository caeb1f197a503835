"""API v1: review decisions, referrals and the platform's answers, the outbox."""

from datetime import timedelta

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import serializers as case_s
from cases.api_base import ItemActionView
from core.errors import Conflict, NotFound
from core.pagination import NewestFirstCursorPagination
from core.permissions import (
    CanReadReferrals,
    IsAnalystOrSupervisor,
    IsLiaison,
    IsSupervisor,
    IsUnitStaff,
)
from liveness.selectors import liveness_for
from platforms import directory
from referral import order_document, tco_report
from referral import selectors as referral_selectors
from referral.actions import approval, order_reports, outcomes, withdrawal
from referral.api import serializers as referral_s
from referral.models import Delivery, DeliveryStatus, Referral, ReferralStatus
from referral.outbox import actions as outbox_actions


@extend_schema(request=referral_s.ApproveIn, responses=case_s.ItemOut)
class ItemApprove(ItemActionView):
    permission_classes = [IsSupervisor]
    input_serializer = referral_s.ApproveIn

    def act(self, request, item_id, data):
        return approval.item_approve(actor=request.user, item_id=item_id, instrument=data["instrument"],
                                     order=data.get("order"))


@extend_schema(request=referral_s.ReasonIn, responses=case_s.ItemOut)
class ItemReject(ItemActionView):
    permission_classes = [IsSupervisor]
    input_serializer = referral_s.ReasonIn

    def act(self, request, item_id, data):
        return approval.item_reject(actor=request.user, item_id=item_id, reason=data["reason"])


@extend_schema(request=referral_s.ReasonIn, responses=case_s.ItemOut)
class ItemReturn(ItemActionView):
    permission_classes = [IsSupervisor]
    input_serializer = referral_s.ReasonIn

    def act(self, request, item_id, data):
        return approval.item_return(actor=request.user, item_id=item_id, reason=data["reason"])


class ItemBulkApprove(APIView):
    """Approve many proposed items at once (an action day's batch); each is checked as a single approval."""

    permission_classes = [IsSupervisor]

    @extend_schema(request=referral_s.BulkApproveIn, responses=referral_s.BulkApproveOut,
                   operation_id="v1_items_bulk_approve")
    def post(self, request):
        data = referral_s.BulkApproveIn(data=request.data)
        data.is_valid(raise_exception=True)
        result = approval.item_approve_many(actor=request.user, item_ids=data.validated_data["items"],
                                            instrument=data.validated_data["instrument"],
                                            order=data.validated_data.get("order"))
        return Response(result)


class ItemBulkReturn(APIView):
    """Return many proposed items to their analysts with one reason; each is checked as a single return."""

    permission_classes = [IsSupervisor]

    @extend_schema(request=referral_s.BulkReasonIn, responses=referral_s.BulkReturnOut,
                   operation_id="v1_items_bulk_return")
    def post(self, request):
        data = referral_s.BulkReasonIn(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(approval.items_return_many(actor=request.user, item_ids=data.validated_data["items"],
                                                   reason=data.validated_data["reason"]))


class ItemBulkReject(APIView):
    """Reject many proposed items with one reason; each is checked as a single rejection."""

    permission_classes = [IsSupervisor]

    @extend_schema(request=referral_s.BulkReasonIn, responses=referral_s.BulkRejectOut,
                   operation_id="v1_items_bulk_reject")
    def post(self, request):
        data = referral_s.BulkReasonIn(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(approval.items_reject_many(actor=request.user, item_ids=data.validated_data["items"],
                                                   reason=data.validated_data["reason"]))


def validate_utc_offset(value) -> None:
    """PostgreSQL takes UTC offsets up to ±15:59; Python's parser takes up to ±23:59."""
    offset = value.utcoffset() if value is not None else None
    if offset is not None and abs(offset) > timedelta(hours=15, minutes=59):
        raise DjangoValidationError("A UTC offset between -15:59 and +15:59.")


class ReferralFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ReferralStatus.choices)
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte",
                                                     validators=[validate_utc_offset])

    class Meta:
        model = Referral
        fields = ["status", "updated_since"]


class ReferralList(generics.ListAPIView):
    """Unit staff see every referral; a liaison sees only their platform's. Answers are built from plain rows
    (referral/api/serializers.py referral_row_json): one query a page."""

    serializer_class = referral_s.ReferralOut
    permission_classes = [CanReadReferrals]
    filterset_class = ReferralFilter

    def get_queryset(self):
        return referral_selectors.referrals_for(self.request.user)

    def list(self, request, *args, **kwargs):
        rows = self.paginate_queryset(self.filter_queryset(self.get_queryset()).values(*referral_s.REFERRAL_FIELDS))
        orders = referral_selectors.orders_for(rows)
        checked = liveness_for([row["id"] for row in rows])
        return self.get_paginated_response([referral_s.referral_row_json(row, orders.get(row["id"]), checked[row["id"]])
                                            for row in rows])


class ReferralDetail(generics.RetrieveAPIView):
    serializer_class = referral_s.ReferralOut
    permission_classes = [CanReadReferrals]

    def get_queryset(self):
        return referral_selectors.referrals_for(self.request.user)

    def retrieve(self, request, pk: int, *args, **kwargs):
        row = self.get_queryset().filter(pk=pk).values(*referral_s.REFERRAL_FIELDS).first()
        if row is None:
            raise Http404
        return Response(referral_s.referral_row_json(row, referral_selectors.orders_for([row]).get(row["id"])))


class ReferralOrderDocument(APIView):
    """A removal order as the Annex I PDF, in the platform's language (English or French): its liaison and the
    unit's staff; another platform's, or a voluntary referral, is 404."""

    permission_classes = [CanReadReferrals]

    @extend_schema(responses={(200, "application/pdf"): bytes}, operation_id="v1_referrals_order_pdf")
    def get(self, request, pk: int):
        referral = (referral_selectors.referrals_for(request.user)
                    .select_related("order__signatory", "platform__legal").filter(pk=pk).first())
        order = getattr(referral, "order", None) if referral is not None else None
        if order is None:
            raise NotFound("Not found.")
        language = request.query_params.get("language") or order_document.language_for(referral.platform)
        pdf = order_document.render_pdf(order, language if language in order_document.LANGUAGES else "en")
        return HttpResponse(pdf, content_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="{order.reference}.pdf"'})


class TcoReport(APIView):
    """The authority's TCO Art 8 transparency report on the removal orders issued from `from` to `to` (dates,
    inclusive): counts issued, executed (within the hour), declined, not executed and why, and receipt-to-action
    times. Unit staff only."""

    permission_classes = [IsUnitStaff]

    @extend_schema(responses=dict, operation_id="v1_reports_tco", parameters=[
        OpenApiParameter("from", OpenApiTypes.DATE, required=True, description="The period's first day."),
        OpenApiParameter("to", OpenApiTypes.DATE, required=True, description="The period's last day.")])
    def get(self, request):
        period = tco_report.parse_period(request.query_params.get("from"), request.query_params.get("to"))
        return Response(tco_report.tco_report(request.user, period))


class OrderScrutiny(APIView):
    """Record the host Member State authority's scrutiny decision on an order (TCO Art 4(4)): an infringement
    makes the order lapse and the platform is told."""

    permission_classes = [IsSupervisor]

    @extend_schema(request=referral_s.ScrutinyIn, responses=referral_s.ReferralOut)
    def post(self, request, pk: int):
        data = referral_s.ScrutinyIn(data=request.data)
        data.is_valid(raise_exception=True)
        referral = withdrawal.order_scrutiny_record(actor=request.user, referral_id=pk, **data.validated_data)
        return Response(referral_s.referral_json(referral, directory.slug_of(referral.platform_id)))


def _liaison_body(serializer_class, request, pk: int) -> dict:
    """A liaison's body about referral `pk`, validated. Scope first: another platform's referral is a 404 whatever
    the body says (a 400 would tell it exists)."""
    data = serializer_class(data=request.data)
    if not data.is_valid():
        if not referral_selectors.referrals_for(request.user).filter(pk=pk).exists():
            raise NotFound("Not found.")
        raise ValidationError(data.errors)
    return data.validated_data


class OrderReport(APIView):
    """The platform reports on a removal order: a scrutiny request, preservation, informing the content provider,
    a complaint and its outcome, a reinstatement (TCO Art 4(3), 6, 11, 10). Its own platform's orders only."""

    permission_classes = [IsLiaison]

    @extend_schema(request=referral_s.OrderReportIn, responses=referral_s.ReferralOut)
    def post(self, request, pk: int):
        data = _liaison_body(referral_s.OrderReportIn, request, pk)
        order_reports.order_report_record(actor=request.user, referral_id=pk, **data)
        referral = Referral.objects.select_related("item").get(pk=pk)
        return Response(referral_s.referral_json(referral, directory.slug_of(referral.platform_id)))


class ReferralStatusUpdate(APIView):
    permission_classes = [IsLiaison]

    @extend_schema(request=referral_s.ReferralStatusIn, responses=referral_s.ReferralOut)
    def post(self, request, pk: int):
        data = _liaison_body(referral_s.ReferralStatusIn, request, pk)
        # The service scopes too (another platform's referral: NotFound) and hands back the row with its item.
        referral = outcomes.referral_record_status(actor=request.user, referral_id=pk, **data)
        return Response(referral_s.referral_json(referral, directory.slug_of(referral.platform_id)))


class ReferralBulkStatus(APIView):
    """A liaison's outcomes for up to 1,000 referrals at once: `[{"id", "status", "platform_reference", "note",
    "action_taken_at"}]` (or `{"referrals": [...]}`), answered per row in order. Another platform's referral is a
    404 row with a missing one's body; the same rows sent twice change nothing the second time."""

    permission_classes = [IsLiaison]
    throttle_scope = "bulk"  # counted apart from the other calls, at API_THROTTLE_BULK_RATE (core/throttling.py)

    @extend_schema(request=referral_s.ReferralStatusRowIn(many=True), responses=referral_s.BulkStatusOut,
                   operation_id="v1_referrals_bulk_status")
    def post(self, request):
        rows = request.data.get("referrals") if isinstance(request.data, dict) else request.data
        if not isinstance(rows, list) or not rows:
            raise ValidationError({"referrals": ["Send a list of rows: [{\"id\", \"status\", …}]."]})
        if len(rows) > referral_s.MAX_STATUS_ROWS:
            raise ValidationError({"referrals": [f"At most {referral_s.MAX_STATUS_ROWS} rows a call."]})
        checked, answers = [], {}
        together = referral_s.ReferralStatusRowIn(data=rows, many=True)  # the fields built once for every row
        if all(isinstance(row, dict) for row in rows) and together.is_valid():
            checked = [dict(row) for row in together.validated_data]
        else:  # a row is wrong: each row alone, for its own errors
            for n, row in enumerate(rows):
                data = referral_s.ReferralStatusRowIn(data=row if isinstance(row, dict) else {})
                if data.is_valid():
                    checked.append(dict(data.validated_data))
                else:
                    answers[n] = {"id": row.get("id") if isinstance(row, dict) else None, "status_code": 400,
                                  "detail": "Invalid input.", "errors": data.errors}
        recorded = outcomes.referrals_record_status_many(actor=request.user, rows=checked) if checked else []
        done = iter(recorded)
        orders = referral_selectors.orders_for([{"id": r["referral"].pk, "instrument": r["referral"].instrument}
                                                for r in recorded if "referral" in r])
        slug = directory.slug_of(request.user.platform_id)
        checked = liveness_for([r["referral"].pk for r in recorded if "referral" in r])
        results = []
        for n in range(len(rows)):
            answer = answers.get(n) or next(done)
            if "referral" in answer:
                referral = answer["referral"]
                answer = {**answer, "referral": referral_s.referral_json(referral, slug, orders.get(referral.pk),
                                                                         checked[referral.pk])}
            results.append(answer)
        return Response({"results": results})


class ReferralWithdraw(APIView):
    permission_classes = [IsSupervisor]

    @extend_schema(request=referral_s.WithdrawIn, responses=referral_s.ReferralOut)
    def post(self, request, pk: int):
        data = referral_s.WithdrawIn(data=request.data)
        data.is_valid(raise_exception=True)
        referral = withdrawal.referral_withdraw(actor=request.user, referral_id=pk, **data.validated_data)
        return Response(referral_s.referral_json(referral, directory.slug_of(referral.platform_id)))


class ReferralBulkWithdraw(APIView):
    """Withdraw many referrals with one reason; answered per referral like bulk approval."""

    permission_classes = [IsSupervisor]

    @extend_schema(request=referral_s.BulkWithdrawIn, responses=referral_s.BulkWithdrawOut,
                   operation_id="v1_referrals_bulk_withdraw")
    def post(self, request):
        data = referral_s.BulkWithdrawIn(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(withdrawal.referrals_withdraw_many(
            actor=request.user, referral_ids=data.validated_data["referrals"], reason=data.validated_data["reason"]))


class ReferralClarify(APIView):
    permission_classes = [IsAnalystOrSupervisor]

    @extend_schema(request=referral_s.ClarifyIn, responses=referral_s.ReferralOut)
    def post(self, request, pk: int):
        data = referral_s.ClarifyIn(data=request.data)
        data.is_valid(raise_exception=True)
        referral = withdrawal.referral_clarify(actor=request.user, referral_id=pk, **data.validated_data)
        return Response(referral_s.referral_json(referral, directory.slug_of(referral.platform_id)))


class PlatformPreInform(APIView):
    """Send a platform the removal-order procedures and deadlines (TCO Art 3(2)) through the outbox."""

    permission_classes = [IsSupervisor]

    @extend_schema(request=None, responses={202: referral_s.PreInformOut}, operation_id="v1_platforms_pre_information")
    def post(self, request, pk: int):
        queued = withdrawal.platform_pre_inform(actor=request.user, platform_id=pk)
        if not queued:  # the API's one error body, like every other 409
            raise Conflict("The platform has no active contact point: nothing was sent (supervisors are alerted).")
        return Response({"deliveries": queued}, status=202)


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

    serializer_class = referral_s.DeliveryOut
    permission_classes = [IsUnitStaff]
    filterset_class = DeliveryFilter
    pagination_class = DeliveryPagination

    def get_queryset(self):
        return referral_selectors.deliveries_for(self.request.user)


class DeliveryDetail(generics.RetrieveAPIView):
    serializer_class = referral_s.DeliveryOut
    permission_classes = [IsUnitStaff]

    def get_queryset(self):
        return referral_selectors.deliveries_for(self.request.user)


class DeliveryRedrive(APIView):
    permission_classes = [IsSupervisor]

    @extend_schema(request=None, responses=referral_s.DeliveryOut)
    def post(self, request, pk):
        outbox_actions.delivery_redrive(actor=request.user, delivery_id=pk)
        return Response(referral_s.DeliveryOut(referral_selectors.deliveries_for(request.user).get(pk=pk)).data)


class DeliveryManualSubmitted(APIView):
    permission_classes = [IsAnalystOrSupervisor]

    @extend_schema(request=referral_s.ManualSubmittedIn, responses=referral_s.DeliveryOut)
    def post(self, request, pk):
        data = referral_s.ManualSubmittedIn(data=request.data)
        data.is_valid(raise_exception=True)
        outbox_actions.delivery_complete_manual(actor=request.user, delivery_id=pk,
                                                ticket=data.validated_data["ticket"])
        return Response(referral_s.DeliveryOut(referral_selectors.deliveries_for(request.user).get(pk=pk)).data)

