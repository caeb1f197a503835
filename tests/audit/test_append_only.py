"""The database refuses to change or remove audit events (audit/migrations/0004_append_only.py), whoever asks:
the ORM, raw SQL, the admin's queryset. The sealer's one write of an event's sequence number and hashes is the
only UPDATE it lets through."""

import pytest
from django.db import DatabaseError, connection, transaction

from audit import chain
from audit.models import AuditEvent


def _write(n: int) -> list[AuditEvent]:
    with transaction.atomic():
        return chain.record_many([{"actor": None, "verb": "test.event", "object_type": "item", "object_id": i}
                                  for i in range(n)])


def _refused(statement) -> str:
    with pytest.raises(DatabaseError) as caught, transaction.atomic():
        statement()
    return str(caught.value)


def _raw(sql: str, params=()):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql.format(table=AuditEvent._meta.db_table), params)
    return run


@pytest.mark.django_db
def test_events_cannot_be_edited_or_deleted_but_the_sealer_seals_them_once():
    events = _write(3)
    assert chain.seal() == 3  # the sealer's UPDATE passes
    assert "append-only: UPDATE" in _refused(lambda: AuditEvent.objects.filter(id=events[0].id).update(verb="x"))
    assert "append-only: UPDATE" in _refused(_raw("UPDATE {table} SET after = '{{}}'::jsonb WHERE id = %s",
                                                  [events[1].id]))
    # Not even the sealer's columns, once set: a second seal of an event is refused.
    assert "append-only: UPDATE" in _refused(lambda: AuditEvent.objects.filter(id=events[2].id).update(seq=99))
    assert "append-only: DELETE" in _refused(lambda: AuditEvent.objects.filter(id=events[0].id).delete())
    assert "append-only: DELETE" in _refused(_raw("DELETE FROM {table}"))
    assert AuditEvent.objects.count() == 3 and chain.verify_chain() is None


@pytest.mark.django_db
def test_an_unsealed_event_cannot_be_changed_while_it_waits_for_the_sealer():
    event = _write(1)[0]
    assert "append-only: UPDATE" in _refused(
        lambda: AuditEvent.objects.filter(id=event.id).update(after={"forged": True}))
    # Nor sealed with other content: the sealer's write must leave every other field as it was.
    assert "append-only: UPDATE" in _refused(
        lambda: AuditEvent.objects.filter(id=event.id).update(seq=1, prev_hash="0" * 64, hash="f" * 64, verb="x"))


@pytest.mark.django_db(transaction=True)
def test_truncate_is_refused_outside_the_test_databases_flushes():
    _write(1)
    with connection.cursor() as cursor:
        cursor.execute("SET audit.allow_truncate = 'off'")
    try:
        assert "append-only: TRUNCATE" in _refused(_raw("TRUNCATE {table} CASCADE"))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET audit.allow_truncate = 'on'")
    assert AuditEvent.objects.count() == 1
