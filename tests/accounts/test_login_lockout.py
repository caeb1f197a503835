"""Repeated wrong passwords lock the account from that address, and from every address after more failures across
addresses (django-axes, accounts/lockout.py); the lock lasts the cool-off; API keys are unaffected."""

from datetime import timedelta

from axes.models import AccessAttempt
from django.test import Client

from tests.conftest import PASSWORD, api_for


def attempt(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


def test_five_wrong_passwords_lock_the_login_even_for_the_right_one(analyst, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        res = attempt(client, analyst.username, "wrong-password")
        assert res.status_code == 200 and "Please enter a correct username and password" in res.content.decode()
    res = attempt(client, analyst.username, "wrong-password")
    assert res.status_code == 429
    res = attempt(client, analyst.username, PASSWORD)
    assert res.status_code == 429
    assert "Sign-in is locked" in res.content.decode()
    assert "_auth_user_id" not in client.session
    # Another user from the same address is not locked; the API key of the locked user still works.
    assert attempt(Client(), "someone-else", "wrong").status_code == 200
    assert api_for(analyst).get("/api/v1/cases/").status_code == 200


def test_a_successful_login_resets_the_count(analyst, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, analyst.username, "wrong-password")
    assert attempt(client, analyst.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, analyst.username, "wrong-password").status_code == 200


def test_rotating_addresses_against_one_name_is_counted(analyst, settings):
    """Each address stays under its own limit; the name's count across them reaches AXES_USERNAME_FAILURE_LIMIT."""
    limit = settings.AXES_USERNAME_FAILURE_LIMIT
    assert limit > settings.AXES_FAILURE_LIMIT
    for n in range(limit - 1):
        res = Client(REMOTE_ADDR=f"198.51.100.{n}").post("/login/", {"username": analyst.username, "password": "x"})
        assert res.status_code == 200, n
    res = Client(REMOTE_ADDR="203.0.113.7").post("/login/", {"username": analyst.username, "password": "x"})
    assert res.status_code == 429
    # Locked from everywhere, even with the right password from an address never seen.
    res = Client(REMOTE_ADDR="203.0.113.99").post("/login/", {"username": analyst.username, "password": PASSWORD})
    assert res.status_code == 429 and "_auth_user_id" not in res.client.session


def test_a_neighbour_behind_the_same_proxy_cannot_lock_the_name_from_elsewhere(supervisor, settings):
    """Someone sharing the office proxy's address locks that (name, address) pair only, for the cool-off: the
    supervisor still signs in from another address, and failures during the lock do not extend it."""
    proxy = Client(REMOTE_ADDR="192.0.2.10")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        proxy.post("/login/", {"username": supervisor.username, "password": "guess"})
    locked = proxy.post("/login/", {"username": supervisor.username, "password": PASSWORD})
    assert locked.status_code == 429
    assert "Sign-in is locked for 15 minutes" in locked.content.decode()
    elsewhere = Client(REMOTE_ADDR="192.0.2.77")
    res = elsewhere.post("/login/", {"username": supervisor.username, "password": PASSWORD})
    assert res.status_code == 302 and res["Location"].startswith("/login/verify/")
    record = AccessAttempt.objects.get(username=supervisor.username, ip_address="192.0.2.10")
    for _ in range(3):
        proxy.post("/login/", {"username": supervisor.username, "password": "guess"})
    after = AccessAttempt.objects.get(pk=record.pk)
    assert after.attempt_time == record.attempt_time  # the cool-off still counts from the 5th failure
    assert after.failures_since_start == settings.AXES_FAILURE_LIMIT


def test_the_lockout_page_says_the_time_in_words(analyst, settings):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=90)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        res = attempt(Client(), analyst.username, "wrong-password")
    assert "Sign-in is locked for 1 hour and 30 minutes after the last attempt" in res.content.decode()
    assert "PT1H30M" not in res.content.decode()
