"""Evidence files attached to items."""

from django.conf import settings
from django.db import models


class Evidence(models.Model):
    """A file attached to an item: screenshot, image, video, PDF or saved page, with its hashes."""

    item = models.ForeignKey("cases.Item", on_delete=models.PROTECT, related_name="evidence")
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

