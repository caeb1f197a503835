"""Thin Celery tasks of the audit trail. Explicit names; safe to run twice."""

from celery import shared_task

from audit import chain
from audit.checkpoints import checkpoint_write


@shared_task(name="audit.seal", ignore_result=True)
def seal():
    """Chain the audit events committed since the last seal (beat, every AUDIT_SEAL_SECONDS)."""
    return chain.seal()


@shared_task(name="audit.checkpoint", ignore_result=True)
def checkpoint():
    """Write a signed checkpoint of the chain's head (beat, every AUDIT_CHECKPOINT_SECONDS)."""
    written = checkpoint_write()
    return written.seq if written else None
