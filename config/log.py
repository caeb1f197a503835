"""Logging filters and the formatter named in settings.LOGGING.

Every line carries the request id, user and role (core/request_log.py) and, with LOG_FORMAT=json (the default when
DEBUG is off), is one JSON object. Before any handler writes a line, RedactSecrets blanks what looks like a
credential: a log line is read by more people, and kept longer, than the secrets it could leak.
"""

import logging
import logging.config
import re

from pythonjsonlogger.json import JsonFormatter

from core import request_log

REDACTED = "[redacted]"


def configure(config: dict) -> None:
    """settings.LOGGING_CONFIG (and the Celery processes' logging): the dict, plus Python's warnings as log
    records, so that they too are JSON lines with their context instead of raw text on stderr."""
    logging.config.dictConfig(config)
    logging.captureWarnings(True)

_SECRETS = [
    # An Authorization header's credentials (a bare "token" is left: "token expired" is not a secret; token= is).
    (re.compile(r"(?i)\b(bearer|basic|api-key)(\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1\2" + REDACTED),
    # Our API keys (djangorestframework-api-key: 8-character prefix, a dot, 32 characters).
    (re.compile(r"\b[A-Za-z0-9]{8}\.[A-Za-z0-9]{32}\b"), REDACTED),
    # Contact points' webhook signing secrets.
    (re.compile(r"whsec_[A-Za-z0-9+/=_-]+"), "whsec_" + REDACTED),
    # Fernet tokens (encrypted values are still not for logs).
    (re.compile(r"gAAAAA[A-Za-z0-9_=-]{20,}"), REDACTED),
    # name=value and "name": "value" pairs whose name says secret.
    (re.compile(r"""(?i)\b((?:password|passwd|secret|api_key|apikey|otp_token|token|signing_key|csrfmiddlewaretoken)"""
                r"""["']?\s*[:=]\s*["']?)[^"'\s&,;}]+"""), r"\1" + REDACTED),
]


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites the message (and a traceback's text) of each record with its credentials blanked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class LogContext(logging.Filter):
    """Adds request_id, user, role (and, in a worker, task) to each record, for both formats."""

    def filter(self, record: logging.LogRecord) -> bool:
        values = request_log.current()
        for name, value in values.items():
            if not hasattr(record, name):
                setattr(record, name, value)
        # The plain format's " [request id user]", empty outside a request or task.
        record.context = f" [{values['request_id']} {values['user'] or '-'}]" if values["request_id"] else ""
        return True


class ClientErrorWithoutTraceback(logging.Filter):
    """A 4xx answer (a 404, a 403 for the wrong role) is the client's doing, not a fault: django.request keeps
    its one line and drops the traceback Django attaches to it. 5xx answers keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if 400 <= getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True


class JsonLines(JsonFormatter):
    """One JSON object per line: time, level, logger, message, request_id, user, role (+ task, exc_info).
    Fields Django attaches that are objects (the request, the server) are dropped, not dumped."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")  # ISO 8601, UTC
        super().__init__("%(levelname)s %(name)s %(message)s %(request_id)s %(user)s %(role)s", *args, **kwargs)

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        return redact(super().formatException(ei))

    def add_fields(self, log_data, record, message_dict):
        super().add_fields(log_data, record, message_dict)
        for name in ("request", "server_time", "connection", "context"):
            log_data.pop(name, None)
