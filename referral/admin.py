"""Admin: the managed list of groups is edited here. Cases, items, referrals and deliveries are shown read-only:
their statuses change only through referral/workflow.py (the pages and the API), never by editing a row."""

from django.contrib import admin

from .models import AuditEvent, Case, Delivery, Group, Item, Referral


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "active"]
    search_fields = ["name", "aliases"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ["id", "item_id", "platform", "instrument", "status", "sent_at", "outcome_at"]
    list_filter = ["status", "instrument", "platform"]
    list_select_related = ["platform"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "contact_point", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["status"]
    exclude = ["payload"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "at", "actor_label", "verb", "object_type", "object_id"]
    list_filter = ["verb", "object_type"]
    show_full_result_count = False
