"""Celery's Django fix-up closes the database connection after every task unless CELERY_DB_REUSE_MAX is set
(celery/celery#9824): ~5x the task rate with a persistent connection. This checks a real worker keeps its own."""

import time

import pytest
import redis
from django.conf import settings
from django.db import connection

from referral.tasks import dispatch_due
from tests.processes import database_url, start_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def sessions_opened() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_worker_reuses_its_database_connection_across_tasks(processes):
    queue = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    start_worker(processes, {"DATABASE_URL": database_url(), "ALLOW_PRIVATE_ENDPOINTS": "1"})

    def drain(count):
        for _ in range(count):
            dispatch_due.apply_async()
        wait_for(lambda: queue.llen(settings.CELERY_TASK_DEFAULT_QUEUE) == 0, 30, "the worker to take the tasks")
        time.sleep(2)  # the last task finishes; statistics are flushed about once a second

    drain(3)  # the worker is up and has opened its connection
    before = sessions_opened()
    drain(60)
    opened = sessions_opened() - before
    assert opened <= 3, f"{opened} new database sessions for 60 tasks: the worker reconnects per task"
