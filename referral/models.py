"""Referrals: one item referred to one platform under one legal instrument."""

from django.conf import settings
from django.db import models


class Instrument(models.TextChoices):
    REFERRAL = "referral", "Referral (voluntary, terms of service)"
    REMOVAL_ORDER = "removal_order", "Removal order (TCO, 1 hour)"


class ReferralStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    REMOVED = "removed", "Removed"
    RESTRICTED = "restricted", "Restricted"
    DECLINED = "declined", "Declined"
    NEEDS_INFO = "needs_info", "Needs information"
    FAILED = "failed", "Failed"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Referral(models.Model):
    """One item referred to one platform under one legal instrument."""

    item = models.ForeignKey("cases.Item", on_delete=models.PROTECT, related_name="referrals")
    platform = models.ForeignKey("platforms.Platform", on_delete=models.PROTECT, related_name="referrals")
    instrument = models.CharField(max_length=16, choices=Instrument.choices)
    status = models.CharField(
        max_length=16, choices=ReferralStatus.choices, default=ReferralStatus.QUEUED, db_index=True
    )
    due_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)
    action_taken_at = models.DateTimeField(null=True, blank=True)
    platform_reference = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    overdue_alerted_at = models.DateTimeField(null=True, blank=True)  # supervisors told it passed due_at
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["platform", "-id"]), models.Index(fields=["platform", "status", "-id"])]

    def __str__(self) -> str:
        return f"Referral {self.pk} ({self.platform_id}, {self.status})"


# The outbox's models live in referral/outbox/models.py; importing them here registers them with this app.
from referral.outbox.models import Delivery, DeliveryAttempt, DeliveryStatus  # noqa: E402,F401
