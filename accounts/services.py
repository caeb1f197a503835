"""Writes to users and API keys."""

from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User, UserAPIKey
from accounts.signals import api_key_issued
from audit import chain as audit
from core.errors import InvalidInput
from core.roles import ADMINS, Role, require_role_or_system
from platforms.models import Platform


def user_create(*, actor, username: str, role: str, platform_slug: str | None = None,
                password: str | None = None) -> User:
    """Create a user with one role; a liaison needs a platform, other roles take none.

    Without a password the user can only use API keys (no browser login).
    """
    require_role_or_system(actor, ADMINS, "creating users")
    if role not in Role.values:
        raise InvalidInput(f"Unknown role '{role}'; use one of: {', '.join(Role.values)}.")
    if User.objects.filter(username=username).exists():
        raise InvalidInput(f"A user '{username}' already exists.")
    platform = None
    if role == Role.LIAISON:
        if not platform_slug:
            raise InvalidInput("A liaison belongs to exactly one platform: give --platform SLUG.")
        platform = Platform.objects.filter(slug=platform_slug).first()
        if platform is None:
            raise InvalidInput(f"No platform '{platform_slug}'.")
    elif platform_slug:
        raise InvalidInput("Only liaisons belong to a platform.")
    user = User(username=username, role=role, platform=platform,
                is_staff=role == Role.ADMIN, is_superuser=role == Role.ADMIN)
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise InvalidInput(" ".join(exc.messages)) from exc
        user.set_password(password)
    else:
        user.set_unusable_password()
    with transaction.atomic():
        user.save()
        audit.record(actor=actor, verb="user.created", obj=user,
                     after={"username": username, "role": role, "platform": platform_slug})
    return user


def api_key_issue(*, actor, user: User, expires_days: int | None = None, name: str = "") -> tuple[UserAPIKey, str]:
    """Issue a key for `user`; returns (record, the key in clear). Only the hash is stored."""
    require_role_or_system(actor, ADMINS, "issuing API keys")
    if expires_days is not None and expires_days <= 0:
        raise InvalidInput("--expires-days must be a positive number of days.")
    expiry = timezone.now() + timedelta(days=expires_days) if expires_days else None
    with transaction.atomic():
        record, key = UserAPIKey.objects.create_key(user=user, name=name or f"{user.username} key",
                                                    expiry_date=expiry)
        # The key's primary key embeds its hash: the audit names it by prefix only.
        audit.record_many([{"actor": actor, "verb": "api_key.issued", "object_type": "userapikey",
                            "object_id": record.prefix,
                            "after": {"user": user.username, "expires": expiry.isoformat() if expiry else None}}])
        api_key_issued.send(sender=UserAPIKey, key=record, user=user, actor=actor)
    return record, key


def api_key_revoke(*, actor, prefix: str) -> UserAPIKey:
    require_role_or_system(actor, ADMINS, "revoking API keys")
    with transaction.atomic():
        record = UserAPIKey.objects.select_for_update(no_key=True).filter(prefix=prefix).first()
        if record is None:
            raise InvalidInput(f"No API key with prefix '{prefix}'.")
        record.revoked = True
        record.save(update_fields=["revoked"])
        audit.record_many([{"actor": actor, "verb": "api_key.revoked", "object_type": "userapikey",
                            "object_id": prefix}])
    return record
