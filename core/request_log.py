"""Who and what a log line belongs to: a request id per web request (and per Celery task), the user and the role.

The web sets them in RequestLogMiddleware (first in MIDDLEWARE); workers in config/celery.py's task signals. The
logging filter in config/log.py reads them. Nothing here queries the database: the user is the one authentication
already loaded (session middleware or DRF's API-key authentication), or none yet.
"""

import re
import uuid
from contextvars import ContextVar

from django.core.signals import request_finished
from django.utils.functional import SimpleLazyObject, empty

# A request id a proxy sent us is kept when it looks like one (so one id follows a request through the proxy,
# gunicorn's access line and the app); anything else is replaced, never echoed into the logs.
_INCOMING_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
HEADER = "X-Request-ID"

_request = ContextVar("log_request", default=None)
_task = ContextVar("log_task", default=None)  # (task id, task name) in a worker


def new_id() -> str:
    return uuid.uuid4().hex


def current() -> dict:
    """`request_id`, `user` and `role` for the line being logged now ('' where unknown)."""
    request = _request.get()
    if request is not None:
        user = _loaded_user(request)
        return {"request_id": getattr(request, "request_id", ""),
                "user": getattr(user, "username", "") if user is not None else "",
                "role": getattr(user, "role", "") if user is not None else ""}
    task = _task.get()
    if task is not None:
        return {"request_id": task[0], "user": "", "role": "", "task": task[1]}
    return {"request_id": "", "user": "", "role": ""}


def _loaded_user(request):
    """The request's user if authentication has loaded it; None otherwise (never loads it)."""
    user = request.__dict__.get("user")  # DRF assigns the authenticated user here; Django a lazy object
    if isinstance(user, SimpleLazyObject):
        user = None if user._wrapped is empty else user._wrapped
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


class RequestLogMiddleware:
    """Gives each request its id (kept from a well-formed `X-Request-ID`, else new), answers it in the same header,
    and makes the request the log lines' context until the response is finished (Django logs 4xx/5xx answers after
    the middleware chain returns, so the context is cleared on request_finished, not here)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(HEADER, "")
        request.request_id = incoming if _INCOMING_ID.fullmatch(incoming) else new_id()
        _request.set(request)
        response = self.get_response(request)
        response[HEADER] = request.request_id
        return response


def _clear(**kwargs):
    _request.set(None)


request_finished.connect(_clear, dispatch_uid="core.request_log.clear")


def task_started(task_id: str, task_name: str) -> None:
    _task.set((task_id or new_id(), task_name))


def task_finished() -> None:
    _task.set(None)
