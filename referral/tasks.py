"""Thin Celery tasks over the services. Explicit names; IDs as arguments; safe to run twice."""

from celery import shared_task

from referral.actions import outcomes
from referral.outbox import dispatcher


@shared_task(name="referral.dispatch_due", ignore_result=True)
def dispatch_due():
    """Claim and send every due delivery (nudged after approvals; also run by the beat sweep)."""
    return dispatcher.dispatch_due()


@shared_task(name="referral.flag_overdue", ignore_result=True)
def flag_overdue():
    """Alert supervisors about referrals past their due time with no outcome (beat, every minute)."""
    return outcomes.referrals_flag_overdue()

