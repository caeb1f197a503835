"""Bulk intake pages: paste or upload URLs into a case, watch the import's progress, read its report; and the
live preview of a URL in the item form (canonical form, platform, warnings, the item already logged)."""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cases import selectors as case_selectors
from core.access import LOGGERS, UNIT_STAFF, role_required, show_domain_error
from core.errors import DomainError
from intake import actions as intake_actions
from intake import parsing
from intake.forms import CsvImportForm, PasteImportForm
from intake.models import ImportJob, ImportStatus


def _job(request, pk) -> ImportJob:
    return get_object_or_404(
        ImportJob.objects.select_related("case", "created_by").filter(case__in=case_selectors.cases_for(request.user)),
        pk=pk,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(*LOGGERS)
def case_import(request, pk: int):
    """Two forms: pasted URLs (one a line, one kind) and a CSV upload. Both become an ImportJob, queued."""
    case = get_object_or_404(case_selectors.cases_for(request.user), pk=pk)
    paste_form, csv_form = PasteImportForm(), CsvImportForm()
    status = 200
    if request.method == "POST":
        if "file" in request.FILES or request.POST.get("form") == "csv":
            csv_form = CsvImportForm(request.POST, request.FILES)
            form, valid = csv_form, csv_form.is_valid()
        else:
            paste_form = PasteImportForm(request.POST)
            form, valid = paste_form, paste_form.is_valid()
        if valid:
            try:
                if form is csv_form:
                    upload = csv_form.cleaned_data["file"]
                    intake_actions.check_size(upload.size)
                    job = intake_actions.create_import(actor=request.user, case=case, fileobj=upload,
                                               original_name=upload.name, source="csv")
                else:
                    data = paste_form.cleaned_data
                    job = intake_actions.create_import(actor=request.user, case=case,
                                               fileobj=intake_actions.paste_as_csv(data["urls"], data["kind"]),
                                               original_name="pasted URLs", source="paste")
            except DomainError as exc:
                show_domain_error(request, exc, form)
                status = exc.status_code
            else:
                messages.success(request, f"Import of {job.total:,} lines into case {case.pk} queued.")
                return redirect("import-detail", pk=job.pk)
        else:
            status = 400
    imports = case.imports.select_related("created_by").order_by("-created_at")[:10]
    context = {"case": case, "paste_form": paste_form, "csv_form": csv_form, "imports": imports}
    return render(request, "referral/import_form.html", context, status=status)


def _progress_context(request, job: ImportJob) -> dict:
    running = job.status in (ImportStatus.PENDING, ImportStatus.RUNNING)
    return {"job": job, "running": running, "errors": job.errors[:parsing.ERRORS_SHOWN],
            "can_start": request.user.role in LOGGERS and job.status == ImportStatus.PENDING}


@require_safe
@role_required(*UNIT_STAFF)
def import_detail(request, pk):
    return render(request, "referral/import_detail.html", _progress_context(request, _job(request, pk)))


@require_safe
@role_required(*UNIT_STAFF)
def import_progress(request, pk):
    """The progress partial htmx polls every second; once the job has finished it stops asking."""
    return render(request, "referral/import_progress.html", _progress_context(request, _job(request, pk)))


@require_POST
@role_required(*LOGGERS)
def import_start(request, pk):
    """Queue a job that is still pending (its first queueing failed, or the broker lost it)."""
    job = _job(request, pk)
    if job.status != ImportStatus.PENDING:
        messages.info(request, f"The import is {job.get_status_display().lower()}; it needs no start.")
    elif intake_actions.queue_import(job.pk):
        messages.success(request, "The import is queued.")
    else:
        messages.error(request, "The import could not be queued (the message broker is not answering). "
                                "Try again in a minute.")
    return redirect("import-detail", pk=job.pk)


@require_safe
@role_required(*UNIT_STAFF)
def import_report(request, pk):
    job = _job(request, pk)
    if not job.report:
        raise Http404("The report is written when the import finishes.")
    return FileResponse(job.report.open("rb"), as_attachment=True, filename=f"import-{job.pk}-report.csv",
                        content_type="text/csv")
