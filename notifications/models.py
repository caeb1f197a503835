"""Notifications: what a person should hear about at once (the header's count, /notifications/), and the email
outbox of the urgent ones.

A notification links to what it is about by a plain (object_type, object_id): notifications sit below cases,
intake and referral in the layers, so they point up at nothing (selectors.link_for turns the pair into a path).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class NotificationKind(models.TextChoices):
    THREAT_TO_LIFE = "threat_to_life", "Threat to life"
    REMOVAL_ORDER_OVERDUE = "removal_order_overdue", "Removal order overdue"
    NEEDS_INFO = "needs_info", "Platform needs information"
    DEAD_LETTER = "dead_letter", "Dead letter"
    DECLINED = "declined", "Platform declined"
    IMPORT_DONE = "import_done", "Import finished"
    ITEM_RETURNED = "item_returned", "Item returned"
    REAPPEARED = "reappeared", "Content back online"  # the desk found it online again after offline (liveness)
    API_KEY_ISSUED = "api_key_issued", "API key issued"  # for someone by someone else: told to them and the admins


# Urgent kinds are also emailed to the people who asked for it (User.email_urgent_notifications).
URGENT_KINDS = frozenset({NotificationKind.THREAT_TO_LIFE, NotificationKind.REMOVAL_ORDER_OVERDUE,
                          NotificationKind.DEAD_LETTER, NotificationKind.API_KEY_ISSUED})


class ObjectType(models.TextChoices):
    ITEM = "item", "Item"
    REFERRAL = "referral", "Referral"
    DELIVERY = "delivery", "Delivery"
    IMPORT = "import", "Import"
    CASE = "case", "Case"
    API_KEY = "api_key", "API key"  # named by its prefix


class EmailStatus(models.TextChoices):
    NONE = "none", "Not emailed"  # not urgent, or the recipient did not ask for email
    PENDING = "pending", "Pending"  # due at email_next_attempt_at; claimed while email_lease_until is ahead
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed: attempts exhausted"


class Notification(models.Model):
    """One thing one person should hear about, with the outbox fields of its email when it is urgent."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                                  db_index=False)  # the (recipient, -id) indexes below serve it
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    message = models.TextField()
    object_type = models.CharField(max_length=16, choices=ObjectType.choices)
    object_id = models.CharField(max_length=64)  # an int or a UUID (deliveries, imports), as text
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    urgent = models.BooleanField(default=False)
    # The email outbox (notifications/outbox.py): claimed with SKIP LOCKED and a lease, like deliveries.
    email_status = models.CharField(max_length=8, choices=EmailStatus.choices, default=EmailStatus.NONE)
    email_attempts = models.PositiveIntegerField(default=0)
    email_next_attempt_at = models.DateTimeField(null=True, blank=True)
    email_lease_until = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            # The header's unread count and the list page: both start at the recipient and walk down the ids.
            models.Index(fields=["recipient", "-id"], name="notification_unread_idx",
                         condition=Q(read_at__isnull=True)),
            models.Index(fields=["recipient", "-id"], name="notification_recipient_idx"),
            models.Index(fields=["email_next_attempt_at"], name="notification_email_due_idx",
                         condition=Q(email_status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}: {self.message[:60]}"
