"""The liveness settings. Those a deployer sets most (LIVENESS_SCHEDULE, LIVENESS_PROXY, LIVENESS_CA_BUNDLE,
LIVENESS_HOST_CONCURRENCY, LIVENESS_HOST_INTERVAL_MS) are in config/settings.py; the tuning knobs below are read
from the environment here, with these defaults (config/settings.py stays under the layout's 400 lines). A Django
setting of the same name wins over both (tests override them so). docs/verification.md describes each."""

import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def _number(name: str, default, kind):
    """As config.env's helpers (which this layer may not import): a value that is not a number is refused."""
    value = (os.environ.get(name) or "").strip()
    try:
        return kind(value) if value else default
    except ValueError as exc:
        what = "a whole number" if kind is int else "a number"
        raise ImproperlyConfigured(f"{name}={value!r} is not {what}.") from exc


def env_int(name: str, default: int) -> int:
    return _number(name, default, int)


def env_float(name: str, default: float) -> float:
    return _number(name, default, float)


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


DEFAULTS = {
    "LIVENESS_SCHEDULE": [int(s) for s in env_list("LIVENESS_SCHEDULE", "900,3600,21600,86400,259200")],
    "LIVENESS_PROXY": env_str("LIVENESS_PROXY"),
    "LIVENESS_CA_BUNDLE": env_str("LIVENESS_CA_BUNDLE"),
    "LIVENESS_HOST_CONCURRENCY": env_int("LIVENESS_HOST_CONCURRENCY", 4),
    "LIVENESS_HOST_INTERVAL_MS": env_int("LIVENESS_HOST_INTERVAL_MS", 50),
    # Daily checks after the last LIVENESS_SCHEDULE one, for this many days (unless offline twice in a row).
    "LIVENESS_DAILY_DAYS": env_int("LIVENESS_DAILY_DAYS", 30),
    # What the checks look like from outside: a common browser's user agent, nothing naming the unit.
    "LIVENESS_USER_AGENT": env_str("LIVENESS_USER_AGENT",
                                   "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
    "LIVENESS_TIMEOUT_SECONDS": env_float("LIVENESS_TIMEOUT_SECONDS", 10.0),
    "LIVENESS_MAX_REDIRECTS": env_int("LIVENESS_MAX_REDIRECTS", 5),
    "LIVENESS_MAX_BODY_BYTES": env_int("LIVENESS_MAX_BODY_BYTES", 256 * 1024),
    "LIVENESS_REDIS_PREFIX": env_str("LIVENESS_REDIS_PREFIX", "liveness:host:"),
    "LIVENESS_CONCURRENCY": env_int("LIVENESS_CONCURRENCY", 32),  # checks in flight in one worker's run
    "LIVENESS_BATCH_SIZE": env_int("LIVENESS_BATCH_SIZE", 200),  # checks claimed (and recorded) at once
    "LIVENESS_SCHEDULE_BATCH": env_int("LIVENESS_SCHEDULE_BATCH", 2000),  # referrals scheduled per transaction
    "LIVENESS_MAX_ATTEMPTS": env_int("LIVENESS_MAX_ATTEMPTS", 3),  # claims of a check before it is closed unknown
    "LIVENESS_LEASE_SECONDS": env_int("LIVENESS_LEASE_SECONDS", 0),  # 0: 4 × the timeout + 60 s
}


def knob(name: str):
    """The value of a LIVENESS_* setting: Django's setting if defined, else the environment's, else the default."""
    return getattr(settings, name, DEFAULTS[name])
