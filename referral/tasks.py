"""Thin Celery tasks over the services. Explicit names; IDs as arguments; safe to run twice."""

from celery import shared_task

from referral import exposure
from referral.actions import outcomes, review_jobs
from referral.outbox import dispatcher


@shared_task(name="referral.dispatch_due", ignore_result=True)
def dispatch_due():
    """Claim and send every due delivery (nudged after approvals; also run by the beat sweep)."""
    return dispatcher.dispatch_due()


@shared_task(name="referral.flag_overdue", ignore_result=True)
def flag_overdue():
    """Alert supervisors about referrals past their due time with no outcome (beat, every minute)."""
    return outcomes.referrals_flag_overdue()



@shared_task(name="referral.refresh_exposure", ignore_result=True)
def refresh_exposure():
    """Recount each platform's final removal orders of the last twelve months (TCO Art 5(4); beat, hourly)."""
    return exposure.refresh_exposure()


@shared_task(name="referral.run_review_job", ignore_result=True)
def run_review_job(job_id: str):
    """Run a pending ReviewJob (every proposal matching a filter); a job that is not pending is left alone."""
    review_jobs.review_job_run(job_id)
