"""Signed checkpoints of the audit chain's head, and the verification of chain and checkpoints together.

The chain alone (audit/chain.py) finds an edited or deleted event in the middle, but someone able to write the
database could delete the newest events, or rewrite the whole chain from some event on with fresh hashes. A
checkpoint records the head (sequence number and hash) with an HMAC under AUDIT_SIGNING_KEY, which lives in the
environment and never in the database, and is also logged (logger `audit.checkpoint`) outside it. Verification
then also requires every checkpoint's signature to hold and the event it names to exist with that very hash.
Deleting a checkpoint as well as the events it covers is not seen from the database alone: the log lines are
the record for that case (docs/operations.md).
"""

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit import chain
from audit.models import AuditCheckpoint, AuditEvent

log = logging.getLogger("audit.checkpoint")


def _key_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _signature(key: str, seq: int, head: str, at: datetime) -> str:
    message = f"audit-checkpoint:v1:{seq}:{head}:{at.isoformat()}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def _keys() -> dict[str, str]:
    """The signing key and the earlier ones that still verify (key rotation), by key id."""
    keys = [settings.AUDIT_SIGNING_KEY, *settings.AUDIT_SIGNING_OLD_KEYS]
    return {_key_id(k): k for k in keys if k}


_CHECKPOINT_LOCK_KEY = 0x41434B50  # "ACKP": audit checkpoint writers


def checkpoint_write() -> AuditCheckpoint | None:
    """Seal pending events, then sign and store the head (and log it); None when nothing new since the last."""
    chain.seal()
    head = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", "hash").first()
    if head is None:
        return None
    seq, head_hash = head
    key = settings.AUDIT_SIGNING_KEY
    at = timezone.now()
    with transaction.atomic():
        # One writer at a time. An advisory lock, not FOR UPDATE: the app's database role may only INSERT and
        # SELECT checkpoints (audit/management/commands/grant_app_role.py), and FOR UPDATE needs UPDATE.
        connection = transaction.get_connection()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHECKPOINT_LOCK_KEY])
        last = AuditCheckpoint.objects.order_by("-seq").first()
        if last is not None and last.seq >= seq:
            return None
        checkpoint = AuditCheckpoint.objects.create(seq=seq, hash=head_hash, at=at, key_id=_key_id(key),
                                                    signature=_signature(key, seq, head_hash, at))
    log.info(json.dumps({"event": "audit.checkpoint", "seq": seq, "hash": head_hash, "at": at.isoformat(),
                         "key_id": checkpoint.key_id, "signature": checkpoint.signature}, sort_keys=True))
    return checkpoint


@dataclass
class Verdict:
    ok: bool
    events: int  # events walked
    checkpoints: int  # checkpoints checked
    broken_event: int | None = None  # id of the first event that does not hold
    problem: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.events} events and {self.checkpoints} signed checkpoints verified"
        where = f"event {self.broken_event}: " if self.broken_event is not None else ""
        return f"audit chain BROKEN at {where}{self.problem}"


def verify(*, since: datetime | None = None) -> Verdict:
    """Seal what is pending, walk the chain in sequence order (from the first event at or after `since`, trusting
    the link into it) and check every checkpoint (from `since` on): its signature, and that the event it names
    exists with its hash."""
    chain.seal()
    events = AuditEvent.objects.filter(seq__isnull=False).order_by("seq")
    start = None
    if since is not None:
        start = events.filter(at__gte=since).values_list("seq", "prev_hash").first()
    prev, expected = (start[1], start[0]) if start else (chain.GENESIS, 1)
    walked = 0
    for event in events.filter(seq__gte=expected).iterator(chunk_size=2000):
        if event.seq != expected:
            return Verdict(False, walked, 0, event.id, f"sequence number {event.seq}, expected {expected} "
                                                       f"(events missing before it)")
        if event.prev_hash != prev:
            return Verdict(False, walked, 0, event.id, "its link to the previous event does not hold")
        if chain.event_hash(event) != event.hash:
            return Verdict(False, walked, 0, event.id, "its content does not match its hash (edited)")
        prev, expected, walked = event.hash, expected + 1, walked + 1
    keys = _keys()
    checkpoints = AuditCheckpoint.objects.order_by("seq")
    if since is not None:
        checkpoints = checkpoints.filter(at__gte=since)
    checked = 0
    for checkpoint in checkpoints.iterator():
        key = keys.get(checkpoint.key_id)
        if key is None:
            return Verdict(False, walked, checked, None, f"checkpoint at event {checkpoint.seq} was signed with a "
                           f"key not configured here (key id {checkpoint.key_id}; set AUDIT_SIGNING_OLD_KEYS)")
        good = _signature(key, checkpoint.seq, checkpoint.hash, checkpoint.at)
        if not hmac.compare_digest(good, checkpoint.signature):
            return Verdict(False, walked, checked, None, f"checkpoint at event {checkpoint.seq}: bad signature")
        event = AuditEvent.objects.filter(seq=checkpoint.seq).values_list("id", "hash").first()
        if event is None:
            return Verdict(False, walked, checked, None, f"checkpoint at event {checkpoint.seq}: that event is "
                           "gone (events covered by a signed checkpoint were deleted)")
        if event[1] != checkpoint.hash:
            return Verdict(False, walked, checked, event[0], f"the chain was rewritten: checkpoint at event "
                           f"{checkpoint.seq} signed another hash")
        checked += 1
    return Verdict(True, walked, checked)
