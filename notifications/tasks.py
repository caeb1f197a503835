"""Thin Celery tasks of the notifications. Explicit names; safe to run twice."""

from celery import shared_task

from notifications import outbox


@shared_task(name="notifications.send_emails", ignore_result=True)
def send_emails():
    """Email the due urgent notifications (nudged after notify(); also run by the beat sweep)."""
    return dict(outbox.send_due_emails())
