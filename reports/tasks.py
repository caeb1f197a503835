"""Thin Celery tasks over the services. Explicit names; safe to run twice."""

from celery import shared_task

from reports import stats


@shared_task(name="reports.refresh", ignore_result=True)
def refresh():
    """Recompute the dashboard's daily counts of the days whose referrals changed since the last run (beat, every
    minute)."""
    return stats.refresh()
