"""Bulk intake: URLs pasted or uploaded as CSV into a case, imported in chunks by a worker, with a report.

The flow: `create_import` checks the limits, stores the file and queues the task after commit; `run_import`
(the task, the `import_items` command and the benchmark all call it) streams the stored file line by line,
checks and canonicalises each row in Python, and writes each chunk of rows in one transaction: one query for the
canonical URLs already known, PostgreSQL COPY of the new items, one AuditEvent, the job's counters. Memory stays
flat whatever the file size. docs/intake.md describes the formats and the rules.
"""

import csv
import hashlib
import io
import json
import logging
import queue
import re
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from platforms import canonical as platform_canonical
from platforms.models import PlatformDomain
from platforms.urls import MAX_URL_LENGTH, InvalidURL, candidate_domains, canonicalize, validate_url

from . import audit
from .errors import DomainError, InvalidInput, NotFound
from .models import Case, Category, Group, ImportJob, ImportStatus, Item, ItemKind, ItemStatus

log = logging.getLogger(__name__)

COLUMNS = ("url", "kind", "categories", "language", "notes", "group")
DELIMITERS = (",", ";", "\t")
CHUNK_ROWS = 5000
LINE_LIMIT = 262_144  # characters in one line; a longer line is rejected and the import goes on
ERRORS_KEPT = 300  # in the job row; the report file keeps every line
ERRORS_SHOWN = 100  # in the API's job view and the page
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of bytes that are not UTF-8
_CATEGORY_SPLIT = re.compile(r"[;,]")
_KINDS = frozenset(ItemKind.values)
_CATEGORIES = frozenset(Category.values)
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})

csv.field_size_limit(LINE_LIMIT)


class ImportTooLarge(DomainError):
    status_code = 413


class ImportFailed(Exception):
    """The file as a whole cannot be imported (no url column, empty); nothing was created."""


def max_bytes() -> int:
    return getattr(settings, "IMPORT_MAX_BYTES", 200 * 1024 * 1024)


def max_rows() -> int:
    return getattr(settings, "IMPORT_MAX_ROWS", 2_000_000)


# --- creating a job -------------------------------------------------------------------------------------


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
    from .tasks_intake import import_items

    try:
        import_items.apply_async(args=[str(job_id)], retry=False)
    except Exception:
        log.warning("could not queue import %s; it stays pending and can be started from its page", job_id,
                    exc_info=True)
        return False
    return True


# --- reading the file -----------------------------------------------------------------------------------


class _Lines:
    """The file's physical lines, never more than LINE_LIMIT characters held; longer lines become blank and are
    remembered in `oversized` (by line number) so the row can be rejected with its reason."""

    def __init__(self, text):
        self.text = text
        self.number = 0
        self.oversized: set[int] = set()

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self.text.readline(LINE_LIMIT + 1)
        if not line:
            raise StopIteration
        self.number += 1
        if len(line) > LINE_LIMIT and line[-1] not in "\r\n":
            while (rest := self.text.readline(LINE_LIMIT)) and rest[-1] not in "\r\n":
                pass
            self.oversized.add(self.number)
            return "\n"
        return line


def _header(lines: _Lines) -> tuple[str, list[str]]:
    """The delimiter (comma, semicolon or tab: the one whose split names a `url` column) and the column names."""
    for first in lines:
        if first.strip():
            break
    else:
        raise ImportFailed("The file is empty.")
    first = first.rstrip("\r\n")
    best = None
    for delimiter in DELIMITERS:
        names = [n.strip().strip('"').strip().lower() for n in next(csv.reader([first], delimiter=delimiter))]
        if "url" in names and (best is None or len(names) > len(best[1])):
            best = (delimiter, names)
    if best is None:
        shown = first[:200].encode("utf-8", "replace").decode("utf-8")
        raise ImportFailed(
            "No url column: the first line must name the columns (url, kind, categories, language, notes, group),"
            f" separated by commas, semicolons or tabs. It reads: {shown!r}."
        )
    return best


# --- checking rows --------------------------------------------------------------------------------------


@dataclass
class _Context:
    """What a row is checked against, loaded once per import, and the caches of per-host work."""

    domains: dict[str, int]
    groups: dict[str, int]
    hosts: dict[str, int | None] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> "_Context":
        domains = dict(PlatformDomain.objects.filter(platform__active=True).values_list("domain", "platform_id"))
        groups: dict[str, int] = {}
        rows = list(Group.objects.values_list("id", "name", "aliases"))
        for group_id, _name, aliases in rows:
            for alias in aliases.splitlines():
                if alias.strip():
                    groups.setdefault(alias.strip().casefold(), group_id)
        for group_id, name, _aliases in rows:
            groups[name.strip().casefold()] = group_id  # a name beats another group's alias
        return cls(domains=domains, groups=groups)

    def platform_of(self, hostname: str) -> int | None:
        """platforms.urls.resolve_platform's rule (longest registered suffix of the host as written, without
        www./m./mobile., folded to the platform's canonical host), with the domains in memory."""
        try:
            return self.hosts[hostname]
        except KeyError:
            pass
        host = platform_canonical.host_to_ascii(hostname)
        hosts = dict.fromkeys([host, platform_canonical.strip_host_prefixes(host),
                               platform_canonical.fold_host(host)])
        found = None
        for candidate in dict.fromkeys(c for h in hosts for c in candidate_domains(h)):
            if candidate in self.domains:
                found = self.domains[candidate]
                break
        if len(self.hosts) > 100_000:
            self.hosts.clear()
        self.hosts[hostname] = found
        return found

    def warnings_of(self, hostname: str) -> list[str]:
        try:
            return self.warnings[hostname]
        except KeyError:
            pass
        found = platform_canonical.host_warnings(hostname)
        if len(self.warnings) > 100_000:
            self.warnings.clear()
        self.warnings[hostname] = found
        return found


class RowRejected(ValueError):
    pass


def parse_row(values: dict[str, str], extra: list[tuple[str, str]], ctx: _Context) -> dict:
    """Check one row (column name → text) and return the item's fields, or raise RowRejected with the reason.

    `extra` holds the columns this importer does not know, kept in the notes as `name: value` lines.
    """
    raw_url = values.get("url", "")
    try:
        url = validate_url(raw_url)
        canonical_url = canonicalize(url)
    except InvalidURL as exc:
        raise RowRejected(str(exc)) from exc
    except ValueError as exc:  # IDNA errors from hosts validate_url let through
        raise RowRejected(f"The URL cannot be put in canonical form: {exc}.") from exc
    if len(canonical_url) > MAX_URL_LENGTH:
        raise RowRejected(f"The URL's canonical form is longer than {MAX_URL_LENGTH} characters.")
    kind = values.get("kind", "").strip().lower() or ItemKind.POST
    if kind not in _KINDS:
        raise RowRejected(f"Unknown kind '{kind}'; use one of: {', '.join(ItemKind.values)}.")
    categories = sorted({c.strip().lower() for c in _CATEGORY_SPLIT.split(values.get("categories", "")) if c.strip()})
    bad = [c for c in categories if c not in _CATEGORIES]
    if bad:
        raise RowRejected(f"Unknown categories {', '.join(bad)}; use: {', '.join(Category.values)}.")
    language = values.get("language", "").strip()
    if len(language) > 16:
        raise RowRejected("The language is longer than 16 characters (give a code such as 'ar' or 'en').")
    group_name = values.get("group", "").strip()
    group_id = None
    if group_name:
        group_id = ctx.groups.get(group_name.casefold())
        if group_id is None:
            raise RowRejected(f"Unknown group '{group_name}': it is not in the list of groups (ask an admin).")
    hostname = urlsplit(url).hostname or ""
    warnings = ctx.warnings_of(hostname)
    notes = [values.get("notes", "").strip()]
    notes += [f"{name}: {value.strip()}" for name, value in extra if value.strip()]
    notes += [f"URL warning: {w}" for w in warnings]
    platform_id = ctx.platform_of(hostname)
    return {
        "url": url, "canonical_url": canonical_url, "platform_id": platform_id, "kind": kind,
        "categories": categories, "language": language, "notes": "\n".join(n for n in notes if n),
        "group_id": group_id, "warnings": warnings,
    }


# --- writing chunks -------------------------------------------------------------------------------------


@dataclass
class _Run:
    job: ImportJob
    ctx: _Context
    report: object  # the csv.writer of the report file
    line_offset: int = 0
    processed: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list = field(default_factory=list)
    errors_changed: bool = False

    def reject(self, line: int, reason: str) -> None:
        line += self.line_offset
        self.rejected += 1
        self.processed += 1
        self.report.writerow([line, "rejected", "", reason])
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append({"line": line, "reason": reason})
            self.errors_changed = True


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False).translate(_COPY_ESCAPES)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


def _insert_items(rows: list[dict], job: ImportJob) -> list[int]:
    """Insert the new items; return their ids in order. PostgreSQL: ids from the sequence, then one COPY."""
    now = timezone.now()
    common = {"case_id": job.case_id, "logged_by_id": job.created_by_id, "import_job_id": job.pk,
              "status": ItemStatus.LOGGED, "first_seen_at": now, "updated_at": now}
    if connection.vendor != "postgresql":
        items = [Item(**common, **{k: v for k, v in row.items() if k != "warnings"}) for row in rows]
        return [item.pk for item in Item.objects.bulk_create(items, batch_size=1000)]
    table = Item._meta.db_table
    fields = [f for f in Item._meta.concrete_fields]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(rows)]
        )
        ids = [r[0] for r in cursor.fetchall()]
        constants = {}
        for f in fields:
            if f.attname in common:
                constants[f.attname] = _copy_value(common[f.attname])
            elif f.has_default() or not f.null:
                constants[f.attname] = _copy_value(f.get_default())
            else:
                constants[f.attname] = "\\N"
        buf = io.StringIO()
        write = buf.write
        for item_id, row in zip(ids, rows, strict=True):
            parts = []
            for f in fields:
                name = f.attname
                if name == "id":
                    parts.append(str(item_id))
                elif name in row:
                    parts.append(_copy_value(row[name]))
                else:
                    parts.append(constants[name])
            write("\t".join(parts))
            write("\n")
        buf.seek(0)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        cursor.cursor.copy_expert(f"COPY {connection.ops.quote_name(table)} ({columns}) FROM STDIN", buf)
    return ids


def _existing(canonical_urls: list[str], case_id: int) -> dict[str, tuple[int | None, int | None]]:
    """canonical URL → (first original item anywhere, first item in this case), in one query."""
    if not canonical_urls:
        return {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # A join on unnest() makes one index probe per URL; `= ANY(array)` of 5,000 was twice as slow.
            # During a bulk load the table's statistics lag far behind its size, and the planner then picks a
            # parallel sequential scan and sort of the whole table (~0.5 s a chunk at 1M rows) plus JIT. The
            # right plan is known: probe the index. SET LOCAL ends with the chunk's transaction.
            cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_mergejoin = off; "
                           "SET LOCAL enable_hashjoin = off; SET LOCAL jit = off")
            cursor.execute(
                "SELECT i.canonical_url, MIN(i.id) FILTER (WHERE i.duplicate_of_id IS NULL), "
                "MIN(i.id) FILTER (WHERE i.case_id = %s) FROM unnest(%s::text[]) AS u(c) "
                "JOIN referral_item i ON i.canonical_url = u.c GROUP BY i.canonical_url",
                [case_id, canonical_urls],
            )
            return {c: (original, in_case) for c, original, in_case in cursor.fetchall()}
    found: dict[str, tuple[int | None, int | None]] = {}
    for item_id, c, dup, item_case in (Item.objects.filter(canonical_url__in=canonical_urls).order_by("id")
                                       .values_list("id", "canonical_url", "duplicate_of_id", "case_id")):
        original, in_case = found.get(c, (None, None))
        found[c] = (original or (item_id if dup is None else None), in_case or (item_id if item_case == case_id
                                                                               else None))
    return found


def _write_chunk(run: _Run, chunk: list) -> None:
    """Decide, insert and count one chunk (lines in order: (line, row) or (line, reason)), in one transaction."""
    job = run.job
    with transaction.atomic():
        if connection.vendor == "postgresql":  # one import at a time per case: no duplicate slips in between
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x494D5054, job.case_id])
        existing = _existing(list({row["canonical_url"] for _, row in chunk if isinstance(row, dict)}),
                             job.case_id)
        new_rows: list[dict] = []
        new_index: dict[str, int] = {}  # canonical URL → position in new_rows (repeats within the chunk)
        outcomes = []
        for line, row in chunk:
            if not isinstance(row, dict):
                outcomes.append((line, "rejected", row))
                continue
            c = row["canonical_url"]
            original, in_case = existing.get(c, (None, None))
            if c in new_index:
                outcomes.append((line, "duplicate", ("new", new_index[c])))
            elif in_case is not None:
                outcomes.append((line, "duplicate", in_case))
            else:
                row["duplicate_of_id"] = original
                new_index[c] = len(new_rows)
                new_rows.append(row)
                outcomes.append((line, "accepted", ("new", new_index[c])))
        ids = _insert_items([{k: v for k, v in r.items() if k != "warnings"} for r in new_rows], job) \
            if new_rows else []
        for line, outcome, ref in outcomes:
            if outcome == "rejected":
                run.reject(line, ref)
                continue
            run.processed += 1
            shown = line + run.line_offset
            if outcome == "duplicate":
                run.duplicates += 1
                item_id = ids[ref[1]] if isinstance(ref, tuple) else ref
                run.report.writerow([shown, "duplicate", item_id, f"Already in this case as item {item_id}."])
                continue
            run.accepted += 1
            row = new_rows[ref[1]]
            notes = []
            if row["duplicate_of_id"]:
                notes.append(f"Linked as a duplicate of item {row['duplicate_of_id']} (another case).")
            notes += row["warnings"]
            run.report.writerow([shown, "accepted", ids[ref[1]], " ".join(notes)])
        if ids:
            audit.record_many([{
                "actor": job.created_by, "verb": "items.imported", "object_type": "importjob",
                "object_id": job.pk, "after": {"count": len(ids), "first_id": ids[0], "last_id": ids[-1]},
            }])
        _save_counts(run)


def _save_counts(run: _Run, **extra) -> None:
    values = {"processed": run.processed, "accepted": run.accepted, "duplicates": run.duplicates,
              "rejected": run.rejected, **extra}
    if run.errors_changed:
        values["errors"] = run.errors
        run.errors_changed = False
    ImportJob.objects.filter(pk=run.job.pk).update(**values)


class _ChunkWriter:
    """Writes chunks in order. On PostgreSQL, outside a caller's transaction, a thread with its own connection
    writes chunk n while the reader checks chunk n+1: the database's work overlaps Python's (two cores)."""

    def __init__(self, run: _Run):
        self.run = run
        self.error: BaseException | None = None
        self.thread = None
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            self.queue: queue.Queue = queue.Queue(maxsize=1)
            self.thread = threading.Thread(target=self._loop, name="import-writer", daemon=True)
            self.thread.start()

    def _loop(self) -> None:
        try:
            while (chunk := self.queue.get()) is not None:
                if self.error is None:
                    try:
                        _write_chunk(self.run, chunk)
                    except BaseException as exc:  # handed to the reader thread, which fails the job
                        self.error = exc
        finally:
            connection.close()  # this thread's own connection

    def put(self, chunk: list) -> None:
        if self.thread is None:
            _write_chunk(self.run, chunk)
            return
        if self.error is not None:
            self.close()
        self.queue.put(chunk)

    def close(self) -> None:
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
            self.thread = None
        if self.error is not None:
            raise self.error


# --- running a job --------------------------------------------------------------------------------------


def _claim(job_id) -> ImportJob | None:
    now = timezone.now()
    with transaction.atomic():
        claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.PENDING).update(
            status=ImportStatus.RUNNING, started_at=now)
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
        _save_counts(run, status=status, failure=failure, finished_at=timezone.now(), report=job.report.name,
                     errors=run.errors, **({"total": run.processed} if status == ImportStatus.DONE else {}))
        audit.record(actor=job.created_by, verb="import.finished", obj=job, before={"status": "running"},
                     after={"status": status, "processed": run.processed, "accepted": run.accepted,
                            "duplicates": run.duplicates, "rejected": run.rejected, "failure": failure[:500]})


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
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
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


def _import_lines(run: _Run, lines: _Lines) -> str:
    """Read rows after the header and write them chunk by chunk. Returns the note for a stop at the row limit."""
    delimiter, names = _header(lines)
    known = {name: i for i, name in reversed(list(enumerate(names))) if name in COLUMNS}
    others = [(i, name or f"column {i + 1}") for i, name in enumerate(names) if name not in known
              or known[name] != i]
    width = len(names)
    reader = csv.reader(lines, delimiter=delimiter)
    limit = max_rows()
    writer = _ChunkWriter(run)
    try:
        return _read_rows(reader, lines, writer, run, known, others, width, limit)
    finally:
        writer.close()


def _read_rows(reader, lines: _Lines, writer: _ChunkWriter, run: _Run, known: dict, others: list, width: int,
               limit: int) -> str:
    chunk: list = []
    queued = 0
    end = lines.number
    while True:
        start = end + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            end = lines.number
            chunk.append((start, f"The line cannot be read as CSV: {exc}."))
            fields = None
        else:
            end = lines.number
        if fields is not None:
            if start in lines.oversized:
                chunk.append((start, f"The line is longer than {LINE_LIMIT:,} characters; it was skipped."))
            elif not any(f.strip() for f in fields):
                continue  # blank line
            else:
                chunk.append((start, _check(fields, known, others, width, run.ctx)))
        if queued + len(chunk) > limit:
            chunk.pop()
            writer.put(chunk)
            return (f"Stopped at the limit of {limit:,} rows (IMPORT_MAX_ROWS): line {start + run.line_offset} "
                    "and the lines after it were not imported.")
        if len(chunk) >= CHUNK_ROWS:
            writer.put(chunk)
            queued += len(chunk)
            chunk = []
    if chunk:
        writer.put(chunk)
    return ""


def _check(fields: list[str], known: dict, others: list, width: int, ctx: _Context):
    """A row's fields as an item's values (dict), or the reason it is rejected (str)."""
    joined = "".join(fields)
    bad = _NOT_UTF8.search(joined)
    if bad:
        byte = ord(bad.group()) - 0xDC00
        return (f"The line is not valid UTF-8 (byte 0x{byte:02X}); save the file as UTF-8 "
                "(in Excel: CSV UTF-8) and import it again.")
    if "\x00" in joined:
        return "The line contains a NUL character."
    values = {name: fields[i] if i < len(fields) else "" for name, i in known.items()}
    extra = [(name, fields[i]) for i, name in others if i < len(fields)]
    extra += [(f"column {i + 1}", fields[i]) for i in range(width, len(fields))]
    try:
        return parse_row(values, extra, ctx)
    except RowRejected as exc:
        return str(exc)


# --- reads ----------------------------------------------------------------------------------------------


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
