"""Thin Celery tasks of the alerts. Explicit names; safe to run twice."""

from celery import shared_task

from alerts import actions


@shared_task(name="audit.verify", ignore_result=True)
def verify_audit():
    """Verify the audit trail and raise an alert when it does not hold (beat, nightly)."""
    return actions.audit_verify_and_alert()
