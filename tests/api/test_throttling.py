"""Rate limits of the API (core/throttling.py): per API key and per signed-in user, counted in Redis, 429 with
Retry-After in the API's error format beyond them; the liaisons' bulk status update counted apart, higher."""

import random

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.env import env_rate
from core.throttling import ClientRateThrottle


class Clock:
    """The throttle's clock, set by the test: a window of its own, far from any other test's or run's."""

    def __init__(self):
        self.now = 86400.0 * random.randint(100_000, 1_000_000)

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(ClientRateThrottle, "timer", staticmethod(clock))
    return clock


def _throttled(res, retry_after=None):
    assert res.status_code == 429, res.content
    assert res.json() == {"detail": res.json()["detail"], "errors": {}}
    assert res.json()["detail"].startswith("Request was throttled.")
    seconds = int(res["Retry-After"])
    assert seconds >= 1 and (retry_after is None or seconds == retry_after)
    return seconds


@pytest.mark.django_db
def test_an_api_key_over_its_limit_gets_429_with_retry_after(api, analyst, settings, clock):
    settings.API_THROTTLE_RATE = "3/minute"
    client = api(analyst)
    assert [client.get("/api/v1/cases/").status_code for _ in range(3)] == [200, 200, 200]
    seconds = _throttled(client.get("/api/v1/cases/"))
    assert seconds <= 60 + 60
    assert client.post("/api/v1/cases/", {"title": "over the limit"}, format="json").status_code == 429


@pytest.mark.django_db
def test_each_api_key_and_each_signed_in_user_has_its_own_limit(api, browser, analyst, analyst_2, settings, clock):
    settings.API_THROTTLE_RATE = "2/minute"
    first, second_key, other_user, session = api(analyst), api(analyst), api(analyst_2), browser(analyst)
    for _ in range(2):
        assert first.get("/api/v1/cases/").status_code == 200
    _throttled(first.get("/api/v1/cases/"))
    assert second_key.get("/api/v1/cases/").status_code == 200  # the same user's other key: its own count
    assert other_user.get("/api/v1/cases/").status_code == 200
    for _ in range(2):
        assert session.get("/api/v1/cases/").status_code == 200  # the signed-in browser: the user's own count
    _throttled(session.get("/api/v1/cases/"))
    assert session.get("/cases/").status_code == 200  # pages are not the API: not limited here


@pytest.mark.django_db
def test_retry_after_is_when_the_next_request_fits_and_refusals_do_not_count(api, analyst, settings, clock):
    """A sliding window: the previous minute's calls weigh what of them is still within the last 60 s. Ten calls at
    the start of a minute: the eleventh fits 66 s later (10 × 54/60 + 1 = 10), not at the next minute's edge."""
    settings.API_THROTTLE_RATE = "10/minute"
    client = api(analyst)
    for _ in range(10):
        assert client.get("/api/v1/cases/").status_code == 200
    for _ in range(5):  # knocking again and again changes nothing
        _throttled(client.get("/api/v1/cases/"), retry_after=66)
    start = clock.now
    clock.now = start + 60  # a fixed window would let ten more through here
    _throttled(client.get("/api/v1/cases/"), retry_after=6)
    clock.now = start + 65
    _throttled(client.get("/api/v1/cases/"), retry_after=1)
    clock.now = start + 66
    assert client.get("/api/v1/cases/").status_code == 200
    _throttled(client.get("/api/v1/cases/"))


@pytest.mark.django_db
def test_the_liaisons_bulk_status_update_is_counted_apart_with_a_higher_limit(api, liaison_a, approved_referral,
                                                                            settings, clock):
    settings.API_THROTTLE_RATE, settings.API_THROTTLE_BULK_RATE = "2/minute", "4/minute"
    client = api(liaison_a)
    for _ in range(2):
        assert client.get("/api/v1/referrals/").status_code == 200
    _throttled(client.get("/api/v1/referrals/"))
    rows = [{"id": approved_referral.pk, "status": "acknowledged"}]
    for _ in range(4):
        res = client.post("/api/v1/referrals/status/", rows, format="json")
        assert res.status_code == 200 and res.json()["results"][0]["status_code"] == 200
    _throttled(client.post("/api/v1/referrals/status/", rows, format="json"))


@pytest.mark.django_db
def test_off_lifts_the_limit(api, analyst, settings, clock):
    settings.API_THROTTLE_RATE = "off"
    client = api(analyst)
    assert {client.get("/api/v1/cases/").status_code for _ in range(30)} == {200}


@pytest.mark.django_db
def test_the_limit_costs_no_query(api, analyst, settings, clock):
    client = api(analyst)
    client.get("/api/v1/cases/")  # warms the key cache
    settings.API_THROTTLE_RATE = "off"
    with CaptureQueriesContext(connection) as unlimited:
        client.get("/api/v1/cases/")
    settings.API_THROTTLE_RATE = "1000/minute"
    with CaptureQueriesContext(connection) as limited:
        client.get("/api/v1/cases/")
    assert len(limited) == len(unlimited)


@pytest.mark.django_db
def test_without_redis_each_process_counts_in_memory(api, analyst, settings, clock):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.API_THROTTLE_RATE = "2/minute"
    client = api(analyst)
    assert [client.get("/api/v1/cases/").status_code for _ in range(3)] == [200, 200, 429]
    clock.now += 120
    assert client.get("/api/v1/cases/").status_code == 200


def test_a_rate_setting_that_is_not_a_rate_is_refused(monkeypatch):
    for good, value in [("600/minute", "600/minute"), (" 5/Second ", "5/second"), ("", "1200/minute"),
                        ("off", "off")]:
        monkeypatch.setenv("API_THROTTLE_RATE", good)
        assert env_rate("API_THROTTLE_RATE", "1200/minute") == value
    for bad in ["600", "600/min", "0/minute", "-1/hour", "ten/day", "600/minute,"]:
        monkeypatch.setenv("API_THROTTLE_RATE", bad)
        with pytest.raises(ImproperlyConfigured, match="API_THROTTLE_RATE"):
            env_rate("API_THROTTLE_RATE", "1200/minute")
