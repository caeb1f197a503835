"""Repeated wrong passwords lock the account from that address (django-axes); API keys are unaffected."""

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
