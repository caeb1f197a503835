"""Rate limits of the API, per API key and per signed-in user, counted in the shared cache (Redis).

Every API view is limited at `API_THROTTLE_RATE`; a view that sets `throttle_scope = "bulk"` (the liaisons' bulk
status update) is counted on its own at `API_THROTTLE_BULK_RATE`. A request over its limit gets 429 with
Retry-After, in the API's error format (core/api_errors.py).

The count is a sliding window estimated from two fixed windows, as the current window's count plus the previous
window's weighted by how much of it still overlaps the last `duration` seconds: no burst of twice the limit at a
window's edge, and one Redis round trip a request (INCR, EXPIRE and GET in one pipeline), no SQL. A refused request
is taken back off the count, so a client that keeps knocking still gets its share once it waits. Without Redis
(the embedded mode) the counts live in each process's memory: a limit per process.
"""

import math
import time
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

# Scope → the setting holding its rate: "N/second", "N/minute", "N/hour", "N/day", or "off" (config/env.py env_rate).
RATE_SETTINGS = {"api": "API_THROTTLE_RATE", "bulk": "API_THROTTLE_BULK_RATE"}
PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@lru_cache(maxsize=32)
def parse_rate(rate: str) -> tuple[int, int] | None:
    """'600/minute' → (600, 60); 'off' → None."""
    if rate == "off":
        return None
    number, _, period = rate.partition("/")
    return int(number), PERIODS[period]


def _count(key: str, previous_key: str, duration: int) -> tuple[int, int]:
    """Add this request to the current window's count; answer (current count, previous window's count)."""
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        # Django's cache API has no pipeline: the cache's own client, its keys made as the cache makes them.
        current, previous = cache.make_and_validate_key(key), cache.make_and_validate_key(previous_key)
        pipe = cache._cache.get_client(current, write=True).pipeline(transaction=False)
        pipe.incr(current).expire(current, 2 * duration).get(previous)
        count, _, before = pipe.execute()
        return count, int(before or 0)
    cache.add(key, 0, timeout=2 * duration)
    return cache.incr(key), cache.get(previous_key, 0)


def wait_seconds(limit: int, duration: int, elapsed: float, previous: int, current: int) -> float:
    """How long until one more request fits, `current` and `previous` being the counts without the refused one."""
    room = limit - current - 1  # this window's requests still free once the previous window weighs nothing
    if room >= 0 and previous:
        return max(0.0, duration * (1 - room / previous) - elapsed)
    # Only in the next window, where this one's count becomes the weighted previous one.
    return duration - elapsed + duration * max(0.0, 1 - (limit - 1) / max(current, 1))


class ClientRateThrottle(BaseThrottle):
    """The limit of the view's scope (`throttle_scope`, "api" unless set), for the API key or signed-in user."""

    timer = staticmethod(time.time)  # the tests set the clock

    def allow_request(self, request, view) -> bool:
        scope = getattr(view, "throttle_scope", None) or "api"
        rate = parse_rate(getattr(settings, RATE_SETTINGS[scope]))
        client = self.client_of(request)
        if rate is None or client is None:
            return True
        limit, duration = rate
        now = self.timer()
        window, elapsed = divmod(now, duration)
        key = f"throttle:{scope}:{client}:{int(window)}"
        current, previous = _count(key, f"throttle:{scope}:{client}:{int(window) - 1}", duration)
        weight = 1 - elapsed / duration
        if previous * weight + current <= limit + 1e-9:  # (float rounding at a window's exact edge)
            return True
        try:
            cache.decr(key)  # a refused request is not counted
        except ValueError:  # the window's key expired meanwhile
            pass
        self._wait = wait_seconds(limit, duration, elapsed, previous, current - 1)
        return False

    @staticmethod
    def client_of(request) -> str | None:
        """'key:<prefix>' for an API key (each key its own limit), 'user:<id>' for a session; None: not limited
        here (a request no view lets through unauthenticated, or the public schema)."""
        prefix = getattr(request.auth, "prefix", None)
        if prefix:
            return f"key:{prefix}"
        user = request.user
        return f"user:{user.pk}" if user is not None and user.is_authenticated else None

    def wait(self) -> float:
        return max(1, math.ceil(self._wait))
