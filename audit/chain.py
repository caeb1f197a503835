"""The one way to write an AuditEvent, and the hash chain that seals the events after they commit.

Writers never queue behind one another: an action inserts its events in its own transaction, unsealed (no
sequence number, no hash), with one INSERT and no lock. After they commit, one sealer at a time (`seal()`, run by
the beat task `audit.seal` every AUDIT_SEAL_SECONDS, by `verify_chain()` and by `manage.py verify_audit`) gives the
committed, unsealed events the next sequence numbers in id order and chains them: each event's hash covers every
field of the event (its id, sequence number, time, actor id and name, verb, object, before and after) and the hash
of the event before it. This is how transparency logs work: sequence and hash after the write, by one sequencer.

What verification detects: an edited field of a sealed event (its hash no longer matches), a deleted or inserted
event in the middle (the next link, or the sequence, breaks), and a sealed event whose sequence was cleared.
Between commit and the next seal (seconds) an event is not yet covered; the sealer's lock is an advisory lock held
by the sealer alone, never by a writer.
"""

import hashlib
import json

from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEvent

GENESIS = "0" * 64
_SEAL_LOCK_KEY = 0x52454644  # any constant: one sealer at a time on PostgreSQL
SEAL_BATCH = 5000


def canonical(event: AuditEvent) -> bytes:
    """The bytes an event's hash covers: every field of the event and the previous event's hash."""
    body = {
        "id": event.pk,
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "actor": event.actor_label,
        "verb": event.verb,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": event.before,
        "after": event.after,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical(event)).hexdigest()


def record_many(entries: list[dict]) -> list[AuditEvent]:
    """Insert events (dicts with actor, verb, object_type, object_id, before, after), in order, in the caller's
    transaction: one INSERT, no lock. `seal()` chains them once they are committed."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Audit events are written inside the transaction of the change they record.")
    now = timezone.now()
    events = []
    for entry in entries:
        actor = entry.get("actor")
        events.append(AuditEvent(
            at=now,
            actor=actor,
            actor_label=actor.get_username() if actor is not None else "system",
            verb=entry["verb"],
            object_type=entry["object_type"],
            object_id=str(entry["object_id"]),
            before=entry.get("before") or {},
            after=entry.get("after") or {},
        ))
    return AuditEvent.objects.bulk_create(events)


def record(*, actor, verb: str, obj, before: dict | None = None, after: dict | None = None) -> AuditEvent:
    """Insert one event about `obj` (a model instance)."""
    return record_many(
        [
            {
                "actor": actor,
                "verb": verb,
                "object_type": obj._meta.model_name,
                "object_id": obj.pk,
                "before": before,
                "after": after,
            }
        ]
    )[0]


def _head() -> tuple[int, str]:
    last = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", "hash").first()
    return last or (0, GENESIS)


def _write_seals(events: list[AuditEvent]) -> None:
    """Write the seals; refuse (roll back) if another sealer sealed any of these events first.

    PostgreSQL: one UPDATE … FROM (VALUES …) per thousand events (Django's bulk_update writes a CASE per column,
    which PostgreSQL evaluates per row: quadratic). SQLite: one UPDATE per event (Python's sqlite3 reports no row
    count for a statement that starts with WITH); it has no advisory lock, so there the database's single writer
    and the unique constraint on seq keep the chain right."""
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            written = 0
            for e in events:
                cursor.execute(f"UPDATE {table} SET seq = %s, prev_hash = %s, hash = %s "  # noqa: S608 - our table
                               "WHERE id = %s AND seq IS NULL", [e.seq, e.prev_hash, e.hash, e.pk])
                written += cursor.rowcount
            if written != len(events):
                raise RuntimeError("Another sealer sealed some of these events first; this seal is rolled back.")
            return
        for start in range(0, len(events), 1000):
            chunk = events[start:start + 1000]
            rows = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
            params = [value for e in chunk for value in (e.pk, e.seq, e.prev_hash, e.hash)]
            cursor.execute(
                f"WITH sealed (id, seq, prev_hash, hash) AS (VALUES {rows}) "  # noqa: S608 - our own table name
                f"UPDATE {table} SET seq = sealed.seq, prev_hash = sealed.prev_hash, hash = sealed.hash "
                f"FROM sealed WHERE {table}.id = sealed.id AND {table}.seq IS NULL",
                params,
            )
            if cursor.rowcount != len(chunk):
                raise RuntimeError("Another sealer sealed some of these events first; this seal is rolled back.")


def _seal_batch() -> int | None:
    """Seal up to SEAL_BATCH committed events in one transaction; None when another sealer holds the lock."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_SEAL_LOCK_KEY])
                if not cursor.fetchone()[0]:
                    return None
        seq, prev = _head()
        pending = list(AuditEvent.objects.filter(seq__isnull=True).order_by("id")[:SEAL_BATCH])
        for event in pending:
            seq += 1
            event.seq, event.prev_hash = seq, prev
            event.hash = prev = event_hash(event)
        _write_seals(pending)
        return len(pending)


def seal() -> int:
    """Chain every committed, unsealed event; the number sealed (0 when another sealer is at work).

    Call it outside any writer's transaction (a task, a command): inside one it would hold the sealer's lock
    until that transaction ends."""
    total = 0
    while True:
        n = _seal_batch()
        if not n:
            return total
        total += n
        if n < SEAL_BATCH:
            return total


def verify_chain() -> int | None:
    """Seal what is pending, then walk the chain in sequence order; return the id of the first event whose hash,
    link or sequence number does not hold, or None."""
    seal()
    prev, expected = GENESIS, 1
    for event in AuditEvent.objects.filter(seq__isnull=False).order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected or event.prev_hash != prev or event_hash(event) != event.hash:
            return event.id
        prev, expected = event.hash, expected + 1
    return None
