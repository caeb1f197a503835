"""Alerts: what a supervisor must look at now."""

from django.conf import settings
from django.db import models


class Alert(models.Model):
    """Something a supervisor must look at now: a contact point disabled, a threat to life, a dead letter."""

    kind = models.CharField(max_length=32)
    message = models.TextField()
    contact_point = models.ForeignKey(
        "platforms.ContactPoint", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    # The delivery it is about, if any. A plain id, not a foreign key: alerts sit below the outbox in the layers.
    delivery_id = models.UUIDField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message[:60]}"

