"""Writes to platforms and their contact points."""

from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit import chain as audit
from core.errors import InvalidInput, NotFound
from core.roles import ADMINS, require_role_or_system
from platforms.content_urls import InvalidURL, normalise_domain
from platforms.endpoints import EndpointNotAllowed, check_http_endpoint
from platforms.models import (
    DEFAULT_FORMAT,
    Channel,
    ContactPoint,
    Platform,
    PlatformDomain,
    PlatformKind,
    PlatformLegal,
)
from platforms.secrets import InvalidSecret, secret_key_bytes


def _check_contact_point(cp: dict) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    channel, endpoint = cp["channel"], cp["endpoint"].strip()
    if channel in (Channel.WEBHOOK, Channel.MANUAL):
        try:
            # Through DELIVERY_PROXY the proxy resolves webhook hosts, never this machine.
            check_http_endpoint(endpoint, resolve=channel == Channel.WEBHOOK and not settings.DELIVERY_PROXY)
        except EndpointNotAllowed as exc:
            errors["endpoint"] = [str(exc)]
    else:
        try:
            EmailValidator()(endpoint)
        except ValidationError:
            errors["endpoint"] = ["An email contact point needs an email address."]
    fmt = cp.get("format")
    if fmt and fmt != DEFAULT_FORMAT[channel]:
        errors["format"] = [f"A {channel} contact point takes the format '{DEFAULT_FORMAT[channel]}'."]
    if channel == Channel.WEBHOOK:
        try:
            secret_key_bytes(cp.get("secret") or "")
        except InvalidSecret as exc:
            errors["secret"] = [str(exc)]
    elif cp.get("secret"):
        errors["secret"] = ["Only webhook contact points take a secret."]
    return errors


# The Member States of the Union (ISO 3166-1 alpha-2; Greece as EL in EU usage, GR accepted too).
MEMBER_STATES = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "EL", "GR", "HU", "IE", "IT", "LV",
                 "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"}
LEGAL_FIELDS = ("main_establishment", "legal_representative", "languages", "pre_information_sent_at")


def _check_legal(legal) -> tuple[dict, dict[str, list[str]]]:
    """The platform's legal directory (TCO): its main establishment's Member State, its legal representative
    (Art 17), the languages it accepts orders in (ISO 639-1). Returns (clean values, field errors)."""
    if legal is None:
        return {}, {}
    if not isinstance(legal, dict):
        return {}, {"legal": ["An object: {main_establishment, legal_representative, languages}."]}
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(legal) - set(LEGAL_FIELDS))
    if unknown:
        errors["non_field_errors"] = [f"Unknown field(s): {', '.join(unknown)}."]
    state = (legal.get("main_establishment") or "")
    state = state.strip().upper() if isinstance(state, str) else None
    if state is None or (state and state not in MEMBER_STATES):
        errors["main_establishment"] = ["A Member State's ISO code (e.g. 'IE'), or empty when outside the Union."]
    representative = legal.get("legal_representative") or ""
    if not isinstance(representative, str) or len(representative) > 2000:
        errors["legal_representative"] = ["Text, at most 2,000 characters."]
    languages = legal.get("languages", ["en"])
    if (not isinstance(languages, list) or not languages
            or not all(isinstance(c, str) and len(c) == 2 and c.isalpha() for c in languages)):
        errors["languages"] = ["A list of two-letter language codes (ISO 639-1), e.g. [\"en\", \"fr\"]."]
        languages = []
    informed = legal.get("pre_information_sent_at")  # Art 3(2) notice given another way (a letter): its date
    if isinstance(informed, str):
        informed = parse_datetime(informed) if informed else None
        if informed is None and legal.get("pre_information_sent_at"):
            errors["pre_information_sent_at"] = ["An ISO 8601 date and time."]
    if informed is not None and (not isinstance(informed, datetime) or informed > timezone.now()):
        errors["pre_information_sent_at"] = ["A date and time, not in the future."]
        informed = None
    if isinstance(informed, datetime) and timezone.is_naive(informed):
        informed = timezone.make_aware(informed, UTC)
    clean = {"main_establishment": state or "", "legal_representative": representative if isinstance(
        representative, str) else "", "languages": [c.lower() for c in languages], "pre_information_sent_at": informed}
    return clean, {"legal": errors} if errors else {}


def _jsonable(values: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def platform_legal_set(*, actor, platform_id: int, legal: dict) -> PlatformLegal:
    """The admin keeps a platform's legal directory (what removal orders are addressed with). Audited."""
    require_role_or_system(actor, ADMINS, "keeping the platforms' legal directory")
    clean, errors = _check_legal(legal)
    if errors:
        raise InvalidInput("The legal directory was not saved.", field_errors=errors)
    with transaction.atomic():
        platform = Platform.objects.select_for_update().filter(pk=platform_id).first()
        if platform is None:
            raise NotFound("Not found.")
        record, _ = PlatformLegal.objects.get_or_create(platform=platform)
        before = {name: getattr(record, name) for name in LEGAL_FIELDS}
        if "pre_information_sent_at" not in legal:  # left out: kept (the outbox records it when it sends it)
            clean.pop("pre_information_sent_at")
        for name, value in clean.items():
            setattr(record, name, value)
        record.save()
        audit.record(actor=actor, verb="platform.legal_set", obj=platform, before=_jsonable(before),
                     after=_jsonable(clean))
    return record


def platform_create(*, actor, slug: str, name: str, domains: list[str], contact_points: list[dict],
                    legal: dict | None = None, kind: str = PlatformKind.PLATFORM) -> Platform:
    """Create a platform with its domains and contact points, all or nothing.

    Checks that the slug and every domain are free, that webhook endpoints are allowed outbound targets and
    carry a valid `whsec_` secret, and that email endpoints are addresses. Secrets are stored, never echoed.
    """
    require_role_or_system(actor, ADMINS, "creating platforms")
    errors: dict = {}
    if Platform.objects.filter(slug=slug).exists():
        errors["slug"] = [f"A platform '{slug}' already exists."]
    clean_domains, domain_errors = [], []
    for raw in domains:
        try:
            clean_domains.append(normalise_domain(raw))
        except InvalidURL as exc:
            domain_errors.append(str(exc))
    taken = list(PlatformDomain.objects.filter(domain__in=clean_domains).values_list("domain", flat=True))
    domain_errors += [f"'{d}' already belongs to another platform." for d in taken]
    if len(set(clean_domains)) != len(clean_domains):
        domain_errors.append("A domain is listed twice.")
    if domain_errors:
        errors["domains"] = domain_errors
    cp_errors = {str(i): e for i, cp in enumerate(contact_points) if (e := _check_contact_point(cp))}
    if cp_errors:
        errors["contact_points"] = cp_errors
    clean_legal, legal_errors = _check_legal(legal)
    errors.update(legal_errors)
    if kind not in PlatformKind.values:
        errors["kind"] = [f"One of: {', '.join(PlatformKind.values)}."]
    elif kind == PlatformKind.AUTHORITY and not clean_legal.get("main_establishment"):
        errors.setdefault("legal", {})["main_establishment"] = ["A competent authority needs its Member State."]
    if errors:
        raise InvalidInput("The platform was not created.", field_errors=errors)
    with transaction.atomic():
        platform = Platform.objects.create(slug=slug, name=name, kind=kind)
        PlatformDomain.objects.bulk_create([PlatformDomain(platform=platform, domain=d) for d in clean_domains])
        for cp in contact_points:
            fields = {**cp, "endpoint": cp["endpoint"].strip()}
            fields["format"] = cp.get("format") or DEFAULT_FORMAT[cp["channel"]]
            ContactPoint.objects.create(platform=platform, **fields)
        if clean_legal:
            PlatformLegal.objects.create(platform=platform, **clean_legal)
        audit.record(
            actor=actor, verb="platform.created", obj=platform,
            after={"slug": slug, "kind": kind, "domains": clean_domains, "legal": _jsonable(clean_legal),
                   "contact_points": [{"channel": cp["channel"], "endpoint": cp["endpoint"]} for cp in contact_points]},
        )
    return platform


def contact_point_rotate_secret(*, actor, contact_point_id: int, secret: str, overlap_days: int | None = None):
    """Start signing with a new secret; the old one keeps signing beside it for the overlap (default 7 days)."""
    require_role_or_system(actor, ADMINS, "rotating secrets")
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from core.errors import NotFound

    try:
        secret_key_bytes(secret)
    except InvalidSecret as exc:
        raise InvalidInput("The new secret is not valid.", field_errors={"secret": [str(exc)]}) from exc
    days = settings.WEBHOOK_SECRET_ROTATION_DAYS if overlap_days is None else overlap_days
    with transaction.atomic():
        cp = ContactPoint.objects.select_for_update(no_key=True).filter(pk=contact_point_id).first()
        if cp is None:
            raise NotFound("Not found.")
        if cp.channel != Channel.WEBHOOK:
            raise InvalidInput("Only webhook contact points have a secret.")
        if secret == cp.secret:
            raise InvalidInput("The new secret is the current one.", field_errors={"secret": ["Give a new secret."]})
        cp.previous_secret, cp.secret = cp.secret, secret
        cp.previous_secret_until = timezone.now() + timedelta(days=days)
        cp.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
        audit.record(actor=actor, verb="contact_point.secret_rotated", obj=cp,
                     after={"overlap_until": cp.previous_secret_until.isoformat()})
    return cp


def contact_point_enable(*, actor, contact_point_id: int):
    """Re-enable a contact point (after a 410 was fixed); resets its circuit breaker."""
    require_role_or_system(actor, ADMINS, "re-enabling contact points")
    from core.errors import NotFound

    with transaction.atomic():
        cp = ContactPoint.objects.select_for_update(no_key=True).filter(pk=contact_point_id).first()
        if cp is None:
            raise NotFound("Not found.")
        cp.active, cp.disabled_reason, cp.consecutive_failures, cp.circuit_open_until = True, "", 0, None
        cp.save(update_fields=["active", "disabled_reason", "consecutive_failures", "circuit_open_until"])
        audit.record(actor=actor, verb="contact_point.enabled", obj=cp)
    return cp
