"""Thin Celery tasks over the liveness services. Explicit names; safe to run twice and side by side.

Beat runs `liveness.schedule` (config/settings.py, "liveness-sweep"); it nudges `liveness.check_due` every time,
so a check that fell due since the last sweep (or whose worker died) is taken within one sweep interval.
"""

from celery import shared_task

from core.enqueue import send_task
from liveness import checking, presend, schedule


@shared_task(name="liveness.schedule", ignore_result=True)
def schedule_received():
    """Give referrals the platform received their liveness state and first check, then nudge the checker."""
    scheduled = schedule.schedule_received()
    presend.close_stale()
    send_task(checking.CHECK_TASK)
    return scheduled


@shared_task(name="liveness.check_due", ignore_result=True)
def check_due():
    """Check every due liveness check, within the per-host limits."""
    return checking.check_due()


@shared_task(name="liveness.presend_check", ignore_result=True)
def presend_check():
    """Check new referrals' URLs once before their messages go (nudged by approval); offline content is not sent."""
    return presend.check_before_sending()
