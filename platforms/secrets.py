"""Webhook signing secrets of contact points: the `whsec_<base64>` form of Standard Webhooks v1, made and checked here.

The outbox signs with them (referral/outbox/webhook.py); the services and the admin check them on save.
"""

import base64
import secrets


class InvalidSecret(ValueError):
    pass


def generate_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key_bytes(secret: str) -> bytes:
    if not secret.startswith("whsec_"):
        raise InvalidSecret("A webhook secret starts with 'whsec_'.")
    try:
        key = base64.b64decode(secret[len("whsec_"):], validate=True)
    except ValueError as exc:
        raise InvalidSecret("The part after 'whsec_' must be base64.") from exc
    if len(key) < 24:
        raise InvalidSecret("A webhook secret must decode to at least 24 bytes.")
    return key


def reencrypt_all(batch_size: int = 500) -> dict[str, int]:
    """Encrypt every stored secret again with the first FIELD_ENCRYPTION_KEY (`manage.py reencrypt_secrets`).

    Rows are locked while rewritten, so a secret rotated meanwhile is not overwritten with its old value. One audit
    event per model says how many rows were rewritten (no value appears in it).
    """
    from django.db import transaction

    from audit import chain as audit
    from core.encrypted import encrypted_fields

    counts = {}
    for model, names in encrypted_fields():
        done, last_pk = 0, 0
        while True:
            with transaction.atomic():
                rows = list(model.objects.select_for_update().filter(pk__gt=last_pk).order_by("pk")
                            .values_list("pk", *names)[:batch_size])
                for pk, *values in rows:
                    model.objects.filter(pk=pk).update(**dict(zip(names, values, strict=True)))
            if not rows:
                break
            done, last_pk = done + len(rows), rows[-1][0]
        label = model._meta.label_lower
        with transaction.atomic():
            audit.record_many([{"actor": None, "verb": "secrets.reencrypted", "object_type": model._meta.model_name,
                                "object_id": "*", "after": {"rows": done, "fields": names}}])
        counts[label] = done
    return counts
