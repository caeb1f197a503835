"""Contact points' signing secrets are encrypted in the database (core/encrypted.py) with FIELD_ENCRYPTION_KEY:
a dump alone holds no usable secret, the code still signs with them, and keys can be rotated."""

import importlib

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.checks import run_checks
from django.core.management import call_command
from django.db import connection

from audit.models import AuditEvent
from core.encrypted import UndecryptableValue
from platforms import services
from platforms.models import ContactPoint
from platforms.secrets import generate_secret
from referral.outbox.claiming import signing_secrets
from tests.conftest import make_platform

KEY_1, KEY_2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def raw_columns(cp_id: int) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret, previous_secret FROM platforms_contactpoint WHERE id = %s", [cp_id])
        return cursor.fetchone()


def test_the_secret_is_stored_encrypted_and_read_in_clear(db, settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_1]
    secret = generate_secret()
    cp = make_platform("tube", ["tube.example"], secret=secret).contact_points.get()
    stored, previous = raw_columns(cp.pk)
    assert secret not in stored and secret[len("whsec_"):] not in stored and previous == ""
    assert Fernet(KEY_1).decrypt(stored.encode()).decode() == secret
    assert ContactPoint.objects.get(pk=cp.pk).secret == secret
    assert signing_secrets(ContactPoint.objects.get(pk=cp.pk)) == [secret]


def test_a_rotated_secret_keeps_both_encrypted_and_both_sign(db, settings, admin_user):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_1]
    old, new = generate_secret(), generate_secret()
    cp = make_platform("tube", ["tube.example"], secret=old).contact_points.get()
    services.contact_point_rotate_secret(actor=admin_user, contact_point_id=cp.pk, secret=new)
    stored, previous = raw_columns(cp.pk)
    for value in (old, new):
        assert value not in stored and value not in previous
    assert signing_secrets(ContactPoint.objects.get(pk=cp.pk)) == [new, old]


def test_keys_rotate_and_the_command_moves_every_secret_to_the_first_key(db, settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_1]
    secret = generate_secret()
    cp = make_platform("tube", ["tube.example"], secret=secret).contact_points.get()
    settings.FIELD_ENCRYPTION_KEYS = [KEY_2, KEY_1]  # a new key first; the old one still decrypts
    assert ContactPoint.objects.get(pk=cp.pk).secret == secret
    with pytest.raises(InvalidToken):
        Fernet(KEY_2).decrypt(raw_columns(cp.pk)[0].encode())
    call_command("reencrypt_secrets")
    assert Fernet(KEY_2).decrypt(raw_columns(cp.pk)[0].encode()).decode() == secret
    settings.FIELD_ENCRYPTION_KEYS = [KEY_2]  # the old key can go
    assert ContactPoint.objects.get(pk=cp.pk).secret == secret
    event = AuditEvent.objects.get(verb="secrets.reencrypted")
    assert event.after == {"rows": 1, "fields": ["secret", "previous_secret"]} and secret not in str(event.after)
    settings.FIELD_ENCRYPTION_KEYS = [KEY_1]  # a key that never encrypted it: a clear error, not a wrong secret
    with pytest.raises(UndecryptableValue):
        ContactPoint.objects.get(pk=cp.pk)


def test_the_migration_encrypts_plain_secrets_left_from_before(db, settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_1]
    old, current = generate_secret(), generate_secret()
    cp = make_platform("tube", ["tube.example"]).contact_points.get()
    with connection.cursor() as cursor:  # as the rows were before the migration
        cursor.execute("UPDATE platforms_contactpoint SET secret = %s, previous_secret = %s WHERE id = %s",
                       [current, old, cp.pk])
    migration = importlib.import_module("platforms.migrations.0004_encrypted_secrets")
    with connection.schema_editor() as editor:
        migration.encrypt_existing(None, editor)
    stored, previous = raw_columns(cp.pk)
    assert current not in stored and old not in previous
    assert signing_secrets(ContactPoint.objects.get(pk=cp.pk))[0] == current
    assert ContactPoint.objects.get(pk=cp.pk).previous_secret == old


def test_deploy_check_warns_without_a_key_from_the_environment(settings):
    settings.FIELD_ENCRYPTION_KEY_FROM_ENV = False
    assert "core.W001" in [m.id for m in run_checks(include_deployment_checks=True)]
    settings.FIELD_ENCRYPTION_KEY_FROM_ENV = True
    assert "core.W001" not in [m.id for m in run_checks(include_deployment_checks=True)]


def test_a_malformed_key_is_an_error_of_the_checks(settings):
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    assert "core.E001" in [m.id for m in run_checks()]
