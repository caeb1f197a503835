"""The logs of a whole run, production-shaped: gunicorn as the image runs it (config/gunicorn.py, DEBUG=0), a real
Celery worker and the sandbox platform. Every line the app writes is JSON with a request id (the task's id in the
worker), the user and role where there is one; and no secret of the run appears anywhere in any log: not the
passwords typed at the login form, not an API key (valid or not), not the webhook signing secret, not SECRET_KEY or
the audit signing key."""

import json
import re
import sys
import time

import httpx
import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services as account_services
from referral.models import Referral
from referral.outbox.webhook import generate_secret
from tests.conftest import PASSWORD, make_platform, make_user, totp_code
from tests.processes import answers, database_url, free_port, start_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

SECRET_KEY = "log-test-secret-key-" + "k" * 40
AUDIT_KEY = "log-test-audit-signing-key-" + "a" * 30
BOGUS_KEY = "AbCdEfGh.0123456789abcdefghijklmnopqrstuv"


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _login(base: str, username: str, password: str, codes: tuple = ()) -> httpx.Response:
    """The password step, then each second-factor code in turn (the last answer)."""
    client = httpx.Client(base_url=base, follow_redirects=False)
    form = client.get("/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    res = client.post("/login/", data={"username": username, "password": password, "csrfmiddlewaretoken": token},
                      headers={"Referer": f"{base}/login/"})
    for code in codes:
        res = client.post("/login/verify/", data={"otp_token": code, "csrfmiddlewaretoken": token},
                          headers={"Referer": f"{base}/login/verify/"})
    return res


def test_a_whole_run_logs_json_with_request_ids_and_no_secret(processes, tmp_path, analyst, supervisor, settings):
    port, sandbox_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    settings.SITE_URL = base
    secret = generate_secret()
    platform = make_platform("tube", ["tube.example"], endpoint=f"http://127.0.0.1:{sandbox_port}/hooks/tube",
                             secret=secret)
    liaison = make_user("lena_tube", "liaison", platform)
    _, liaison_key = account_services.api_key_issue(actor=None, user=liaison, name="sandbox")
    _, analyst_key = account_services.api_key_issue(actor=None, user=analyst)
    _, supervisor_key = account_services.api_key_issue(actor=None, user=supervisor)
    config = tmp_path / "sandbox.json"
    config.write_text(json.dumps({"platforms": {"tube": {"secret": secret, "api_key": liaison_key}}}))
    env = {"DATABASE_URL": database_url(), "SITE_URL": base, "ALLOW_PRIVATE_ENDPOINTS": "1", "DEBUG": "0",
           "STATIC_MANIFEST": "0", "ALLOWED_HOSTS": "127.0.0.1", "SECRET_KEY": SECRET_KEY,
           "AUDIT_SIGNING_KEY": AUDIT_KEY, "DELIVERY_SWEEP_SECONDS": "1", "LOG_FORMAT": "json",
           # The test's own key: it encrypted the webhook secret above (another SECRET_KEY derives another one).
           "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEYS)}
    processes.start("gunicorn", [sys.executable, "-m", "gunicorn", "-c", "python:config.gunicorn",
                                 "config.wsgi:application"],
                    {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"})
    processes.start("sandbox", [sys.executable, "manage.py", "sandbox_platform", "--port", str(sandbox_port),
                                "--config", str(config), "--api-url", base, "--ack-delay", "0.2",
                                "--outcome-delay", "0.2", "--decline-share", "0"], env)
    start_worker(processes, env)
    wait_for(lambda: answers(f"{base}/login/"), 30, "gunicorn to listen")
    wait_for(lambda: answers(f"http://127.0.0.1:{sandbox_port}/"), 20, "the sandbox platform to listen")

    # Passwords at the form, right and wrong; keys in headers, valid and not.
    assert _login(base, analyst.username, "wrong-" + PASSWORD).status_code == 200
    assert _login(base, analyst.username, PASSWORD).status_code == 302
    # The second factor, wrong then right: the codes and the authenticator's key are secrets too.
    wrong_code = "000000" if totp_code(supervisor) != "000000" else "111111"
    signed_in = _login(base, supervisor.username, PASSWORD, codes=(wrong_code,))
    assert signed_in.status_code == 200 and "That code is not right" in signed_in.text
    time.sleep(1.1)  # django-otp's throttle after a wrong code
    right_code = totp_code(supervisor)
    assert _login(base, supervisor.username, PASSWORD, codes=(right_code,)).status_code == 302
    assert httpx.get(f"{base}/api/v1/cases/", headers={"Authorization": f"Bearer {BOGUS_KEY}"}).status_code == 401
    as_analyst = {"Authorization": f"Bearer {analyst_key}"}
    case = httpx.post(f"{base}/api/v1/cases/", json={"title": "Logs"}, headers=as_analyst).json()
    item = httpx.post(f"{base}/api/v1/items/", headers=as_analyst, json={
        "case": case["id"], "url": "https://tube.example/watch?v=logs", "kind": "post", "categories": ["incitement"]})
    assert item.status_code == 201, item.text
    item_id = item.json()["id"]
    assert httpx.post(f"{base}/api/v1/items/{item_id}/propose/", headers=as_analyst).status_code == 200
    forbidden = httpx.post(f"{base}/api/v1/items/{item_id}/approve/", json={}, headers={
        **as_analyst, "X-Request-ID": "test-forbidden-0001"})
    assert forbidden.status_code == 403 and forbidden.headers["X-Request-ID"] == "test-forbidden-0001"
    approved = httpx.post(f"{base}/api/v1/items/{item_id}/approve/", json={},
                          headers={"Authorization": f"Bearer {supervisor_key}"})
    assert approved.status_code == 200, approved.text
    [referral_id] = approved.json()["referrals"]
    try:
        wait_for(lambda: Referral.objects.get(pk=referral_id).status == "removed", 60, "the referral to be removed")
    except AssertionError:
        raise AssertionError(processes.logs()) from None
    processes.stop()

    logs = {name: (tmp_path / f"{name}.log").read_text() for name in ("gunicorn", "worker", "sandbox")}
    everything = "\n".join(logs.values())
    for name, value in [("password", PASSWORD), ("analyst key", analyst_key), ("supervisor key", supervisor_key),
                        ("liaison key", liaison_key), ("bogus key", BOGUS_KEY), ("webhook secret", secret),
                        ("webhook secret's body", secret.removeprefix("whsec_")), ("SECRET_KEY", SECRET_KEY),
                        ("audit signing key", AUDIT_KEY),
                        ("field encryption key", settings.FIELD_ENCRYPTION_KEYS[0]),
                        ("right second-factor code", f'"{right_code}"'), ("wrong code", f"={wrong_code}"),
                        ("authenticator key", TOTPDevice.objects.get(user=supervisor).key)]:
        assert value not in everything, f"the {name} is in the logs"

    web = _json_lines(logs["gunicorn"])
    access = [line for line in web if line["logger"] == "gunicorn.access"]
    assert {line["path"] for line in access} >= {"/login/", "/api/v1/cases/", f"/api/v1/items/{item_id}/approve/"}
    assert all(re.fullmatch(r"[0-9a-f]{32}|test-forbidden-0001", line["request_id"]) for line in access), access
    # The 403's warning: its request id (as the client sent it), who asked and in which role.
    [warning] = [line for line in web if line["logger"] == "django.request" and "Forbidden" in line["message"]]
    assert (warning["request_id"], warning["user"], warning["role"]) == ("test-forbidden-0001", analyst.username,
                                                                         "analyst")
    assert any(line["logger"] == "gunicorn.error" for line in web)  # gunicorn's own lines are JSON too
    # Every line the web and the worker write through logging is JSON (the worker's start banner is not logging).
    worker = _json_lines(logs["worker"])
    assert worker and all({"time", "level", "logger", "message", "request_id"} <= set(line) for line in worker)
    assert any(line.get("task") and line["request_id"] for line in worker), logs["worker"][-3000:]
    stray = [line for line in logs["gunicorn"].splitlines() if line.strip() and not line.startswith("{")]
    assert stray == []
