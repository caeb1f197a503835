from django.db import models

from core.encrypted import EncryptedTextField


class PlatformKind(models.TextChoices):
    PLATFORM = "platform", "Hosting service provider"
    # A Member State's competent authority (TCO Art 12): it receives copies of removal orders addressed to platforms
    # established there (Art 4(1)) through its contact points; its Member State is its legal directory's.
    AUTHORITY = "authority", "Competent authority"


class Platform(models.Model):
    """A hosting service the unit refers content to (or, kind authority, a competent authority it sends copies)."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=PlatformKind.choices, default=PlatformKind.PLATFORM)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PlatformDomain(models.Model):
    """A host name that resolves a URL to its platform (sub-domains included). One platform per host."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, unique=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class PlatformLegal(models.Model):
    """The platform's legal directory for removal orders (TCO Regulation): kept by the admin, never typed again."""

    platform = models.OneToOneField(Platform, on_delete=models.CASCADE, related_name="legal")
    main_establishment = models.CharField(max_length=2, blank=True)  # ISO 3166-1 alpha-2 of its Member State
    legal_representative = models.TextField(blank=True)  # Art 17: name and address, when outside the Union
    languages = models.JSONField(default=list, blank=True)  # ISO 639-1 codes it accepts orders in
    pre_information_sent_at = models.DateTimeField(null=True, blank=True)  # Art 3(2), the first order's notice
    # Art 5(4): exposed to terrorist content after two or more final removal orders in twelve months. Kept current
    # by beat's referral.refresh_exposure (referral/exposure.py), which counts the orders.
    final_orders_12_months = models.PositiveIntegerField(default=0)
    exposed_since = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Legal directory of {self.platform}"


# The message format each channel takes by default (referral/outbox/formatters.py renders them).
DEFAULT_FORMAT = {"webhook": "json-v1", "email": "email-v1", "manual": "text-v1"}


class Channel(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    EMAIL = "email", "Email"
    MANUAL = "manual", "Manual web form"


class ContactPoint(models.Model):
    """Where and how a platform receives referrals (TCO Art 15 contact point, or its referral intake)."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="contact_points")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    endpoint = models.CharField(max_length=2048)
    # The Standard Webhooks signing secret, `whsec_<base64>`. HMAC needs it in clear, so the code reads it in clear;
    # the database holds it encrypted with FIELD_ENCRYPTION_KEY (core/encrypted.py). It is never returned by the
    # API, shown in a page, or written to a log.
    secret = EncryptedTextField(blank=True)
    # Secret rotation: until previous_secret_until, messages carry a second signature made with the old secret.
    previous_secret = EncryptedTextField(blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    format = models.CharField(max_length=32, default="json-v1")
    language = models.CharField(max_length=8, default="en")
    max_items_per_message = models.PositiveIntegerField(default=100)
    rate_per_minute = models.PositiveIntegerField(null=True, blank=True)
    timeout_seconds = models.PositiveIntegerField(default=15)
    sla_hours = models.PositiveIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    disabled_reason = models.TextField(blank=True)
    # Circuit breaker: after enough consecutive failures no message is sent until circuit_open_until, then one
    # probe is let through; success closes the circuit.
    consecutive_failures = models.PositiveIntegerField(default=0)
    circuit_open_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.platform.slug} {self.channel} {self.endpoint}"
