"""gunicorn's settings for the image (Dockerfile, docker-compose.yml): `gunicorn -c python:config.gunicorn
config.wsgi:application`. The access log is one JSON object per request, with the request id the app answers in
X-Request-ID (core/request_log.py), so the access line and the app's lines of one request join on it. The query
string is left out: the path says what was asked; a query may carry what a log should not keep."""

import json
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
accesslog = "-"
access_log_format = json.dumps({
    "time": "%(t)s", "logger": "gunicorn.access", "remote": "%(h)s", "method": "%(m)s", "path": "%(U)s",
    "status": "%(s)s", "bytes": "%(B)s", "ms": "%(M)s", "request_id": "%({x-request-id}o)s",
    "user_agent": "%(a)s"})
# gunicorn's own lines (start, workers booting, a worker's crash) as JSON too, secrets redacted like the app's.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "config.log.LogContext"}, "redact": {"()": "config.log.RedactSecrets"}},
    "formatters": {"json": {"()": "config.log.JsonLines"}, "access": {"format": "%(message)s"}},
    "handlers": {
        "error": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["context", "redact"],
                  "stream": "ext://sys.stderr"},
        "access": {"class": "logging.StreamHandler", "formatter": "access", "stream": "ext://sys.stdout"},
    },
    "root": {"handlers": ["error"], "level": "INFO"},  # replaces gunicorn's default, which names its own handler
    "loggers": {
        "gunicorn.error": {"handlers": ["error"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}
