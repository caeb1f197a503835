"""Signed checkpoints: deleting the newest events, or rewriting the whole chain from some event on with fresh
hashes (a forged approver), passes the chain's own walk but not its checkpoints; `verify_audit` says so and exits
non-zero; the nightly task raises an alert."""

import json
import logging

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from alerts.actions import audit_verify_and_alert
from alerts.models import Alert
from audit import chain, checkpoints
from audit.models import AuditCheckpoint, AuditEvent
from tests.conftest import make_user


def _write(n: int, actor=None, verb="test.event") -> list[AuditEvent]:
    with transaction.atomic():
        return chain.record_many([{"actor": actor, "verb": verb, "object_type": "item", "object_id": i,
                                   "after": {"n": i}} for i in range(n)])


def _sql(sql: str, params=()) -> None:
    """What the database's superuser could do, past the application and the append-only triggers (which, like
    every trigger, do not fire for a session replicating changes)."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql.format(table=AuditEvent._meta.db_table), params)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")


def _verify_command() -> tuple[int, str]:
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, err.getvalue()
    return 0, out.getvalue()


@pytest.mark.django_db
def test_a_checkpoint_signs_the_head_and_is_logged(caplog):
    _write(3)
    with caplog.at_level(logging.INFO, logger="audit.checkpoint"):
        checkpoint = checkpoints.checkpoint_write()
    assert checkpoint.seq == 3 and checkpoint.hash == AuditEvent.objects.get(seq=3).hash
    logged = [json.loads(r.getMessage()) for r in caplog.records if r.name == "audit.checkpoint"]
    assert logged == [{"event": "audit.checkpoint", "seq": 3, "hash": checkpoint.hash, "at": checkpoint.at.isoformat(),
                       "key_id": checkpoint.key_id, "signature": checkpoint.signature}]
    assert checkpoints.checkpoint_write() is None  # nothing new
    verdict = checkpoints.verify()
    assert verdict.ok and verdict.events == 3 and verdict.checkpoints == 1
    assert _verify_command() == (0, f"{verdict}\n")


@pytest.mark.django_db
def test_deleting_the_newest_events_fails_verification():
    _write(5)
    checkpoints.checkpoint_write()
    _sql("DELETE FROM {table} WHERE seq >= 4")
    assert chain.verify_chain() is None  # the chain alone cannot tell
    verdict = checkpoints.verify()
    assert not verdict.ok and "gone" in verdict.problem
    code, message = _verify_command()
    assert code == 1 and "checkpoint at event 5" in message


@pytest.mark.django_db
def test_rewriting_the_chain_from_some_event_on_fails_verification():
    analyst, supervisor = make_user("ana", "analyst"), make_user("sam", "supervisor")
    events = _write(4, actor=supervisor, verb="item.approved")
    checkpoints.checkpoint_write()
    # A forged approver: the actor changed on event 2, and every hash from there on recomputed.
    _sql("UPDATE {table} SET actor_id = %s, actor_label = %s WHERE id = %s", [analyst.id, "ana", events[1].id])
    prev = AuditEvent.objects.get(seq=1).hash
    for event in AuditEvent.objects.filter(seq__gte=2).order_by("seq"):
        event.prev_hash = prev
        prev = chain.event_hash(event)
        _sql("UPDATE {table} SET prev_hash = %s, hash = %s WHERE id = %s", [event.prev_hash, prev, event.id])
    assert chain.verify_chain() is None  # a consistent chain again
    verdict = checkpoints.verify()
    assert not verdict.ok and "rewritten" in verdict.problem and verdict.broken_event == events[3].id
    assert _verify_command()[0] == 1


@pytest.mark.django_db
def test_a_checkpoint_without_the_key_is_refused():
    _write(2)
    chain.seal()
    head = AuditEvent.objects.get(seq=2)
    AuditCheckpoint.objects.create(seq=2, hash=head.hash, at=head.at, key_id=checkpoints._key_id("guess"),
                                   signature="0" * 64)
    verdict = checkpoints.verify()
    assert not verdict.ok and "not configured" in verdict.problem
    AuditCheckpoint.objects.update(key_id=checkpoints._key_id(checkpoints.settings.AUDIT_SIGNING_KEY))
    verdict = checkpoints.verify()
    assert not verdict.ok and "bad signature" in verdict.problem


@pytest.mark.django_db
def test_checkpoints_signed_with_an_earlier_key_still_verify(settings):
    _write(2)
    settings.AUDIT_SIGNING_KEY = "first-key-" + "x" * 40
    checkpoints.checkpoint_write()
    settings.AUDIT_SIGNING_KEY, settings.AUDIT_SIGNING_OLD_KEYS = "second-key-" + "y" * 40, []
    assert not checkpoints.verify().ok
    settings.AUDIT_SIGNING_OLD_KEYS = ["first-key-" + "x" * 40]
    assert checkpoints.verify().ok


@pytest.mark.django_db
def test_since_checks_from_a_date_and_refuses_a_bad_one():
    _write(3)
    checkpoints.checkpoint_write()
    call_command("verify_audit", "--since", "2020-01-01")
    with pytest.raises(CommandError, match="not a date"):
        call_command("verify_audit", "--since", "yesterday")


@pytest.mark.django_db
def test_the_nightly_verification_raises_one_alert_when_the_trail_is_broken():
    events = _write(3)
    checkpoints.checkpoint_write()
    assert audit_verify_and_alert() is True and not Alert.objects.exists()
    _sql("UPDATE {table} SET after = %s WHERE id = %s", ['{"n": 7}', events[1].id])
    assert audit_verify_and_alert() is False
    assert audit_verify_and_alert() is False
    alert = Alert.objects.get(kind="audit_broken")
    assert f"event {events[1].id}" in alert.message
