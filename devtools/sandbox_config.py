"""The sandbox platform's configuration (one entry per demo platform) and its deterministic choices: which
referrals it declines or answers needs_info, and the references it gives."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from referral.outbox.webhook import InvalidSecret, secret_key_bytes


class SandboxConfigError(ValueError):
    pass


def declines(referral_id: int, share: float) -> bool:
    """Whether the sandbox declines this referral: a stable hash of the id against `share` (0..1).

    Deterministic across runs and processes, so tests and demos can predict the outcome.
    """
    if share <= 0:
        return False
    if share >= 1:
        return True
    digest = hashlib.sha256(f"sandbox-decline:{referral_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def asks_for_info(referral_id: int, share: float) -> bool:
    """Whether the sandbox answers this referral `needs_info` first (then its outcome after the unit's
    clarification): a stable hash of the id against `share`, independent of `declines`."""
    if share <= 0:
        return False
    if share >= 1:
        return True
    digest = hashlib.sha256(f"sandbox-needs-info:{referral_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def platform_reference(slug: str, referral_id: int) -> str:
    return f"SBX-{slug.upper()}-{referral_id}"


def load_config(path: str | Path) -> dict:
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise SandboxConfigError(f"Cannot read the sandbox config {path}: {exc.strerror}.") from exc
    except ValueError as exc:
        raise SandboxConfigError(f"The sandbox config {path} is not valid JSON: {exc}.") from exc
    return data


def validate_config(config: dict) -> dict[str, dict]:
    platforms = config.get("platforms") if isinstance(config, dict) else None
    if not isinstance(platforms, dict) or not platforms:
        raise SandboxConfigError('The config needs {"platforms": {"<slug>": {"secret": ..., "api_key": ...}}}.')
    checked = {}
    for slug, entry in platforms.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("secret"), str):
            raise SandboxConfigError(f"Platform '{slug}' needs a 'secret' (whsec_...).")
        try:
            secret_key_bytes(entry["secret"])
        except InvalidSecret as exc:  # the message never contains the secret
            raise SandboxConfigError(f"Platform '{slug}': {exc}") from exc
        api_key = entry.get("api_key") or ""
        if not isinstance(api_key, str):
            raise SandboxConfigError(f"Platform '{slug}': 'api_key' must be a string.")
        checked[str(slug)] = {"secret": entry["secret"], "api_key": api_key}
    return checked


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
