"""Bulk intake jobs: create, queue, run; the ImportJob transition table. Only this module assigns
`ImportJob.status`."""

import csv
import hashlib
import io
import logging
import tempfile
import uuid

from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from audit import chain as audit
from cases.models import Case
from core.enqueue import send_task
from core.errors import InvalidInput, TransitionNotAllowed
from core.roles import LOGGERS, require_role
from intake.loading import _import_lines, _Run, _save_counts
from intake.models import ImportJob, ImportStatus
from intake.parsing import ImportFailed, ImportTooLarge, _Context, _Lines, max_bytes, max_rows
from notifications.actions import notify_users

log = logging.getLogger(__name__)








IMPORT_TASK = "referral.import_items"  # intake/tasks.py






def _scan(fileobj) -> tuple[str, int, int]:
    """sha256, size in bytes and the number of non-blank lines, in one streaming pass."""
    digest, size, lines = hashlib.sha256(), 0, 0
    fileobj.seek(0)
    tail = b""
    while block := fileobj.read(1024 * 1024):
        digest.update(block)
        size += len(block)
        if size > max_bytes():
            break
        parts = (tail + block).split(b"\n")
        tail = parts.pop()
        lines += sum(1 for p in parts if p.strip())
    if tail.strip():
        lines += 1
    fileobj.seek(0)
    return digest.hexdigest(), size, lines


def check_size(size: int) -> None:
    limit = max_bytes()
    if size > limit:
        raise ImportTooLarge(
            f"The file is larger than the import limit of {limit:,} bytes ({limit / 1024 / 1024:.0f} MiB); "
            "split it and import the parts.",
            field_errors={"file": [f"At most {limit:,} bytes."]},
        )


def create_import(*, actor, case: Case, fileobj, original_name: str = "", source: str = "csv",
                  queue: bool = True) -> ImportJob:
    """Store an upload as a pending ImportJob of `case` and (with `queue`) queue its import after commit.

    Checks the case is open, the size (IMPORT_MAX_BYTES) and the number of rows (IMPORT_MAX_ROWS): over a limit
    it raises ImportTooLarge (HTTP 413) and stores nothing. The rows are not read here; run_import does that.
    """
    require_role(actor, LOGGERS, "importing items")
    if case.status != "open":
        raise InvalidInput(f"Case {case.pk} is closed: nothing can be imported into it.",
                           field_errors={"case": [f"Case {case.pk} is closed."]})
    sha256, size, lines = _scan(fileobj)
    check_size(size)
    if size == 0 or lines == 0:
        raise InvalidInput("The file is empty.", field_errors={"file": ["The file is empty."]})
    rows = max(lines - 1, 0)  # the header line is not a row
    if rows > max_rows():
        raise ImportTooLarge(
            f"The file has {rows:,} rows; the import limit is {max_rows():,} rows. Split it and import the parts.",
            field_errors={"file": [f"At most {max_rows():,} rows."]},
        )
    job = ImportJob(id=uuid.uuid4(), case=case, created_by=actor, source=source,
                    original_name=(original_name or "")[:255], file_sha256=sha256, total=rows)
    with transaction.atomic():
        job.file.save(f"{job.id}.csv", File(fileobj), save=False)
        job.save()
        audit.record(actor=actor, verb="import.created", obj=job,
                     after={"case": case.pk, "source": source, "name": job.original_name, "sha256": sha256,
                            "rows": rows})
        if queue:
            job_id = job.id
            transaction.on_commit(lambda: queue_import(job_id))
    return job


def paste_as_csv(text: str, kind: str) -> ContentFile:
    """Pasted URLs (one a line) as the CSV file an upload would be: `url,kind`, blank lines kept as blank."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["url", "kind"])
    for line in (text or "").splitlines():
        if line.strip():
            writer.writerow([line.strip(), kind])
        else:
            buf.write("\n")
    return ContentFile(buf.getvalue().encode("utf-8"), name="pasted.csv")


def queue_import(job_id) -> bool:
    """Ask a worker to run the import. A broker that is down is logged; the job stays pending (page: Start)."""
    return send_task(IMPORT_TASK, args=[str(job_id)])


# An import's moves. Only this module assigns ImportJob.status, each move a conditional UPDATE on the status it
# leaves (so two workers given the same job cannot both run it).
IMPORT_ALLOWED: dict[str, set[str]] = {
    ImportStatus.PENDING: {ImportStatus.RUNNING},
    ImportStatus.RUNNING: {ImportStatus.DONE, ImportStatus.FAILED},
    ImportStatus.DONE: set(),
    ImportStatus.FAILED: set(),
}


def _move(job_id, source: str, target: str, **fields) -> bool:
    if target not in IMPORT_ALLOWED[source]:
        raise TransitionNotAllowed(f"An import that is '{source}' cannot become '{target}'.")
    return bool(ImportJob.objects.filter(pk=job_id, status=source).update(status=target, **fields))


def _claim(job_id) -> ImportJob | None:
    now = timezone.now()
    with transaction.atomic():
        claimed = _move(job_id, ImportStatus.PENDING, ImportStatus.RUNNING, started_at=now)
        if not claimed:
            return None
        job = ImportJob.objects.select_related("case", "created_by").get(pk=job_id)
        audit.record(actor=job.created_by, verb="import.started", obj=job, before={"status": "pending"},
                     after={"status": "running"})
    return job


def _finish(run: _Run, report_text, *, status: str, failure: str = "") -> None:
    job = run.job
    report_text.flush()
    report_file = report_text.buffer
    report_file.seek(0)
    name = f"{job.id}-report.csv"
    job.report.save(name, File(report_file, name=name), save=False)
    with transaction.atomic():
        _save_counts(run, failure=failure, finished_at=timezone.now(), report=job.report.name,
                     errors=run.errors, **({"total": run.processed} if status == ImportStatus.DONE else {}))
        _move(job.pk, ImportStatus.RUNNING, status)
        audit.record(actor=job.created_by, verb="import.finished", obj=job, before={"status": "running"},
                     after={"status": status, "processed": run.processed, "accepted": run.accepted,
                            "duplicates": run.duplicates, "rejected": run.rejected, "failure": failure[:500]})
        notify_users([job.created_by_id], kind="import_done", object_type="import", object_id=job.pk,
                     message=f"Your import into case {job.case_id} is done: {run.accepted:,} accepted, "
                             f"{run.duplicates:,} duplicates, {run.rejected:,} rejected." if status == ImportStatus.DONE
                     else f"Your import into case {job.case_id} failed: {failure[:300]}")


def run_import(job_id) -> ImportJob | None:
    """Import a pending job's file into its case; safe to run twice (a job that is not pending is left alone).

    Every non-blank line ends up in the report as accepted (a new item, linked with `duplicate_of` when its
    canonical URL is known in another case), duplicate (already in this case: no new item) or rejected (with
    the reason). A file without a url column fails with nothing created. Returns the finished job.
    """
    job = _claim(job_id)
    if job is None:
        return None
    report_file = io.TextIOWrapper(tempfile.TemporaryFile(), encoding="utf-8", newline="")
    run = _Run(job=job, ctx=_Context.load(), report=csv.writer(report_file),
               line_offset=-1 if job.source == "paste" else 0)
    run.report.writerow(["line", "outcome", "item", "reason"])
    status, failure = ImportStatus.DONE, ""
    try:
        if job.case.status != "open":
            raise ImportFailed(f"Case {job.case_id} is closed: nothing was imported.")
        with job.file.storage.open(job.file.name, "rb") as raw:
            # The storage's own file when it has one: its File proxy costs a Python call on every line read.
            text = io.TextIOWrapper(getattr(raw, "file", raw), encoding="utf-8-sig", errors="surrogateescape",
                                    newline="")
            failure = _import_lines(run, _Lines(text))
    except ImportFailed as exc:
        status, failure = ImportStatus.FAILED, str(exc)
        if not run.errors:
            run.errors.append({"line": 1, "reason": failure})
    except Exception as exc:  # a bug or the database gone: the job says so; committed chunks stay, reported
        log.exception("import %s failed", job.pk)
        status = ImportStatus.FAILED
        failure = (f"The import stopped after {run.processed:,} rows: {type(exc).__name__}: {exc}. "
                   "The rows before were imported (see the report).")
    try:
        _finish(run, report_file, status=status, failure=failure)
    finally:
        report_file.close()
    job.refresh_from_db()
    return job

