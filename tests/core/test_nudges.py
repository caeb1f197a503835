"""core/enqueue.py: argument-less nudges are coalesced per process (at most one per TASK_NUDGE_WINDOW_SECONDS, the
commits in a window covered by one nudge at its end), tasks with arguments are sent one per commit. Counted on the
real broker (Redis): the messages waiting in this run's queue."""

import time

import pytest
import redis
from django.conf import settings
from django.db import transaction

from core import enqueue


def _waiting() -> int:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL).llen(settings.CELERY_TASK_DEFAULT_QUEUE)


@pytest.mark.django_db(transaction=True)
def test_nudges_in_one_window_are_one_message_and_a_later_commit_gets_its_own(settings):
    settings.TASK_NUDGE_WINDOW_SECONDS = 0.5
    name = f"test.nudge.{time.monotonic_ns()}"  # a name of its own: no earlier nudge covers it
    before = _waiting()
    for _ in range(20):
        with transaction.atomic():
            enqueue.send_task_on_commit(name)
    # The first at once, one more at the window's end for the other 19.
    assert _waiting() - before == 2
    time.sleep(1.1)  # past that window: quiet again
    with transaction.atomic():
        enqueue.send_task_on_commit(name)
    assert _waiting() - before == 3
    with transaction.atomic():
        enqueue.send_task_on_commit(name)
        transaction.set_rollback(True)  # rolled back: nothing is sent
    assert _waiting() - before == 3


@pytest.mark.django_db(transaction=True)
def test_tasks_with_arguments_are_sent_once_per_commit():
    name = f"test.import.{time.monotonic_ns()}"
    before = _waiting()
    for i in range(5):
        with transaction.atomic():
            enqueue.send_task_on_commit(name, args=[str(i)])
    assert _waiting() - before == 5
