"""Sessions are read from Redis (cached_db) and kept in the database: whatever ends a session still ends it at once."""

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import two_factor
from tests.conftest import signed_in


def copy_of(client: Client) -> Client:
    """Another browser presenting the same session cookie (a stolen or copied cookie)."""
    other = Client()
    other.cookies = client.cookies.__class__(client.cookies)
    return other


def test_sessions_are_read_from_the_cache(settings, analyst):
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"
    client = signed_in(analyst)
    client.get("/cases/")
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/cases/").status_code == 200
    assert not [q for q in captured.captured_queries if "django_session" in q["sql"]]


def test_signing_out_ends_every_copy_of_the_session(analyst):
    client = signed_in(analyst)
    copied = copy_of(client)
    assert copied.get("/cases/").status_code == 200
    client.post("/logout/")
    assert copied.get("/cases/").status_code == 302


def test_a_deleted_session_row_ends_the_session_at_once(analyst):
    client = signed_in(analyst)
    assert client.get("/cases/").status_code == 200
    Session.objects.filter(session_key=client.session.session_key).delete()
    assert client.get("/cases/").status_code == 302


def test_a_disabled_user_is_signed_out_at_the_next_request(analyst):
    client = signed_in(analyst)
    assert client.get("/cases/").status_code == 200
    analyst.is_active = False
    analyst.save(update_fields=["is_active"])
    assert client.get("/cases/").status_code == 302


def test_a_changed_password_ends_other_sessions(analyst):
    client = signed_in(analyst)
    assert client.get("/cases/").status_code == 200
    analyst.set_password("another-long-password")
    analyst.save(update_fields=["password"])
    assert client.get("/cases/").status_code == 302


@pytest.mark.parametrize("removed", ["reset", "deleted"])
def test_a_removed_second_factor_ends_the_verification_at_once(supervisor, admin_user, removed):
    client = signed_in(supervisor)
    assert client.get("/review/").status_code == 200
    if removed == "reset":
        two_factor.two_factor_reset(actor=admin_user, user_id=supervisor.pk)
    else:
        supervisor.totpdevice_set.all().delete()
    res = client.get("/review/")
    assert res.status_code == 302 and res["Location"].startswith("/me/two-factor/")
