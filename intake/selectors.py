"""Reads of import jobs."""

from cases.models import Case
from core.errors import NotFound
from intake.models import ImportJob
from intake.parsing import ERRORS_SHOWN


def job_summary(job: ImportJob) -> dict:
    """The job as the API and the page show it (errors cut to the first ERRORS_SHOWN)."""
    return {
        "id": str(job.pk), "status": job.status, "total": job.total, "processed": job.processed,
        "accepted": job.accepted, "duplicates": job.duplicates, "rejected": job.rejected,
        "errors": list(job.errors[:ERRORS_SHOWN]), "failure": job.failure,
    }


def get_case(case_id) -> Case:
    try:
        return Case.objects.get(pk=int(case_id))
    except (Case.DoesNotExist, TypeError, ValueError) as exc:
        raise NotFound(f"Case {case_id} does not exist.") from exc

