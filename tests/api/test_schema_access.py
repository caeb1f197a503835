"""The OpenAPI schema and the Swagger UI need a signed-in user or an API key, unless API_SCHEMA_PUBLIC opens them."""

import json
import os
import subprocess
import sys

import pytest

from tests.processes import ROOT

pytestmark = pytest.mark.django_db


def test_without_a_user_or_key_the_schema_is_401_and_the_ui_sends_to_the_login_page(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 401 and schema["WWW-Authenticate"] == "Bearer"
    assert schema.json() == {"detail": "Authentication credentials were not provided.", "errors": {}}
    assert b"paths" not in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 302 and docs["Location"] == "/login/?next=/api/docs/"
    bad_key = client.get("/api/schema/", HTTP_AUTHORIZATION="Bearer nope.nope")
    assert bad_key.status_code == 401


def test_a_signed_in_user_reads_the_ui_and_the_schema(browser, liaison_a):
    client = browser(liaison_a)
    assert client.get("/api/docs/").status_code == 200
    assert "/api/v1/referrals/" in client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]


def test_an_api_key_reads_the_schema(api, liaison_a):
    res = api(liaison_a).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert res.status_code == 200 and "/api/v1/referrals/" in res.json()["paths"]


PROBE = """
import django, json
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client()
print(json.dumps([client.get("/api/schema/", HTTP_ACCEPT="application/json").status_code,
                  client.get("/api/docs/").status_code]))
"""


@pytest.mark.parametrize(("value", "expected"), [("1", [200, 200]), ("0", [401, 302])])
def test_api_schema_public_opens_both_to_anyone(value, expected):
    """Read once, when the views are built (drf-spectacular's SERVE_PERMISSIONS): a process of its own."""
    # STATIC_MANIFEST=0: the Swagger UI's page names its static files, and no collectstatic ran (as in the suite).
    env = {**os.environ, "API_SCHEMA_PUBLIC": value, "DJANGO_SETTINGS_MODULE": "config.settings",
           "LOG_LEVEL": "ERROR", "STATIC_MANIFEST": "0"}
    run = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == expected
