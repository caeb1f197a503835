"""Writing an import's rows: COPY in chunks, duplicates linked, counts kept."""

import csv
import io
import json
import logging
import queue
import re
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


# COPY's columns: the id and the duplicate link (decided by the writer), then a row's own values (written as COPY
# text by the reader, `copy_text`), then the values every row of the chunk shares.
_ROW_FIELDS = ("url", "canonical_url", "platform_id", "kind", "categories", "language", "notes", "group_id")
_NULL = "\\N"
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")


_categories_text: dict[tuple, str] = {}


def copy_text(row: dict) -> str:
    """A checked row's own values (parsing.parse_row) as tab-separated COPY text, in _ROW_FIELDS order."""
    categories = tuple(row["categories"])
    cats = _categories_text.get(categories)
    if cats is None:
        cats = _categories_text[categories] = _copy_value(list(categories))
    platform_id, group_id = row["platform_id"], row["group_id"]
    platform = _NULL if platform_id is None else platform_id
    group = _NULL if group_id is None else group_id
    url, canonical_url, language, notes = row["url"], row["canonical_url"], row["language"], row["notes"]
    # Escapes are rare (a valid URL has no tab or line break): one search over the four texts, not four.
    if _NEEDS_ESCAPE.search(f"{url}{canonical_url}{language}{notes}"):
        url, canonical_url, language, notes = (v.translate(_COPY_ESCAPES) for v in (url, canonical_url, language,
                                                                                     notes))
    return f"{url}\t{canonical_url}\t{platform}\t{row['kind']}\t{cats}\t{language}\t{notes}\t{group}"


def _sequence(cursor, table: str) -> str:
    sequence = _SEQUENCES.get(table)
    if sequence is None:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = _SEQUENCES[table] = cursor.fetchone()[0]
    return sequence


_SEQUENCES: dict[str, str] = {}


def _insert_items(rows: list, job: ImportJob) -> list[int]:
    """Insert the new items; return their ids in order. PostgreSQL: `rows` are (duplicate_of_id, copy_text),
    ids come from the sequence in one query, and one COPY writes them; elsewhere `rows` are parse_row's dicts
    with their duplicate_of_id, written by bulk_create."""
    now = timezone.now()
    common = {"case_id": job.case_id, "logged_by_id": job.created_by_id, "import_job_id": job.pk,
              "status": ItemStatus.LOGGED, "first_seen_at": now, "updated_at": now}
    if connection.vendor != "postgresql":
        items = [Item(**common, **{k: v for k, v in row.items() if k != "warnings"}) for row in rows]
        return [item.pk for item in Item.objects.bulk_create(items, batch_size=1000)]
    table = Item._meta.db_table
    fields = {f.attname: f for f in Item._meta.concrete_fields}
    shared = [f for name, f in fields.items() if name not in ("id", "duplicate_of_id", *_ROW_FIELDS)]
    constants = []
    for f in shared:
        if f.attname in common:
            constants.append(_copy_value(common[f.attname]))
        elif f.has_default() or not f.null:
            constants.append(_copy_value(f.get_default()))
        else:
            constants.append("\\N")
    tail = "\t".join(constants)
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                       [_sequence(cursor, table), len(rows)])
        ids = [r[0] for r in cursor.fetchall()]
        text = "".join([f"{item_id}\t{_NULL if dup is None else dup}\t{own}\t{tail}\n"
                        for item_id, (dup, own) in zip(ids, rows, strict=True)])
        columns = ", ".join(connection.ops.quote_name(fields[name].column)
                            for name in ("id", "duplicate_of_id", *_ROW_FIELDS))
        columns += ", " + ", ".join(connection.ops.quote_name(f.column) for f in shared)
        # One read of the whole chunk: psycopg2 reads its file in pieces of `size`, each a trip through Python
        # (and the GIL, which the reader thread holds most of the time).
        data = io.StringIO(text)
        cursor.cursor.copy_expert(f"COPY {connection.ops.quote_name(table)} ({columns}) FROM STDIN", data,
                                  size=len(text) + 1)
    return ids


_CASE_LOCK = 0x494D5054  # with the case id: one import at a time per case, so no duplicate slips in between


def _existing(canonical_urls: list[str], case_id: int) -> dict[str, tuple[int | None, int | None]]:
    """canonical URL → (first original item anywhere, first item in this case), in one query. On PostgreSQL the
    same round trip takes the case's import lock first."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # A join on unnest() makes one index probe per URL; `= ANY(array)` of 5,000 was twice as slow.
            # During a bulk load the table's statistics lag far behind its size, and the planner then picks a
            # parallel sequential scan and sort of the whole table (~0.5 s a chunk at 1M rows) plus JIT. The
            # right plan is known: probe the index. SET LOCAL ends with the chunk's transaction.
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s); "  # noqa: S608  (the table's name from _meta)
                "SET LOCAL enable_seqscan = off; SET LOCAL enable_mergejoin = off; "
                "SET LOCAL enable_hashjoin = off; SET LOCAL jit = off; "
                "SELECT i.canonical_url, MIN(i.id) FILTER (WHERE i.duplicate_of_id IS NULL), "
                "MIN(i.id) FILTER (WHERE i.case_id = %s) FROM unnest(%s::text[]) AS u(c) "
                f"JOIN {connection.ops.quote_name(Item._meta.db_table)} i ON i.canonical_url = u.c "
                "GROUP BY i.canonical_url",
                [_CASE_LOCK, case_id, case_id, canonical_urls],
            )
            return {c: (original, in_case) for c, original, in_case in cursor.fetchall()}
    if not canonical_urls:
        return {}
    found: dict[str, tuple[int | None, int | None]] = {}
    for item_id, c, dup, item_case in (Item.objects.filter(canonical_url__in=canonical_urls).order_by("id")
                                       .values_list("id", "canonical_url", "duplicate_of_id", "case_id")):
        original, in_case = found.get(c, (None, None))
        found[c] = (original or (item_id if dup is None else None), in_case or (item_id if item_case == case_id
                                                                               else None))
    return found


def compact(row: dict, postgres: bool):
    """What a chunk keeps of a checked row until it is written: (canonical URL, warnings, the row's values), the
    values as COPY text on PostgreSQL (no dict per row lives on), the dict elsewhere."""
    if postgres:
        return row["canonical_url"], row["warnings"], copy_text(row)
    return row["canonical_url"], row["warnings"], {k: v for k, v in row.items() if k != "warnings"}


def _write_chunk(run: _Run, chunk: list) -> None:
    """Decide, insert and count one chunk, in one transaction. `chunk` holds lines in order: (line, compact(row))
    for a checked row, (line, reason) for a rejected one."""
    job = run.job
    postgres = connection.vendor == "postgresql"
    with transaction.atomic():
        existing = _existing(list({row[0] for _, row in chunk if type(row) is tuple}), job.case_id)
        new_rows: list = []
        new_info: list = []  # (duplicate_of_id, warnings) of each new row
        new_index: dict[str, int] = {}  # canonical URL → position in new_rows (repeats within the chunk)
        outcomes = []
        for line, row in chunk:
            if type(row) is not tuple:
                outcomes.append((line, row, None))
                continue
            c, warnings, values = row
            at = new_index.get(c)
            if at is not None:
                outcomes.append((line, None, -1 - at))  # a repeat of a new row: negative positions
                continue
            original, in_case = existing.get(c, (None, None))
            if in_case is not None:
                outcomes.append((line, None, in_case))
                continue
            new_index[c] = at = len(new_rows)
            if postgres:
                new_rows.append((original, values))
            else:
                values["duplicate_of_id"] = original
                new_rows.append(values)
            new_info.append((original, warnings))
            outcomes.append((line, "", at))
        ids = _insert_items(new_rows, job) if new_rows else []
        writerow = run.report.writerow
        offset = run.line_offset
        for line, reason, ref in outcomes:
            if reason:
                run.reject(line, reason)
                continue
            run.processed += 1
            shown = line + offset
            if reason is None:
                run.duplicates += 1
                item_id = ids[-1 - ref] if ref < 0 else ref
                writerow([shown, "duplicate", item_id, f"Already in this case as item {item_id}."])
                continue
            run.accepted += 1
            original, warnings = new_info[ref]
            if original or warnings:
                notes = [f"Linked as a duplicate of item {original} (another case)."] if original else []
                notes += warnings
                writerow([shown, "accepted", ids[ref], " ".join(notes)])
            else:
                writerow([shown, "accepted", ids[ref], ""])
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
    postgres = connection.vendor == "postgresql"
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
            elif not any(map(str.strip, fields)):
                continue  # blank line
            else:
                row = _check(fields, known, others, width, run.ctx)
                chunk.append((start, compact(row, postgres) if type(row) is dict else row))
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

