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
