"""System checks of the encryption of secrets at rest (core/encrypted.py)."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from core.encrypted import fernet


@register(Tags.security)
def field_encryption_keys_valid(app_configs, **kwargs):
    try:
        fernet()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="core.E001")]
    return []


@register(Tags.security, deploy=True)
def field_encryption_key_from_env(app_configs, **kwargs):
    if settings.FIELD_ENCRYPTION_KEY_FROM_ENV:
        return []
    return [Warning("FIELD_ENCRYPTION_KEY is not set: secrets in the database are encrypted with a key derived "
                    "from SECRET_KEY, so changing SECRET_KEY would make them unreadable.",
                    hint="Set FIELD_ENCRYPTION_KEY to a Fernet key kept apart from SECRET_KEY, then run "
                         "`manage.py reencrypt_secrets` (docs/operations.md, 'Secrets at rest').", id="core.W001")]
