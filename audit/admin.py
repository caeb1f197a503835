"""Admin: the audit trail, read-only."""

from django.contrib import admin

from audit.models import AuditEvent
from core.readonly_admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "at", "actor_label", "verb", "object_type", "object_id"]
    list_filter = ["verb", "object_type"]
    show_full_result_count = False

