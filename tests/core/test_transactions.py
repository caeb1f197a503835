"""core/transactions.py: a workflow transaction that PostgreSQL aborts as a deadlock victim (40P01) or for a
serialization failure (40001) runs again as a whole, a bounded number of times, then answers 503."""

import logging
import threading

import pytest
from django.db import DatabaseError, IntegrityError, OperationalError, connections, transaction

from audit import chain as audit
from audit.chain import verify_chain
from audit.models import AuditEvent
from core.errors import Busy
from core.transactions import conflict_of, retry_on_conflict
from platforms.models import Platform
from referral.actions import approval


class DriverError(Exception):
    def __init__(self, pgcode):
        super().__init__(pgcode)
        self.pgcode = pgcode


def _wrapped(pgcode) -> OperationalError:
    """What Django raises for a driver error: its own class, the driver's error as the cause."""
    try:
        raise OperationalError("conflict") from DriverError(pgcode)
    except OperationalError as exc:
        return exc


def test_conflicts_are_recognised_by_their_sqlstate():
    assert conflict_of(_wrapped("40P01")) == "deadlock"
    assert conflict_of(_wrapped("40001")) == "serialization failure"
    assert conflict_of(_wrapped("23505")) is None
    assert conflict_of(OperationalError("server closed the connection unexpectedly")) is None


@pytest.mark.django_db
def test_a_conflict_is_retried_and_other_errors_are_not(monkeypatch):
    monkeypatch.setattr("core.transactions.time.sleep", lambda seconds: None)
    calls = []

    @retry_on_conflict(attempts=3)
    def flaky():
        calls.append(1)
        with transaction.atomic():
            if len(calls) < 3:
                raise _wrapped("40P01")
        return "done"

    assert flaky() == "done" and len(calls) == 3

    @retry_on_conflict
    def broken():
        calls.append(1)
        raise IntegrityError("duplicate key")

    calls.clear()
    with pytest.raises(IntegrityError):
        broken()
    assert len(calls) == 1


@pytest.mark.django_db
def test_the_last_conflict_is_a_503_with_nothing_saved(monkeypatch):
    monkeypatch.setattr("core.transactions.time.sleep", lambda seconds: None)
    platform = Platform.objects.create(slug="p", name="P")

    @retry_on_conflict(attempts=2)
    def always():
        with transaction.atomic():
            Platform.objects.filter(pk=platform.pk).update(name="changed")
            raise _wrapped("40001")

    with pytest.raises(Busy) as caught:
        always()
    assert caught.value.status_code == 503
    assert Platform.objects.get(pk=platform.pk).name == "P"


@pytest.mark.django_db
def test_inside_a_callers_transaction_the_caller_retries(monkeypatch):
    calls = []

    @retry_on_conflict
    def inner():
        calls.append(1)
        raise _wrapped("40P01")

    with pytest.raises(OperationalError), transaction.atomic():
        inner()
    assert len(calls) == 1


@pytest.mark.django_db
def test_the_api_answers_busy_with_503_and_json(api, supervisor, monkeypatch):
    def busy(**kwargs):
        raise Busy("The database is busy and could not save this change; nothing was changed.")

    monkeypatch.setattr(approval, "item_approve", busy)
    res = api(supervisor).post("/api/v1/items/1/approve/", {}, format="json")
    assert res.status_code == 503
    assert res.json() == {"detail": "The database is busy and could not save this change; nothing was changed.",
                          "errors": {}}
    assert res["Retry-After"] == "1"


def _opposite_order(attempts: int, *, outer: bool = False):
    """Two threads, each on its own connection, lock two platform rows in opposite order: a real deadlock.

    Each attempt renames its first row and registers an on_commit callback before it asks for the second row,
    and writes an audit event after. Returns (results by thread, attempts by thread, callbacks run)."""
    a = Platform.objects.create(slug="a", name="A")
    b = Platform.objects.create(slug="b", name="B")
    both_hold_one = threading.Barrier(2, timeout=10)
    tries, committed, results = {}, [], {}

    @retry_on_conflict(attempts=attempts)
    def lock_both(name, first, second):
        tries[name] = tries.get(name, 0) + 1
        with transaction.atomic():
            row = Platform.objects.select_for_update(no_key=True).get(pk=first.pk)
            row.name = f"{row.name} by {name}"
            row.save(update_fields=["name"])
            transaction.on_commit(lambda: committed.append(name))
            if tries[name] == 1:
                both_hold_one.wait()
            Platform.objects.select_for_update(no_key=True).get(pk=second.pk)
            audit.record(actor=None, verb="platform.renamed", obj=row, after={"by": name})
        return "ok"

    def run(name, first, second):
        try:
            if outer:
                with transaction.atomic():
                    results[name] = lock_both(name, first, second)
            else:
                results[name] = lock_both(name, first, second)
        except (Busy, DatabaseError) as exc:
            results[name] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=("one", a, b)), threading.Thread(target=run, args=("two", b, a))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results, tries, committed


@pytest.mark.django_db(transaction=True)
def test_a_real_deadlock_is_retried_once_without_duplicates(caplog):
    caplog.set_level(logging.INFO, logger="core.transactions")
    results, tries, committed = _opposite_order(attempts=3)
    assert results == {"one": "ok", "two": "ok"}
    assert sorted(tries.values()) == [1, 2]  # the deadlock victim ran again, once
    assert any("deadlock on attempt 1 of 3; retrying" in r.getMessage() for r in caplog.records)
    assert sorted(committed) == ["one", "two"]  # one nudge per call, none from the rolled-back attempt
    assert AuditEvent.objects.filter(verb="platform.renamed").count() == 2
    assert set(Platform.objects.values_list("name", flat=True)) == {"A by one", "B by two"}
    assert verify_chain() is None


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_on_the_last_attempt_is_busy():
    results, tries, committed = _opposite_order(attempts=1)
    [victim] = [name for name, result in results.items() if isinstance(result, Busy)]
    [winner] = [name for name, result in results.items() if result == "ok"]
    assert committed == [winner]
    assert list(AuditEvent.objects.filter(verb="platform.renamed").values_list("after", flat=True)) == [
        {"by": winner}]
    assert victim != winner and tries == {"one": 1, "two": 1}


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_inside_a_callers_transaction_goes_up_to_the_caller():
    results, tries, _ = _opposite_order(attempts=3, outer=True)
    assert tries == {"one": 1, "two": 1}
    errors = [result for result in results.values() if isinstance(result, DatabaseError)]
    assert len(errors) == 1 and conflict_of(errors[0]) == "deadlock"
