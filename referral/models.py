import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Case(models.Model):
    """A line of work: an investigation, an action day, a group's output."""

    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.title


class ItemKind(models.TextChoices):
    POST = "post", "Post"
    ACCOUNT = "account", "Account"
    CHANNEL = "channel", "Channel"
    MEDIA = "media", "Media"
    WEBSITE = "website", "Website"
    FILE = "file", "File"


class Category(models.TextChoices):
    """TCO Regulation Art 2(7)."""

    INCITEMENT = "incitement", "Incitement"
    SOLICITATION = "solicitation", "Solicitation"
    PARTICIPATION = "participation", "Participation in a group"
    INSTRUCTION = "instruction", "Instruction"
    THREAT = "threat", "Threat"


class ItemStatus(models.TextChoices):
    LOGGED = "logged", "Logged"
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    RETURNED = "returned", "Returned"
    REJECTED = "rejected", "Rejected"
    DISCARDED = "discarded", "Discarded"
    ON_HOLD = "on_hold", "On hold"


class Group(models.Model):
    """A terrorist or violent-extremist group or media outlet, from a managed list (e.g. Amaq News Agency)."""

    name = models.CharField(max_length=200, unique=True)
    aliases = models.TextField(blank=True, help_text="Other names and spellings, one per line.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    """A suspected terrorist account or piece of content."""

    # Item is bulk-loaded at action-day scale: every index costs each imported row, so single-column indexes
    # that the composite ones in Meta already cover are switched off (db_index=False).
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="items", db_index=False)
    url = models.CharField(max_length=2048)
    canonical_url = models.CharField(max_length=2048)
    platform = models.ForeignKey(
        "platforms.Platform", null=True, blank=True, on_delete=models.PROTECT, related_name="items", db_index=False
    )
    kind = models.CharField(max_length=16, choices=ItemKind.choices)
    categories = models.JSONField(default=list)
    language = models.CharField(max_length=16, blank=True)
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=ItemStatus.choices, default=ItemStatus.LOGGED)
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                     db_index=False)
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  db_index=False)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    decision_reason = models.TextField(blank=True)
    # Assessment: severity 0–7 and confidence 0–3 give the priority 0–10 that orders the triage queue;
    # a threat to life puts the item on top (priority 10) and alerts supervisors at once.
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.PROTECT, related_name="items",
                              db_index=False)
    severity = models.PositiveSmallIntegerField(null=True, blank=True)
    confidence = models.PositiveSmallIntegerField(null=True, blank=True)
    priority = models.PositiveSmallIntegerField(default=0)
    threat_to_life = models.BooleanField(default=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # Deconfliction hold: another investigation needs the content left up.
    hold_reason = models.TextField(blank=True)
    hold_requested_by = models.CharField(max_length=300, blank=True)
    held_from_status = models.CharField(max_length=16, blank=True)
    import_job = models.ForeignKey(
        "ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="items", db_index=False
    )
    first_seen_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["case", "-id"]),
            models.Index(fields=["status", "-id"]),
            models.Index(fields=["status", "-priority", "-id"], name="item_queue_priority_idx"),
            models.Index(fields=["platform", "status", "-id"], name="item_platform_status_idx"),
            models.Index(fields=["canonical_url"], name="item_canonical_idx"),  # dedup, within a case and across
            # The triage queue filtered by platform, or "my items", in priority order.
            models.Index(fields=["platform", "status", "-priority", "-id"], name="item_queue_platform_idx"),
            # Partial: most items have no assignee, group or original, and a bulk load then skips these.
            models.Index(fields=["assignee", "status", "-priority", "-id"], name="item_queue_assignee_idx",
                         condition=Q(assignee__isnull=False)),
            models.Index(fields=["group", "-id"], name="item_group_idx", condition=Q(group__isnull=False)),
            models.Index(fields=["duplicate_of"], name="item_duplicate_of_idx",
                         condition=Q(duplicate_of__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.url


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

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="referrals")
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


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # due at next_attempt_at; claimed when lease_until is past
    MANUAL = "manual", "Awaiting manual submission"  # a person submits it through the platform's web form
    SENT = "sent", "Sent"
    STOPPED = "stopped", "Stopped: needs a person"  # 4xx other than 408/429, or endpoint refused
    FAILED = "failed", "Failed: retries exhausted"


class Delivery(models.Model):
    """The outbox row: one message to one contact point carrying one or more referrals.

    Its id is the idempotency key (`webhook-id`) sent unchanged on every retry, with the same stored bytes.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contact_point = models.ForeignKey(
        "platforms.ContactPoint", on_delete=models.PROTECT, related_name="deliveries"
    )
    referrals = models.ManyToManyField(Referral, related_name="deliveries")
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    attempt_base = models.PositiveIntegerField(default=0)  # attempts made before the last re-drive
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    payload = models.BinaryField(null=True, blank=True)  # the exact bytes sent, rendered once
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # The platform's ticket number (manual channel) or the message id the MTA accepted (email).
    external_reference = models.CharField(max_length=300, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="delivery_due_idx", condition=Q(status="pending")
            ),
        ]

    def __str__(self) -> str:
        return str(self.id)


class DeliveryAttempt(models.Model):
    """The sending record of one attempt: what was sent where, what came back, when."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_records")
    number = models.PositiveIntegerField()
    endpoint = models.CharField(max_length=2048)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    request_sha256 = models.CharField(max_length=64)
    signature = models.TextField(blank=True)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_sha256 = models.CharField(max_length=64, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    outcome = models.CharField(max_length=16)  # sent | retry | stopped | failed

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="one_record_per_attempt")]

    def __str__(self) -> str:
        return f"{self.delivery_id} attempt {self.number}: {self.outcome}"


class AuditEvent(models.Model):
    """Append-only record of every transition and disclosure, hash-chained to the previous event."""

    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150)  # username, or "system" for workers
    verb = models.CharField(max_length=64)
    object_type = models.CharField(max_length=32)
    object_id = models.CharField(max_length=200)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.verb} {self.object_type}:{self.object_id}"


class Alert(models.Model):
    """Something a supervisor must look at now: a contact point disabled, a threat to life, a dead letter."""

    kind = models.CharField(max_length=32)
    message = models.TextField()
    contact_point = models.ForeignKey(
        "platforms.ContactPoint", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    delivery = models.ForeignKey(Delivery, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message[:60]}"


class Evidence(models.Model):
    """A file attached to an item: screenshot, image, video, PDF or saved page, with its hashes."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="evidence")
    file = models.FileField(upload_to="evidence/%Y/%m/")
    original_name = models.CharField(max_length=255)
    mime = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    md5 = models.CharField(max_length=32)
    pdq = models.CharField(max_length=64, blank=True, db_index=True)  # hex; images only
    pdq_quality = models.PositiveSmallIntegerField(null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]})"


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """A bulk intake (CSV upload or pasted URLs) into a case, processed by a worker, with its report."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="imports")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=16, default="csv")  # csv | paste | command
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.PENDING)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # first few hundred [{"line", "reason"}]
    report = models.FileField(upload_to="imports/reports/%Y/%m/", blank=True)
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.id} ({self.status})"
