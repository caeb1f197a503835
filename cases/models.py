"""Cases and the items logged in them, with the managed list of groups."""

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
    proposed_at = models.DateTimeField(null=True, blank=True)  # the latest proposal: Review's "oldest first"
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
    # The bulk import that created it, if any. A plain id, not a foreign key: cases sit below intake in the layers.
    import_job_id = models.UUIDField(null=True, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["case", "-id"], name="item_case_id_idx"),  # a case's page of items, newest first
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
            # Review's order (threat to life, priority, oldest proposal), of the proposed items alone: small.
            models.Index(fields=["-threat_to_life", "-priority", "proposed_at", "id"], name="item_review_idx",
                         condition=Q(status="proposed")),
            # Review's counts per platform: an index-only scan of the proposals' platforms.
            models.Index(fields=["platform"], name="item_proposed_platform_idx", condition=Q(status="proposed")),
        ]

    def __str__(self) -> str:
        return self.url


class CaseCount(models.Model):
    """How many of a case's items have each status, platform and category, for the case page's summary: kept by
    triggers on the items' table (PostgreSQL, migration 0005), so every write counts, whatever wrote it (the ORM,
    COPY, a bulk UPDATE). Its rows are changed only by those triggers. Elsewhere (the SQLite of a laptop demo) it
    stays empty and the summary counts the items."""

    case = models.ForeignKey(Case, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                             related_name="+")
    dimension = models.CharField(max_length=1)  # "s": status, "p": platform (its id, "" for none), "c": category
    key = models.TextField()
    n = models.BigIntegerField()  # a shard's share: may be 0 or negative; the key's count is the sum of its shards
    # Which database session's writes (its backend pid modulo 16): concurrent writers to one case (approvals,
    # imports) add to different rows instead of queueing on one row's lock until each commits.
    shard = models.SmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "dimension", "key", "shard"], name="casecount_key")]

    def __str__(self) -> str:
        return f"case {self.case_id} {self.dimension}:{self.key} = {self.n}"
