"""The audit chain: writers insert events without a lock; the sealer chains them after commit; verification finds
an edited field (the actor's id included), a deleted event and a broken sequence."""

import threading

import pytest
from django.db import connection, connections, transaction

from audit import chain
from audit.models import AuditEvent
from platforms.models import Platform
from tests.conftest import make_user


def _write(n: int, verb="test.event", actor=None) -> list[AuditEvent]:
    with transaction.atomic():
        return chain.record_many([{"actor": actor, "verb": verb, "object_type": "platform", "object_id": i,
                                   "after": {"n": i}} for i in range(n)])


def _tamper(sql: str, params) -> None:
    """What the database's superuser could do, past the application and the append-only triggers (which, like
    every trigger, do not fire for a session replicating changes)."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql.format(table=AuditEvent._meta.db_table), params)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")


@pytest.mark.django_db
def test_events_are_written_unsealed_and_the_sealer_chains_them_in_order():
    written = _write(5)
    assert all(e.seq is None and e.hash is None for e in AuditEvent.objects.all())
    assert chain.seal() == 5
    sealed = list(AuditEvent.objects.order_by("seq"))
    assert [e.id for e in sealed] == [e.id for e in written]
    assert [e.seq for e in sealed] == [1, 2, 3, 4, 5]
    assert sealed[0].prev_hash == chain.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(sealed, sealed[1:], strict=False))
    assert chain.seal() == 0  # nothing new
    _write(2)
    assert chain.verify_chain() is None  # seals the two, then walks all seven
    assert AuditEvent.objects.filter(seq__isnull=True).count() == 0


@pytest.mark.django_db
def test_an_edited_field_of_a_middle_event_is_found():
    events = _write(5)
    chain.seal()
    _tamper("UPDATE {table} SET after = %s WHERE id = %s", ['{"n": 99}', events[2].id])
    assert chain.verify_chain() == events[2].id


@pytest.mark.django_db
def test_an_edited_actor_id_is_found():
    analyst = make_user("ana", "analyst")
    supervisor = make_user("sam", "supervisor")
    events = _write(3, actor=supervisor)
    chain.seal()
    # A forged approver: the actor's id changed, the name left as it was.
    _tamper("UPDATE {table} SET actor_id = %s WHERE id = %s", [analyst.id, events[1].id])
    assert chain.verify_chain() == events[1].id


@pytest.mark.django_db
def test_a_deleted_middle_event_is_found():
    events = _write(5)
    chain.seal()
    _tamper("DELETE FROM {table} WHERE id = %s", [events[2].id])
    assert chain.verify_chain() == events[3].id


@pytest.mark.django_db
def test_a_rewritten_hash_does_not_hide_an_edit_from_the_next_link():
    events = _write(4)
    chain.seal()
    forged = AuditEvent.objects.get(id=events[1].id)
    forged.after = {"n": 42}
    _tamper("UPDATE {table} SET after = %s, hash = %s WHERE id = %s",
            ['{"n": 42}', chain.event_hash(forged), events[1].id])
    assert chain.verify_chain() == events[2].id  # the next event's link no longer holds


@pytest.mark.django_db(transaction=True)
def test_events_need_the_transaction_of_their_change():
    with pytest.raises(RuntimeError):
        chain.record(actor=None, verb="test.event", obj=Platform(pk=1))


@pytest.mark.django_db(transaction=True)
def test_writers_do_not_wait_for_one_another():
    """Two transactions write audit events at once: the second commits while the first is still open (with the
    global advisory lock it used to wait for the first's COMMIT). The one committed later is sealed later."""
    first_wrote, second_done, release = threading.Event(), threading.Event(), threading.Event()
    errors, ids = [], {}

    def first():
        try:
            with transaction.atomic():
                ids["first"] = _write(1, verb="test.first")[0].id
                first_wrote.set()
                release.wait(10)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def second():
        try:
            first_wrote.wait(10)
            ids["second"] = _write(1, verb="test.second")[0].id
            second_done.set()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    committed_while_first_open = second_done.wait(5)
    assert chain.seal() == 1  # only the committed one
    release.set()
    for t in threads:
        t.join(15)
    assert not errors, errors
    assert committed_while_first_open, "the second writer waited for the first transaction"
    assert ids["first"] < ids["second"]
    assert chain.seal() == 1
    order = list(AuditEvent.objects.order_by("seq").values_list("verb", flat=True))
    assert order == ["test.second", "test.first"]  # sequence follows commits, not ids
    assert chain.verify_chain() is None
