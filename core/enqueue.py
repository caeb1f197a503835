"""Sending Celery tasks by name, after the transaction commits.

No app imports another app's (or its own) tasks module to queue work: the action says which task, by its name,
and this sends it once the row it is about is committed. A broker that is down costs a sweep interval, never the
action (PostgreSQL is the record of what is to be done; the beat sweeps find it).

A task sent without arguments is a nudge: it does whatever is due (the dispatcher claims every due delivery), so
one nudge covers every commit before it runs. Each process sends at most one per TASK_NUDGE_WINDOW_SECONDS of a
name: the first commit after a quiet spell sends at once; a commit within the window of the last one schedules
one more nudge for the window's end (countdown) that covers it and every commit until then. Publishing cost
about 2.7 ms an approval; under load it is now paid once a window, and a commit waits at most one window.
"""

import logging
import threading
import time

from celery import current_app
from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)

_lock = threading.Lock()
_covered_until: dict[str, float] = {}  # name → monotonic time the last nudge sent runs at (not before)


def send_task(name: str, *, args=(), kwargs=None, countdown: float | None = None) -> bool:
    """Send the task now; False (and a warning) when the broker cannot be reached."""
    try:
        current_app.send_task(name, args=list(args), kwargs=kwargs or {}, retry=False, countdown=countdown)
    except Exception:  # broker down: the beat sweep finds the work; the caller's write stands
        log.warning("could not queue task %s; the sweep will pick the work up", name, exc_info=True)
        return False
    return True


def _nudge(name: str) -> None:
    window = settings.TASK_NUDGE_WINDOW_SECONDS
    now = time.monotonic()
    with _lock:
        runs_at = _covered_until.get(name)
        if runs_at is not None and now < runs_at:
            return  # a nudge already scheduled for later than this commit will see it
        if window <= 0 or runs_at is None or now >= runs_at + window:
            _covered_until[name], countdown = now, None
        else:
            _covered_until[name] = runs_at + window
            countdown = runs_at + window - now
    send_task(name, countdown=countdown)


def send_task_on_commit(name: str, *, args=(), kwargs=None) -> None:
    """Send the task after the current transaction commits (at once outside one); nothing if it rolls back.
    Without arguments it is a nudge, coalesced as the module says."""
    if not args and not kwargs:
        transaction.on_commit(lambda: _nudge(name))
    else:
        transaction.on_commit(lambda: send_task(name, args=args, kwargs=kwargs))
