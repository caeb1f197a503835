"""Sending Celery tasks by name, after the transaction commits.

No app imports another app's (or its own) tasks module to queue work: the action says which task, by its name,
and this sends it once the row it is about is committed. A broker that is down costs a sweep interval, never the
action (PostgreSQL is the record of what is to be done; the beat sweeps find it).
"""

import logging

from celery import current_app
from django.db import transaction

log = logging.getLogger(__name__)


def send_task(name: str, *, args=(), kwargs=None) -> bool:
    """Send the task now; False (and a warning) when the broker cannot be reached."""
    try:
        current_app.send_task(name, args=list(args), kwargs=kwargs or {}, retry=False)
    except Exception:  # broker down: the beat sweep finds the work; the caller's write stands
        log.warning("could not queue task %s; the sweep will pick the work up", name, exc_info=True)
        return False
    return True


def send_task_on_commit(name: str, *, args=(), kwargs=None) -> None:
    """Send the task after the current transaction commits (at once outside one); nothing if it rolls back."""
    transaction.on_commit(lambda: send_task(name, args=args, kwargs=kwargs))
