"""Whole-transaction retries on PostgreSQL's deadlock (40P01) and serialization failure (40001).

The lock order of core/locking.py keeps transactions from deadlocking each other; this is the net under it. A
workflow function (an action) wears `@retry_on_conflict`; when PostgreSQL aborts its transaction as a deadlock
victim or for a serialization failure, the function runs again from the start, after a jittered pause, up to
`attempts` times in all. Then it raises core.errors.Busy, which the API answers as 503 with a JSON body and a
Retry-After header: nothing was saved, and the request can be sent again (never a 500 with the work lost).

Only the outermost transaction is retried: called inside someone else's atomic block, the function runs once and
the error goes up to the caller (PostgreSQL has aborted the whole transaction, and the locks the caller took
before are part of the conflict). A test case's own wrapping block does not count as a caller's.

A retry repeats nothing that was kept: the failed attempt's transaction was rolled back with its audit events,
and Django drops the on_commit callbacks (task nudges) it registered. So the function must do its writes inside
its own `transaction.atomic()` and nothing with side effects before it (checks of role and input are fine).
"""

import functools
import logging
import random
import time

from django.db import DatabaseError, transaction

from core.errors import Busy

log = logging.getLogger(__name__)

CONFLICTS = {"40P01": "deadlock", "40001": "serialization failure"}


def conflict_of(exc: BaseException) -> str | None:
    """'deadlock' or 'serialization failure' when `exc` (or the driver error behind it) is one; else None."""
    seen = 0
    while exc is not None and seen < 5:
        code = getattr(exc, "pgcode", None) or getattr(exc, "sqlstate", None)
        if code in CONFLICTS:
            return CONFLICTS[code]
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def in_outer_transaction(using=None) -> bool:
    """True inside an atomic block of the caller's (a test case's own wrapping block excepted)."""
    connection = transaction.get_connection(using)
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def retry_on_conflict(func=None, *, attempts: int = 3, base_delay: float = 0.05, max_delay: float = 1.0,
                      using=None):
    """Run the decorated function again on a deadlock or serialization failure, `attempts` times in all.

    The pause before attempt n+1 is random between 0 and base_delay × 2^(n-1) (at most max_delay): the
    transactions that collided do not collide again in step. Usable bare (`@retry_on_conflict`) or with
    arguments (`@retry_on_conflict(attempts=5)`).
    """

    attempts = max(attempts, 1)

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if in_outer_transaction(using):
                return fn(*args, **kwargs)  # the outermost workflow retries, as a whole
            for attempt in range(1, attempts + 1):
                try:
                    return fn(*args, **kwargs)
                except DatabaseError as exc:
                    what = conflict_of(exc)
                    if what is None:
                        raise
                    if attempt == attempts:
                        log.warning("%s: %s on attempt %d of %d; giving up", fn.__qualname__, what, attempt,
                                    attempts)
                        raise Busy("The database is busy and could not save this change; nothing was changed. "
                                   "Try again in a moment.") from exc
                    pause = random.uniform(0, min(max_delay, base_delay * 2 ** (attempt - 1)))
                    log.info("%s: %s on attempt %d of %d; retrying in %.0f ms", fn.__qualname__, what, attempt,
                             attempts, pause * 1000)
                    time.sleep(pause)
            raise AssertionError("unreachable")  # pragma: no cover

        wrapper.retries_on_conflict = True
        return wrapper

    return decorate(func) if func is not None else decorate
