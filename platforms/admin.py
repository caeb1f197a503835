"""Admin: platforms, their domains and contact points. A webhook secret can be set here but is never shown.

Every change is audited (core/audited_admin.py). A contact point is checked here exactly as the services check
it (platforms.services._check_contact_point): an allowed outbound endpoint, a valid `whsec_` secret for a
webhook, no secret for the other channels, the channel's format. A domain is normalised as the services do.
"""

from django import forms
from django.contrib import admin

from audit.audited_admin import AuditedAdmin, AuditedInline
from platforms.content_urls import InvalidURL, normalise_domain
from platforms.models import Channel, ContactPoint, Platform, PlatformDomain, PlatformLegal
from platforms.services import _check_contact_point, _check_legal


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


class LegalForm(forms.ModelForm):
    """Checked as the API checks it (platforms.services._check_legal)."""

    languages = forms.CharField(required=False, help_text="Two-letter codes, comma-separated (e.g. en, fr).")

    class Meta:
        model = PlatformLegal
        fields = ["main_establishment", "legal_representative", "languages", "pre_information_sent_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["languages"] = ", ".join(self.instance.languages or [])

    def clean(self):
        data = super().clean()
        languages = [c.strip() for c in (data.get("languages") or "en").split(",") if c.strip()]
        clean, errors = _check_legal({"main_establishment": data.get("main_establishment") or "",
                                      "legal_representative": data.get("legal_representative") or "",
                                      "languages": languages,
                                      "pre_information_sent_at": data.get("pre_information_sent_at")})
        for field, messages in errors.get("legal", {}).items():
            self.add_error(field if field in self.fields else None, messages)
        data.update(clean)
        return data


class LegalInline(AuditedInline, admin.StackedInline):
    model = PlatformLegal
    form = LegalForm
    extra = 0
    max_num = 1
    verbose_name = "legal directory (removal orders)"
    readonly_fields = ["final_orders_12_months", "exposed_since"]  # counted by referral/exposure.py, not typed


@admin.display(description="exposed (TCO Art 5)", boolean=True)
def exposed(platform) -> bool | None:
    legal = getattr(platform, "legal", None)
    return None if legal is None else legal.exposed_since is not None


@admin.register(Platform)
class PlatformAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["name", "slug", "active", exposed]
    list_select_related = ["legal"]
    search_fields = ["name", "slug", "domains__domain"]
    inlines = [DomainInline, ContactPointInline, LegalInline]
