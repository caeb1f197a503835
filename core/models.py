"""The core's one table: the API's Idempotency-Keys and the answers given to them (core/idempotency.py)."""

from django.db import models


class IdempotencyKey(models.Model):
    """One client's Idempotency-Key: the request it came with (as a fingerprint) and, once that request finished, the
    answer to replay. Inserted before the request runs, so a second request with the key finds it taken."""

    owner = models.CharField(max_length=80)  # "key:<API key prefix>" or "user:<id>" (a signed-in session)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 of the method, path and body
    created_at = models.DateTimeField(db_index=True)  # expiry: IDEMPOTENCY_KEY_HOURS after this
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)  # NULL while the first request runs
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"", blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_key_once_per_owner")]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"
