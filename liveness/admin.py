"""Admin: each platform's liveness rules (data, audited like every admin change). Checks are evidence: read-only."""

from django import forms
from django.contrib import admin

from audit.audited_admin import AuditedAdmin
from liveness.models import LivenessCheck, LivenessRule
from liveness.verdicts import rule_problem


class LivenessRuleForm(forms.ModelForm):
    class Meta:
        model = LivenessRule
        fields = ["platform", "position", "kind", "value", "verdict", "note"]

    def clean(self):
        data = super().clean()
        if data.get("kind") and data.get("value") is not None:
            problem = rule_problem(data["kind"], data["value"])
            if problem:
                self.add_error("value", problem)
        return data


@admin.register(LivenessRule)
class LivenessRuleAdmin(AuditedAdmin, admin.ModelAdmin):
    form = LivenessRuleForm
    list_display = ["platform", "position", "kind", "value", "verdict", "note"]
    list_filter = ["platform", "kind", "verdict"]
    ordering = ["platform", "position", "id"]


@admin.register(LivenessCheck)
class LivenessCheckAdmin(admin.ModelAdmin):
    list_display = ["referral", "sequence", "due_at", "finished_at", "verdict", "status_code", "matched_rule"]
    list_filter = ["verdict"]
    raw_id_fields = ["referral"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
