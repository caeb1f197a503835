"""Admin: referrals and deliveries, read-only (they change only through referral/actions/ and
referral/outbox/actions.py)."""

from django.contrib import admin

from core.readonly_admin import ReadOnlyAdmin
from referral.models import Delivery, Referral


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ["id", "item_id", "platform", "instrument", "status", "sent_at", "outcome_at"]
    list_filter = ["status", "instrument", "platform"]
    list_select_related = ["platform"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "contact_point", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["status"]
    exclude = ["payload"]

