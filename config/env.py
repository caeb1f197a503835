"""Reading settings from the environment: small helpers that refuse a value they do not understand, naming the
variable, so that a typo cannot silently mean something else."""

import os
import re

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def env_bool(name: str, default: bool = False) -> bool:
    """1/true/yes/on or 0/false/no/off (any case); unset or empty is the default; anything else is refused, so that
    a typo (DEBUG=flase) cannot silently mean the opposite of what was meant."""
    value = (os.environ.get(name) or "").strip().lower()
    if not value:
        return default
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise ImproperlyConfigured(f"{name}={os.environ[name]!r} is not a yes/no value: "
                               "use 1/0, true/false, yes/no or on/off.")


def _env_number(name: str, default, kind):
    value = (os.environ.get(name) or "").strip()
    if not value:
        return default
    try:
        return kind(value)
    except ValueError as exc:
        what = "a whole number" if kind is int else "a number"
        raise ImproperlyConfigured(f"{name}={value!r} is not {what}.") from exc


def env_int(name: str, default: int) -> int:
    return _env_number(name, default, int)


def env_float(name: str, default: float) -> float:
    return _env_number(name, default, float)


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


_RATE = re.compile(r"(?P<number>[1-9][0-9]*)/(?P<period>second|minute|hour|day)|off")


def env_rate(name: str, default: str) -> str:
    """A request rate, 'N/second', 'N/minute', 'N/hour' or 'N/day' (N ≥ 1), or 'off'; anything else is refused."""
    value = (os.environ.get(name) or "").strip().lower() or default
    if not _RATE.fullmatch(value):
        raise ImproperlyConfigured(f"{name}={value!r} is not a rate: use N/second, N/minute, N/hour, N/day or off.")
    return value
