"""Thin Celery tasks of the audit trail. Explicit names; safe to run twice."""

from celery import shared_task

from audit import chain


@shared_task(name="audit.seal", ignore_result=True)
def seal():
    """Chain the audit events committed since the last seal (beat, every AUDIT_SEAL_SECONDS)."""
    return chain.seal()
