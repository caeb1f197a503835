"""Thin Celery tasks of the core. Explicit names; safe to run twice."""

from celery import shared_task

from core import idempotency


@shared_task(name="core.expire_idempotency_keys", ignore_result=True)
def expire_idempotency_keys():
    """Forget the Idempotency-Keys older than IDEMPOTENCY_KEY_HOURS (beat, hourly)."""
    return idempotency.expire_keys()
