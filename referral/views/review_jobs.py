"""Review jobs: a decision on every proposal matching Review's filter, run by a worker, watched through a progress
bar to its report (as imports are)."""

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from cases.forms import TriageChoices
from core.access import role_required, show_domain_error
from core.errors import DomainError
from core.roles import DECIDERS
from referral.actions import review_jobs
from referral.forms import ReviewFilterForm, ReviewJobForm
from referral.models import ReviewJob, ReviewJobStatus

REPORT_SHOWN = 200  # refusals listed on the page (the job keeps up to review_jobs.REPORT_CAP)


@require_POST
@role_required(*DECIDERS)
def review_job_create(request):
    """Decide on every proposal matching the page's filter: the filter comes back as the page's query string."""
    query = QueryDict((request.POST.get("filter") or "").replace("\r", "").replace("\n", ""), mutable=True)
    query.pop("after", None)
    back = reverse("review-list") + (f"?{query.urlencode()}" if query else "")
    filter_form = ReviewFilterForm(query, choices=TriageChoices())
    form = ReviewJobForm(request.POST)
    if not filter_form.is_valid() or not form.is_valid():
        problems = " ".join(" ".join(errs) for f in (filter_form, form) for errs in f.errors.values())
        messages.error(request, f"Nothing was started. {problems}")
        return redirect(back)
    data = form.cleaned_data
    try:
        job = review_jobs.review_job_create(actor=request.user, decision=data["decision"],
                                            filters=filter_form.filters(), query=query.urlencode(),
                                            instrument=data.get("instrument") or "", reason=data.get("reason") or "")
    except DomainError as exc:
        show_domain_error(request, exc)
        return redirect(back)
    messages.success(request, f"Deciding on {job.total:,} matching proposal{'s' if job.total != 1 else ''}: "
                              "queued for a worker.")
    return redirect("review-job-detail", pk=job.pk)


def _progress_context(job: ReviewJob) -> dict:
    running = job.status in (ReviewJobStatus.PENDING, ReviewJobStatus.RUNNING)
    return {"job": job, "running": running, "report": job.report[:REPORT_SHOWN],
            "bar_max": max(job.total, job.processed, 1), "can_start": job.status == ReviewJobStatus.PENDING}


@require_safe
@role_required(*DECIDERS)
def review_job_detail(request, pk):
    job = get_object_or_404(ReviewJob.objects.select_related("created_by"), pk=pk)
    return render(request, "referral/review_job.html", _progress_context(job))


@require_safe
@role_required(*DECIDERS)
def review_job_progress(request, pk):
    """The progress partial htmx polls every second; once the job has finished it stops asking."""
    job = get_object_or_404(ReviewJob.objects.select_related("created_by"), pk=pk)
    return render(request, "referral/review_job_progress.html", _progress_context(job))


@require_POST
@role_required(*DECIDERS)
def review_job_start(request, pk):
    """Queue a job that is still pending (its first message was lost, or the broker was down)."""
    job = get_object_or_404(ReviewJob, pk=pk)
    if job.status != ReviewJobStatus.PENDING:
        messages.info(request, f"The job is {job.get_status_display().lower()}; it needs no start.")
    elif review_jobs.queue_review_job(job.pk):
        messages.success(request, "The job is queued.")
    else:
        messages.error(request, "The job could not be queued (the message broker is not answering). "
                                "Try again in a minute.")
    return redirect("review-job-detail", pk=job.pk)
