"""Politeness per host, across every worker: at most LIVENESS_HOST_CONCURRENCY checks of one host in flight, and
their starts at least LIVENESS_HOST_INTERVAL_MS apart.

Kept in Redis (REDIS_URL) by one Lua script, so that taking a slot is atomic across processes: a sorted set of
the host's slots in flight, each scored by the time it expires (a worker that dies mid-check frees its slot when
the lease runs out), and the earliest time the next start is allowed. Redis's own clock is used, so workers'
clocks do not matter. Without REDIS_URL (the embedded `make run`) the same rule is kept per process only.
"""

import threading
import time
import uuid

from django.conf import settings

from liveness.conf import knob

ACQUIRED, FULL = 0, -1

_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit, interval, lease = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= limit then
  return -1
end
local next_start = tonumber(redis.call('GET', KEYS[2]) or '0')
if now < next_start then
  return next_start - now
end
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease)
if interval > 0 then
  redis.call('SET', KEYS[2], now + interval, 'PX', interval)
end
return 0
"""


class Slot:
    def __init__(self, host: str, token: str):
        self.host, self.token = host, token


class RedisGate:
    """acquire(host) → a Slot, or the milliseconds to wait before asking again (FULL: a slot must free)."""

    def __init__(self, url: str, prefix: str, concurrency: int, interval_ms: int, lease_ms: int):
        import redis

        self.client = redis.Redis.from_url(url)
        self.script = self.client.register_script(_ACQUIRE)
        self.prefix, self.concurrency, self.interval_ms, self.lease_ms = prefix, concurrency, interval_ms, lease_ms

    def _keys(self, host: str) -> list[str]:
        return [f"{self.prefix}{host}:inflight", f"{self.prefix}{host}:next"]

    def acquire(self, host: str) -> Slot | int:
        token = uuid.uuid4().hex
        answer = int(self.script(keys=self._keys(host),
                                 args=[token, self.concurrency, self.interval_ms, self.lease_ms]))
        return Slot(host, token) if answer == ACQUIRED else answer

    def release(self, slot: Slot) -> None:
        self.client.zrem(self._keys(slot.host)[0], slot.token)


class LocalGate:
    """The same rule within one process (no Redis): for the embedded mode and its single worker."""

    _lock = threading.Lock()
    _inflight: dict[str, dict[str, float]] = {}
    _next_start: dict[str, float] = {}

    def __init__(self, concurrency: int, interval_ms: int, lease_ms: int):
        self.concurrency, self.interval_ms, self.lease_ms = concurrency, interval_ms, lease_ms

    def acquire(self, host: str) -> Slot | int:
        now = time.monotonic() * 1000
        with self._lock:
            slots = {t: exp for t, exp in self._inflight.get(host, {}).items() if exp > now}
            self._inflight[host] = slots
            if len(slots) >= self.concurrency:
                return FULL
            next_start = self._next_start.get(host, 0.0)
            if now < next_start:
                return max(1, int(next_start - now))
            token = uuid.uuid4().hex
            slots[token] = now + self.lease_ms
            self._next_start[host] = now + self.interval_ms
            return Slot(host, token)

    def release(self, slot: Slot) -> None:
        with self._lock:
            self._inflight.get(slot.host, {}).pop(slot.token, None)


def gate():
    """The gate for this run, from the settings (Redis when REDIS_URL is set)."""
    concurrency = max(knob("LIVENESS_HOST_CONCURRENCY"), 1)
    interval = max(knob("LIVENESS_HOST_INTERVAL_MS"), 0)
    # A slot outlives the longest check (every redirect hop at the full timeout), then frees itself.
    lease_ms = int((knob("LIVENESS_TIMEOUT_SECONDS") * (knob("LIVENESS_MAX_REDIRECTS") + 1) + 10) * 1000)
    if settings.REDIS_URL:
        return RedisGate(settings.REDIS_URL, knob("LIVENESS_REDIS_PREFIX"), concurrency, interval, lease_ms)
    return LocalGate(concurrency, interval, lease_ms)
