"""Admin: platforms, their domains and contact points. A webhook secret can be set here but is never shown."""

from django import forms
from django.contrib import admin

from platforms.models import ContactPoint, Platform, PlatformDomain


class ContactPointForm(forms.ModelForm):
    secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False),
                             help_text="whsec_… Leave empty to keep the current secret.")

    class Meta:
        model = ContactPoint
        fields = ["channel", "endpoint", "secret", "format", "language", "max_items_per_message", "rate_per_minute",
                  "timeout_seconds", "sla_hours", "active", "disabled_reason"]

    def clean_secret(self):
        value = self.cleaned_data.get("secret")
        if not value and self.instance.pk:
            return self.instance.secret  # unchanged
        if value:
            from platforms.secrets import InvalidSecret, secret_key_bytes

            try:
                secret_key_bytes(value)
            except InvalidSecret as exc:
                raise forms.ValidationError(str(exc)) from exc
        return value


class DomainInline(admin.TabularInline):
    model = PlatformDomain
    extra = 1


class ContactPointInline(admin.StackedInline):
    model = ContactPoint
    form = ContactPointForm
    extra = 0


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "active"]
    search_fields = ["name", "slug", "domains__domain"]
    inlines = [DomainInline, ContactPointInline]
