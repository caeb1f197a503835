"""Referrals (one item referred to one platform under one legal instrument) and the outbox that carries them
(Delivery: one message to one contact point; DeliveryAttempt: the record of each try)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


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
    CANNOT_EXECUTE = "cannot_execute", "Cannot execute (removal order, Annex III)"
    FAILED = "failed", "Failed"
    WITHDRAWN = "withdrawn", "Withdrawn"
    # The desk's check just before sending found the content gone: never sent (liveness/presend.py).
    ALREADY_OFFLINE = "already_offline", "Not sent: already offline"


# The one definition of "awaiting an outcome": no answer from the platform that settles the referral yet (a
# platform asking for more information has not answered it). Past its due_at such a referral is overdue: the
# Overdue badge (Referral.is_overdue) and the supervisors' alert (referrals_flag_overdue) both use it.
AWAITING_OUTCOME = (ReferralStatus.QUEUED, ReferralStatus.SENT, ReferralStatus.ACKNOWLEDGED,
                    ReferralStatus.NEEDS_INFO)


class ReferralQuerySet(models.QuerySet):
    def awaiting_outcome(self):
        return self.filter(status__in=AWAITING_OUTCOME)

    def overdue(self, now=None):
        """Awaiting an outcome and past due_at (as of `now`, default the current time)."""
        return self.awaiting_outcome().filter(due_at__lt=now or timezone.now())


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
    # The platform's decision in the DSA's statement-of-reasons vocabulary, when it gives it (referral/dsa.py).
    dsa_decision = models.CharField(max_length=64, blank=True)
    dsa_ground = models.CharField(max_length=40, blank=True)
    overdue_alerted_at = models.DateTimeField(null=True, blank=True)  # supervisors told it passed due_at
    # A removal order's referrals: one order (its Annex I, one reference) names one or more URLs of one platform.
    order = models.ForeignKey("RemovalOrder", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="referrals")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["platform", "-id"]), models.Index(fields=["platform", "status", "-id"]),
                   # The period report's DSA counts: only the answers that carry the vocabulary, read index-only.
                   models.Index(fields=["created_at", "dsa_decision", "dsa_ground"], name="referral_dsa_answer_idx",
                                condition=~models.Q(dsa_decision="") | ~models.Q(dsa_ground=""))]

    def __str__(self) -> str:
        return f"Referral {self.pk} ({self.platform_id}, {self.status})"

    @property
    def awaiting_outcome(self) -> bool:
        return self.status in AWAITING_OUTCOME

    def is_overdue_at(self, now) -> bool:
        """The row-level form of ReferralQuerySet.overdue."""
        return self.awaiting_outcome and self.due_at is not None and self.due_at < now

    @property
    def is_overdue(self) -> bool:
        return self.is_overdue_at(timezone.now())


class RemovalOrder(models.Model):
    """A removal order's Annex I content (Regulation (EU) 2021/784), stored with its referral when it is approved,
    and its clock. What does not change between orders comes from the environment (the authority) and the
    platform's legal directory (platforms.PlatformLegal); the rest from the approving supervisor.

    One order names one or more URLs of one platform: each is a Referral (`referrals`) with its own status and
    answer; the order's clock and Annex II/III fields are the order's, its `urls` in the order of its referrals."""

    platform = models.ForeignKey("platforms.Platform", on_delete=models.PROTECT, related_name="removal_orders")
    # A: the order
    reference = models.CharField(max_length=64, unique=True)  # unique per issuing authority
    issuing_member_state = models.CharField(max_length=2)
    addressee = models.CharField(max_length=200)  # the platform
    legal_representative = models.TextField(blank=True)
    contact_point = models.CharField(max_length=2048, blank=True)  # the platform's Art 15 point of contact
    host_member_state = models.CharField(max_length=2, blank=True)  # the platform's main establishment
    issued_at = models.DateTimeField()
    # B: the content and the reasons
    urls = models.JSONField(default=list)
    grounds = models.JSONField(default=list)  # Art 2(7) (a)–(e): the item's categories
    statement_of_reasons = models.TextField()
    emergency = models.BooleanField(default=False)  # Art 3(2): no 12 hours' notice before a first order
    emergency_reason = models.TextField(blank=True)
    # C: the content provider must not be told (Art 11(3)) until…
    non_disclosure = models.BooleanField(default=False)
    non_disclosure_until = models.DateField(null=True, blank=True)
    # D: a copy to the host Member State's authority (Art 4)
    copy_to_host_authority = models.BooleanField(default=False)
    copy_sent_at = models.DateTimeField(null=True, blank=True)
    # The host State's scrutiny (Art 4(3)-(4)): an infringement makes the order lapse (the platform is told).
    scrutiny_decision = models.CharField(max_length=16, blank=True)  # no_infringement | infringement
    scrutiny_decided_at = models.DateTimeField(null=True, blank=True)
    # E: the issuing authority; the approving supervisor signs
    authority_type = models.CharField(max_length=200)
    authority_name = models.CharField(max_length=200)
    authority_contact = models.CharField(max_length=254)
    signatory = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # F and G: follow-up and redress
    follow_up_contact = models.CharField(max_length=254)
    redress = models.TextField()
    # The platform's answer: Annex II (the measure's territorial scope) or Annex III (why it cannot execute, and
    # for force majeure when the grounds ceased).
    territorial_scope = models.CharField(max_length=32, blank=True)
    cannot_execute_reason = models.CharField(max_length=32, blank=True)
    grounds_ceased_at = models.DateTimeField(null=True, blank=True)
    # The clock: an Annex III answer (cannot execute) pauses it; the unit's clarification restarts it.
    paused = models.BooleanField(default=False)
    paused_reason = models.CharField(max_length=32, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    # What the platform reports afterwards (referral/actions/order_reports.py; each report also an audit event):
    scrutiny_requested_at = models.DateTimeField(null=True, blank=True)  # Art 4(3), by it or the content provider
    preserved_until = models.DateField(null=True, blank=True)  # Art 6: the content and its data kept (6 months+)
    provider_informed_at = models.DateTimeField(null=True, blank=True)  # Art 11(1)
    complaint_received_at = models.DateTimeField(null=True, blank=True)  # Art 10(1): the content provider's
    complaint_outcome = models.CharField(max_length=16, blank=True)  # Art 10(2): upheld | rejected
    complaint_decided_at = models.DateTimeField(null=True, blank=True)
    reinstated_at = models.DateTimeField(null=True, blank=True)  # Art 10(2) / 4(7): the content back online

    def __str__(self) -> str:
        return self.reference


# --- The outbox (its moves: referral/outbox/actions.py) ---------------------------------------------------

# The task that claims and sends due deliveries (referral/tasks.py); actions nudge it by name after commit.
DISPATCH_TASK = "referral.dispatch_due"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # due at next_attempt_at; claimed when lease_until is past
    MANUAL = "manual", "Awaiting manual submission"  # a person submits it through the platform's web form
    SENT = "sent", "Sent"
    STOPPED = "stopped", "Stopped: needs a person"  # 4xx other than 408/429, or endpoint refused
    FAILED = "failed", "Failed: retries exhausted"


class DeliveryEvent(models.TextChoices):
    """What a delivery tells the platform about its referrals (the webhook's `type`)."""

    CREATED = "referrals.created", "New referrals"
    WITHDRAWN = "referrals.withdrawn", "Referrals withdrawn"
    CLARIFIED = "referrals.clarified", "More information on referrals"
    REMINDER = "referrals.reminder", "Reminder: content still online"  # a supervisor's follow-up (liveness)
    ORDER_COPY = "orders.copy", "Copy of removal orders (TCO Art 4(1))"
    PRE_INFORMATION = "orders.pre_information", "Removal orders: procedures and deadlines (TCO Art 3(2))"


class Delivery(models.Model):
    """The outbox row: one message to one contact point carrying one or more referrals.

    Its id is the idempotency key (`webhook-id`) sent unchanged on every retry, with the same stored bytes. Most
    carry new referrals; a withdrawal or a clarification is its own delivery (`event`, with the unit's `message`),
    and only a delivery of new referrals moves its referrals (sent, failed).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contact_point = models.ForeignKey(
        "platforms.ContactPoint", on_delete=models.PROTECT, related_name="deliveries"
    )
    referrals = models.ManyToManyField(Referral, related_name="deliveries")
    # Defaults in the database too, so that rows written by COPY (bulk approval, loaders) need not name them.
    event = models.CharField(max_length=32, choices=DeliveryEvent.choices, default=DeliveryEvent.CREATED,
                             db_default=DeliveryEvent.CREATED)
    message = models.TextField(blank=True, default="", db_default="")  # a withdrawal's reason, a clarification
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



# --- Review jobs: one decision on every proposal matching a filter (its moves: referral/actions/review_jobs.py) ---

# The task that runs a ReviewJob (referral/tasks.py).
REVIEW_JOB_TASK = "referral.run_review_job"


class ReviewJobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ReviewJob(models.Model):
    """A supervisor's decision (approve with an instrument, return or reject with a reason) on every proposal
    matching Review's filter, run by a worker in chunks through the bulk review actions, with its report."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=16)  # approve | return | reject
    instrument = models.CharField(max_length=16, choices=Instrument.choices, blank=True)
    reason = models.TextField(blank=True)
    filters = models.JSONField(default=dict, blank=True)  # cases.selectors.review_filtered's filters
    query = models.TextField(blank=True)  # the Review page's query string that chose them (a link back)
    status = models.CharField(max_length=16, choices=ReviewJobStatus.choices, default=ReviewJobStatus.PENDING)
    total = models.PositiveIntegerField(default=0)  # matching when the job was created
    done = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)  # four-eyes: the actor's own proposals
    failed = models.PositiveIntegerField(default=0)
    cursor = models.CharField(max_length=100, blank=True)  # REVIEW_KEYSET position of the last item read
    report = models.JSONField(default=list, blank=True)  # the first REPORT_CAP [{"item","detail","status_code"}]
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Review job {self.id} ({self.decision}, {self.status})"

    @property
    def processed(self) -> int:
        return self.done + self.skipped + self.failed
