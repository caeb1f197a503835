"""Admin: platforms, their domains and contact points. A webhook secret can be set here but is never shown.

Every change is audited (core/audited_admin.py). A contact point is checked here exactly as the services check
it (platforms.services._check_contact_point): an allowed outbound endpoint, a valid `whsec_` secret for a
webhook, no secret for the other channels, the channel's format. A domain is normalised as the services do.
"""

from django import forms
from django.contrib import admin

from audit.audited_admin import AuditedAdmin, AuditedInline
from platforms.content_urls import InvalidURL, normalise_domain
from platforms.models import Channel, ContactPoint, Platform, PlatformDomain
from platforms.services import _check_contact_point


class ContactPointForm(forms.ModelForm):
    secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False),
                             help_text="whsec_… Leave empty to keep the current secret.")

    class Meta:
        model = ContactPoint
        fields = ["channel", "endpoint", "secret", "format", "language", "max_items_per_message", "rate_per_minute",
                  "timeout_seconds", "sla_hours", "active", "disabled_reason"]

    def clean_secret(self):
        value = self.cleaned_data.get("secret") or ""
        self.secret_given = bool(value)
        if not value and self.instance.pk:
            return self.instance.secret  # unchanged
        return value

    def clean(self):
        data = super().clean()
        channel, endpoint = data.get("channel"), data.get("endpoint")
        if not channel or endpoint is None:
            return data  # the field errors say why
        data["endpoint"] = endpoint.strip()
        if channel != Channel.WEBHOOK and not getattr(self, "secret_given", False):
            data["secret"] = ""  # a kept webhook secret does not follow the contact point to another channel
        errors = _check_contact_point({"channel": channel, "endpoint": data["endpoint"],
                                       "format": data.get("format"), "secret": data.get("secret") or ""})
        for field, messages in errors.items():
            self.add_error(field if field in self.fields else None, messages)
        return data


class DomainForm(forms.ModelForm):
    class Meta:
        model = PlatformDomain
        fields = ["domain"]

    def clean_domain(self):
        try:
            return normalise_domain(self.cleaned_data["domain"])
        except InvalidURL as exc:
            raise forms.ValidationError(str(exc)) from exc


class DomainInline(AuditedInline, admin.TabularInline):
    model = PlatformDomain
    form = DomainForm
    extra = 1


class ContactPointInline(AuditedInline, admin.StackedInline):
    model = ContactPoint
    form = ContactPointForm
    extra = 0
    audit_secret_fields = ("secret", "previous_secret")
    # The dispatcher's own bookkeeping, which the form does not edit.
    audit_ignore_fields = ("consecutive_failures", "circuit_open_until", "previous_secret_until")


@admin.register(Platform)
class PlatformAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["name", "slug", "active"]
    search_fields = ["name", "slug", "domains__domain"]
    inlines = [DomainInline, ContactPointInline]
