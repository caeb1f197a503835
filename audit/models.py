"""The audit trail: append-only, hash-chained events."""

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """Append-only record of every transition and disclosure. Inserted unsealed by the change's transaction;
    audit.chain.seal() then gives it its place in the chain (seq) and its hash, chained to the previous event."""

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
    # Set once by the sealer (audit.chain.seal), never by a writer: NULL until the event is chained.
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, null=True, blank=True)
    hash = models.CharField(max_length=64, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            # The sealer's work list: the few events committed since the last seal.
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="audit_event_unsealed"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.verb} {self.object_type}:{self.object_id}"



class AuditCheckpoint(models.Model):
    """A signed statement of the chain's head: "event `seq` has hash `hash`", HMAC-signed with AUDIT_SIGNING_KEY
    (kept in the environment, never in the database). Rewriting the chain from any event before it, or deleting
    the events it covers, no longer matches a checkpoint nobody without the key can forge. Each one is also
    written to the JSON log (logger `audit.checkpoint`), a record kept outside the database."""

    seq = models.BigIntegerField(unique=True)
    hash = models.CharField(max_length=64)
    at = models.DateTimeField()
    key_id = models.CharField(max_length=16)  # which key signed it (the first hex digits of its SHA-256)
    signature = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"checkpoint at event {self.seq} ({self.at:%Y-%m-%d %H:%M:%S})"
