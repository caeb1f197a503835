"""Review jobs: one decision on every proposal matching Review's filter (an action day: tens of thousands).

A supervisor creates the job (role checked, audited); a worker runs it (referral/tasks.py): it reads the matching
proposals in Review's order, CHUNK ids at a time by keyset (cases.selectors.review_keys), and hands each chunk to
the bulk review action (item_approve_many, items_return_many, items_reject_many) as the job's creator. Those
actions check the creator's role again on every chunk, and four-eyes on every item: the creator's own proposals
come back refused and are counted as skipped, never approved. Progress and the report (capped) are saved after
each chunk, so the page's progress bar moves.

The ReviewJob transition table is REVIEW_JOB_ALLOWED; only this module assigns `ReviewJob.status`, each move a
conditional UPDATE on the status it leaves, so a job given to two workers runs once.
"""

import logging

from django.db import transaction
from django.utils import timezone

from audit import chain as audit
from cases import selectors as case_selectors
from core.enqueue import send_task, send_task_on_commit
from core.errors import DomainError, InvalidInput, TransitionNotAllowed
from core.roles import DECIDERS, require_role
from referral.actions import approval
from referral.models import REVIEW_JOB_TASK, Instrument, ReviewJob, ReviewJobStatus

log = logging.getLogger(__name__)

CHUNK = 1000  # proposals read and decided together: one bulk action call (one transaction) each
REPORT_CAP = 1000  # refusals kept in the job's report; the counts cover them all
DECISIONS = {
    # decision: (the bulk action's answer key, the bulk action given (actor, ids, job))
    "approve": ("approved", lambda actor, ids, job: approval.item_approve_many(
        actor=actor, item_ids=ids, instrument=job.instrument, order=_order(job))),
    "return": ("returned", lambda actor, ids, job: approval.items_return_many(
        actor=actor, item_ids=ids, reason=job.reason)),
    "reject": ("rejected", lambda actor, ids, job: approval.items_reject_many(
        actor=actor, item_ids=ids, reason=job.reason)),
}
FOUR_EYES = 403  # the status code of item_approve_many's refusal of one's own proposal


def _order(job) -> dict | None:
    """A job of removal orders carries the statement of reasons in its reason (the same for every order)."""
    return {"statement_of_reasons": job.reason} if job.instrument == Instrument.REMOVAL_ORDER else None

REVIEW_JOB_ALLOWED: dict[str, set[str]] = {
    ReviewJobStatus.PENDING: {ReviewJobStatus.RUNNING},
    ReviewJobStatus.RUNNING: {ReviewJobStatus.DONE, ReviewJobStatus.FAILED},
    ReviewJobStatus.DONE: set(),
    ReviewJobStatus.FAILED: set(),
}


def review_job_create(*, actor, decision: str, filters: dict, query: str = "", instrument: str = "",
                      reason: str = "", queue: bool = True) -> ReviewJob:
    """A supervisor decides on every proposal matching `filters` (cases.selectors.review_filtered's, as JSON).

    Checks the role (deciders), the decision, the instrument of an approval and the reason of a return or a
    rejection; counts the matching proposals (the progress bar's length); writes the pending job and its
    `review_job.created` event in one transaction, and queues the run after commit (with `queue`)."""
    require_role(actor, DECIDERS, "deciding on proposals in bulk")
    if decision not in DECISIONS:
        raise InvalidInput("Unknown decision.", field_errors={"decision": [f"'{decision}' is not a decision."]})
    reason = (reason or "").strip()
    if decision == "approve":
        instrument = instrument or Instrument.REFERRAL
        if instrument not in Instrument.values:
            raise InvalidInput("Unknown instrument.", field_errors={"instrument": [f"'{instrument}' is unknown."]})
        if instrument == Instrument.REMOVAL_ORDER:  # the statement of reasons of every order, checked now
            approval.check_order_details({"statement_of_reasons": reason})
        else:
            reason = ""
    else:
        instrument = ""
        if not reason:
            raise InvalidInput("Give a reason.", field_errors={"reason": ["Give a reason: the analysts read it."]})
    total = case_selectors.review_filtered(filters).count()
    with transaction.atomic():
        job = ReviewJob.objects.create(created_by=actor, decision=decision, instrument=instrument, reason=reason,
                                       filters=filters, query=query[:2000], total=total)
        audit.record(actor=actor, verb="review_job.created", obj=job,
                     after={"decision": decision, "instrument": instrument, "reason": reason, "filters": filters,
                            "matching": total})
        if queue:
            send_task_on_commit(REVIEW_JOB_TASK, args=[str(job.pk)])
    return job


def queue_review_job(job_id) -> bool:
    """Ask a worker to run the job (again: a pending job whose first message was lost). False: broker down."""
    return send_task(REVIEW_JOB_TASK, args=[str(job_id)])


def _move(job_id, source: str, target: str, **fields) -> bool:
    if target not in REVIEW_JOB_ALLOWED[source]:
        raise TransitionNotAllowed(f"A review job that is '{source}' cannot become '{target}'.")
    return bool(ReviewJob.objects.filter(pk=job_id, status=source).update(status=target, **fields))


def _claim(job_id) -> ReviewJob | None:
    with transaction.atomic():
        if not _move(job_id, ReviewJobStatus.PENDING, ReviewJobStatus.RUNNING, started_at=timezone.now()):
            return None
        job = ReviewJob.objects.select_related("created_by").get(pk=job_id)
        audit.record(actor=job.created_by, verb="review_job.started", obj=job, before={"status": "pending"},
                     after={"status": "running"})
    return job


def _run_chunks(job: ReviewJob) -> None:
    """Decide chunk after chunk until no matching proposal is left after the job's cursor. Raises DomainError
    when the bulk action refuses the whole chunk (the creator may no longer decide)."""
    key, decide = DECISIONS[job.decision]
    supervisor = job.created_by  # read again at the claim: a role taken away since is refused by the action
    while True:
        ids, cursor = case_selectors.review_keys(job.filters, job.cursor or None, CHUNK)
        if not ids:
            return
        result = decide(supervisor, ids, job)
        job.done += len(result[key])
        for error in result["errors"]:
            skipped = job.decision == "approve" and error["status_code"] == FOUR_EYES
            job.skipped += skipped
            job.failed += not skipped
            if len(job.report) < REPORT_CAP:
                job.report.append({**error, "outcome": "skipped" if skipped else "failed"})
        job.cursor = cursor
        ReviewJob.objects.filter(pk=job.pk).update(done=job.done, skipped=job.skipped, failed=job.failed,
                                                   cursor=cursor, report=job.report)


def review_job_run(job_id) -> ReviewJob | None:
    """Run a pending job to its end; safe to run twice (a job that is not pending is left alone).

    Every matching proposal is decided, skipped (four-eyes: the creator's own proposal, on approval) or failed
    (refused by the action, with its reason in the report). Chunks already decided stay decided if a later one
    fails; the job then says why. Returns the finished job."""
    job = _claim(job_id)
    if job is None:
        return None
    status, failure = ReviewJobStatus.DONE, ""
    try:
        _run_chunks(job)
    except DomainError as exc:
        status, failure = ReviewJobStatus.FAILED, exc.message
    except Exception as exc:  # a bug or the database gone: the job says so; decided chunks stay decided
        log.exception("review job %s failed", job.pk)
        status, failure = ReviewJobStatus.FAILED, f"The job stopped: {type(exc).__name__}: {exc}"
    with transaction.atomic():
        _move(job.pk, ReviewJobStatus.RUNNING, status, finished_at=timezone.now(), failure=failure[:2000])
        audit.record(actor=job.created_by, verb="review_job.finished", obj=job, before={"status": "running"},
                     after={"status": status, "done": job.done, "skipped": job.skipped, "failed": job.failed,
                            "failure": failure[:500]})
    job.refresh_from_db()
    return job
