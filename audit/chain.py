"""The one way to write an AuditEvent: appended to a SHA-256 hash chain, inside the caller's transaction."""

import hashlib
import json

from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEvent
from core.locking import check_constraints_now

GENESIS = "0" * 64
_CHAIN_LOCK_KEY = 0x52454644  # any constant; serialises appends to the chain on PostgreSQL


def _canonical(event: AuditEvent) -> bytes:
    body = {
        "at": event.at.isoformat(),
        "actor": event.actor_label,
        "verb": event.verb,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": event.before,
        "after": event.after,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _lock_chain() -> str:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Audit events are written inside the transaction of the change they record.")
    if connection.vendor == "postgresql":
        # The last lock a transaction takes (core/locking.py): its foreign-key checks lock their rows first.
        check_constraints_now()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
    last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    return last or GENESIS


def record_many(entries: list[dict]) -> list[AuditEvent]:
    """Append events (dicts with actor, verb, object_type, object_id, before, after) in order."""
    prev = _lock_chain()
    now = timezone.now()
    events = []
    for entry in entries:
        actor = entry.get("actor")
        event = AuditEvent(
            at=now,
            actor=actor,
            actor_label=actor.get_username() if actor is not None else "system",
            verb=entry["verb"],
            object_type=entry["object_type"],
            object_id=str(entry["object_id"]),
            before=entry.get("before") or {},
            after=entry.get("after") or {},
            prev_hash=prev,
        )
        event.hash = hashlib.sha256(_canonical(event)).hexdigest()
        prev = event.hash
        events.append(event)
    return AuditEvent.objects.bulk_create(events)


def record(*, actor, verb: str, obj, before: dict | None = None, after: dict | None = None) -> AuditEvent:
    """Append one event about `obj` (a model instance)."""
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


def verify_chain() -> int | None:
    """Walk the chain; return the id of the first event whose hash or link does not hold, or None."""
    prev = GENESIS
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != prev or hashlib.sha256(_canonical(event)).hexdigest() != event.hash:
            return event.id
        prev = event.hash
    return None
