"""The Celery app. Run with `celery -A config worker` and `celery -A config beat`."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def _use_django_logging(**kwargs):
    """Workers and beat log as the web does (settings.LOGGING: JSON lines, the task's id as the request id,
    secrets redacted) instead of Celery's own format; LOG_LEVEL sets the level, not `--loglevel`."""
    from django.conf import settings

    from config.log import configure

    configure(settings.LOGGING)


@signals.task_prerun.connect
def _task_log_context(task_id=None, task=None, **kwargs):
    from core import request_log

    request_log.task_started(task_id, getattr(task, "name", ""))


@signals.task_postrun.connect
def _task_log_context_end(**kwargs):
    from core import request_log

    request_log.task_finished()
