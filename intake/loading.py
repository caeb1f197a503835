"""Writing an import's rows: COPY in chunks, duplicates linked, counts kept."""

import csv
import io
import json
import logging
import queue
import threading
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from audit import chain as audit
from cases.models import Item, ItemStatus
from intake.models import ImportJob
from intake.parsing import COLUMNS, LINE_LIMIT, _check, _Context, _header, _Lines, max_rows

log = logging.getLogger(__name__)


CHUNK_ROWS = 5000


ERRORS_KEPT = 300  # in the job row; the report file keeps every line


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


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
                "SELECT i.canonical_url, MIN(i.id) FILTER (WHERE i.duplicate_of_id IS NULL), "  # noqa: S608  (table names from _meta)
                "MIN(i.id) FILTER (WHERE i.case_id = %s) FROM unnest(%s::text[]) AS u(c) "
                f"JOIN {connection.ops.quote_name(Item._meta.db_table)} i ON i.canonical_url = u.c "
                "GROUP BY i.canonical_url",
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

