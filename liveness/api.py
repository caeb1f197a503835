"""API v1: a supervisor's reminder to the platform of a referral still online (POST
/api/v1/referrals/{id}/reminder/). The service checks the role and the referral again."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import IsSupervisor
from liveness import actions


class ReminderIn(serializers.Serializer):
    message = serializers.CharField(required=False, allow_blank=True, max_length=actions.MAX_TEXT, default="")


class ReminderOut(serializers.Serializer):
    referral = serializers.IntegerField()
    reminded_at = serializers.DateTimeField()
    reminders = serializers.IntegerField()


class ReferralRemind(APIView):
    """Remind the platform of a referral flagged for follow-up (still online 24 h after receipt, 1 h for a removal
    order): a referrals.reminder delivery through the outbox. 202 when queued; 409 when not flagged, not with the
    platform, reminded within the hour, or the platform has no active contact point."""

    permission_classes = [IsSupervisor]

    @extend_schema(request=ReminderIn, responses={202: ReminderOut}, operation_id="v1_referrals_reminder")
    def post(self, request, pk: int):
        data = ReminderIn(data=request.data)
        data.is_valid(raise_exception=True)
        state = actions.referral_remind(actor=request.user, referral_id=pk, message=data.validated_data["message"])
        return Response({"referral": pk, "reminded_at": state.reminded_at, "reminders": state.reminders}, status=202)
