"""Log lines: the request id answered and logged, JSON with the user and role, secrets blanked before any handler
writes (the whole production-shaped run is grepped in tests/e2e/test_logs.py)."""

import io
import json
import logging

import pytest
from django.conf import settings

from config.log import JsonLines, LogContext, RedactSecrets
from tests.conftest import PASSWORD


@pytest.fixture
def lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    for name in settings.LOGGING["handlers"]["console"]["filters"]:  # the filters production uses, in its order
        handler.addFilter({"context": LogContext(), "redact": RedactSecrets()}[name])
    handler.setFormatter(JsonLines())
    logger = logging.getLogger("tests.logging")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


@pytest.mark.parametrize("text, secret", [
    ("Authorization: Bearer AbCdEfGh.0123456789abcdefghijklmnopqrstuv", "AbCdEfGh.0123456789abcdefghijklmnopqrstuv"),
    ("key AbCdEfGh.0123456789abcdefghijklmnopqrstuv was revoked", "0123456789abcdefghijklmnopqrstuv"),
    ("signing with whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=", "c2VjcmV0LXNlY3JldC1zZWNyZXQ="),
    ("form: username=anna&password=correct-horse-battery", "correct-horse-battery"),
    ("{'secret': 'hunter2hunter2', 'endpoint': 'https://x.example'}", "hunter2hunter2"),
    ('{"otp_token": "123456"}', "123456"),
    ("stored gAAAAABnX1c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0", "gAAAAABnX1c2VjcmV0"),
])
def test_secrets_are_blanked_in_messages(lines, text, secret):
    logger, read = lines
    logger.warning("%s", text)
    [line] = read()
    assert secret not in json.dumps(line) and "[redacted]" in line["message"]


def test_secrets_are_blanked_in_tracebacks(lines):
    logger, read = lines
    try:
        raise ValueError(f"login failed for password={PASSWORD}")
    except ValueError:
        logger.exception("failed")
    [line] = read()
    assert "ValueError" in line["exc_info"] and PASSWORD not in json.dumps(line)


def test_a_line_is_json_with_time_level_and_context(lines):
    logger, read = lines
    logger.info("plain words stay as they are: 42 items, the token expired, a password reset link sent")
    [line] = read()
    assert line["message"] == "plain words stay as they are: 42 items, the token expired, a password reset link sent"
    assert line["level"] == "INFO"
    assert {"time", "logger", "request_id", "user", "role"} <= set(line)


@pytest.mark.django_db
def test_each_answer_names_its_request_id_and_the_log_line_its_user(client, analyst, lines):
    logger, read = lines
    logging.getLogger("django.request").addHandler(logger.handlers[0])
    try:
        client.force_login(analyst)
        mine = client.get("/cases/", headers={"X-Request-ID": "proxy-given-id-0001"})
        forged = client.get("/cases/", headers={"X-Request-ID": "bad id\nwith a line break"})
        missing = client.get("/no-such-page/", headers={"X-Request-ID": "proxy-given-id-0002"})
    finally:
        logging.getLogger("django.request").removeHandler(logger.handlers[0])
    assert mine.headers["X-Request-ID"] == "proxy-given-id-0001"
    assert len(forged.headers["X-Request-ID"]) == 32 and "\n" not in forged.headers["X-Request-ID"]
    [warning] = [line for line in read() if "Not Found" in line["message"]]
    assert missing.status_code == 404
    assert (warning["request_id"], warning["user"], warning["role"]) == ("proxy-given-id-0002", analyst.username,
                                                                         "analyst")
