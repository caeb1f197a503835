"""Thin Celery tasks over the services. Explicit names; IDs as arguments; safe to run twice."""

from celery import shared_task

from .dispatch import dispatcher


@shared_task(name="referral.dispatch_due", ignore_result=True)
def dispatch_due():
    """Claim and send every due delivery (nudged after approvals; also run by the beat sweep)."""
    return dispatcher.dispatch_due()

from .tasks_intake import import_items  # noqa: E402,F401
