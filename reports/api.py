"""API v1: the unit's period report as JSON (GET /api/v1/reports/referrals/?from=&to=), unit staff only."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import IsUnitStaff
from reports.forms import PeriodForm
from reports.period import period_report


class ReferralReport(APIView):
    """Items logged and referrals made from `from` to `to` (ISO days, inclusive, UTC): per instrument, outcome,
    platform, category and group, withdrawn, and the times to acknowledgement, removal and outcome (bucketed: "at
    most" so many minutes). A bad or missing day is 400 with the field's error."""

    permission_classes = [IsUnitStaff]

    @extend_schema(
        parameters=[OpenApiParameter("from", OpenApiTypes.DATE, required=True),
                    OpenApiParameter("to", OpenApiTypes.DATE, required=True)],
        responses=OpenApiTypes.OBJECT, operation_id="v1_reports_referrals",
    )
    def get(self, request):
        form = PeriodForm(request.query_params, required=True)
        if not form.is_valid():
            raise ValidationError({field: [str(e) for e in errors] for field, errors in form.errors.items()})
        return Response(period_report(request.user, form.cleaned_data["from"], form.cleaned_data["to"]))
