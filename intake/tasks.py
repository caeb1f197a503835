"""The bulk-intake task: a thin wrapper over referral.intake.run_import (safe to run twice)."""

from celery import shared_task

from intake import actions as intake_actions


@shared_task(name="referral.import_items", ignore_result=True)
def import_items(job_id: str):
    """Import a pending ImportJob's file into its case; a job that is not pending is left alone."""
    intake_actions.run_import(job_id)
