"""Admin: the managed list of groups is edited here (audited, core/audited_admin.py); cases and items are
read-only (their statuses change only through cases/actions/, from the pages and the API)."""

from django.contrib import admin

from audit.audited_admin import AuditedAdmin
from cases.models import Case, Group, Item
from core.readonly_admin import ReadOnlyAdmin


@admin.register(Group)
class GroupAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["name", "active"]
    search_fields = ["name", "aliases"]


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "status", "assignee", "created_at"]
    list_filter = ["status"]


@admin.register(Item)
class ItemAdmin(ReadOnlyAdmin):
    list_display = ["id", "url", "platform", "status", "priority", "case"]
    list_filter = ["status", "platform"]
    list_select_related = ["platform", "case"]
    show_full_result_count = False

