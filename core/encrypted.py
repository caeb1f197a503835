"""Values kept encrypted in the database: read and written in clear by the code, stored as Fernet tokens.

The keys come from the environment (settings.FIELD_ENCRYPTION_KEYS, from FIELD_ENCRYPTION_KEY: comma-separated,
the first encrypts, every one decrypts), never from the database, so a dump alone gives no usable secret.
`python manage.py reencrypt_secrets` moves every stored value to the first key (docs/operations.md).

An EncryptedTextField cannot be looked up by value (each encryption differs); only the empty value stays as is,
so "has a secret" remains a plain test.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class UndecryptableValue(RuntimeError):
    """A stored value none of the configured keys opens (FIELD_ENCRYPTION_KEY lost or changed without the old key)."""


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must hold Fernet keys (32 url-safe base64-encoded bytes), comma-separated; "
            "make one with `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`."
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(text: str) -> str:
    return fernet().encrypt(text.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise UndecryptableValue(
            "A stored secret cannot be decrypted with the keys in FIELD_ENCRYPTION_KEY (was a key removed "
            "before `manage.py reencrypt_secrets` moved every value to the new one?)."
        ) from exc


def reencrypt(token: str) -> str:
    """The same value under the first key (MultiFernet.rotate)."""
    try:
        return fernet().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise UndecryptableValue("A stored secret cannot be decrypted with the keys in FIELD_ENCRYPTION_KEY.") from exc


class EncryptedTextField(models.TextField):
    """Text encrypted at rest. The empty string is stored empty."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else value


def encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    """Every model with encrypted fields, and their names (what reencrypt_secrets walks)."""
    from django.apps import apps

    found = []
    for model in apps.get_models():
        names = [f.attname for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            found.append((model, names))
    return found
