"""A case's counts (CaseCount, kept by triggers on the items) say what counting the items says, whatever wrote them;
and the case page and the queue cost a fixed number of queries."""

import pytest
from django.db import connection

from cases import case_page
from cases.actions import cases as case_actions
from cases.actions import items as item_actions
from cases.models import Case, Item

# The triggers are PostgreSQL's (the tests of the counts run there only, never skipped); the page's summary and query
# counts run on SQLite too (counted in Python there).


def counted_from_items(case) -> dict:
    """case_summary on a case read without its counts: it counts the items themselves."""
    return case_page.case_summary(Case.objects.get(pk=case.pk))


def kept(analyst, case) -> dict:
    return case_page.case_summary(case_page.case_with_summary(analyst, case.pk))


def same(analyst, *cases):
    for case in cases:
        counted, summary = counted_from_items(case), kept(analyst, case)
        assert summary["status"] == counted["status"] and summary["category"] == counted["category"]
        assert sorted(summary["platform"]) == sorted(counted["platform"])
        assert summary["total"] == counted["total"] and summary["no_platform"] == counted["no_platform"]


def test_counts_follow_every_kind_of_write(analyst, case, log, platform_a, platform_b):
    other = case_actions.case_create(actor=analyst, title="Another")
    items = [log(f"https://tube.example/watch?v=c{n}", categories=["threat", "incitement"][: 1 + n % 2])
             for n in range(6)]
    log("https://chirp.example/p/1", categories=["instruction"])
    log("https://unclaimed.example/x", categories=[])
    same(analyst, case, other)
    item_actions.item_discard(actor=analyst, item_id=items[0].pk, reason="Gone")  # one item, through the workflow
    same(analyst, case)
    Item.objects.filter(pk__in=[i.pk for i in items[1:3]]).update(status="proposed")  # a bulk UPDATE
    Item.objects.filter(pk=items[3].pk).update(categories=["threat", "threat", "solicitation"])
    Item.objects.filter(pk=items[4].pk).update(platform=platform_b)
    Item.objects.filter(pk=items[4].pk).update(language="fr")  # nothing counted changes
    same(analyst, case)
    Item.objects.filter(pk__in=[i.pk for i in items[4:]]).update(case=other)  # moved: out of one, into the other
    same(analyst, case, other)
    with connection.cursor() as cursor:  # many rows in one raw statement, as COPY and bulk loads write them
        cursor.execute(
            "INSERT INTO cases_item (case_id, url, canonical_url, platform_id, kind, categories, language, notes, "
            "status, logged_by_id, decision_reason, severity, confidence, priority, threat_to_life, hold_reason, "
            "hold_requested_by, held_from_status, first_seen_at, updated_at) "
            "SELECT %s, 'https://x.example/' || n, 'https://x.example/' || n, NULL, 'post', '[\"threat\"]', '', '', "
            "'logged', %s, '', 0, 0, 0, false, '', '', '', now(), now() FROM generate_series(1, 40) AS n",
            [other.pk, analyst.pk])
    same(analyst, case, other)
    Item.objects.filter(url__startswith="https://x.example/").delete()
    same(analyst, case, other)
    assert kept(analyst, other)["total"] == 2


@pytest.mark.both_databases
def test_the_case_page_costs_a_fixed_number_of_queries(browser, analyst, case, log, django_assert_num_queries):
    for n in range(55):  # more than a page
        log(f"https://tube.example/watch?v=q{n}", categories=["threat"])
    client = browser(analyst)
    # user (the session is read from Redis), the case with its summary and people, the log form's platforms, the
    # items, their referrals, the timeline, the staff to assign the case to, the header's notification count; on
    # SQLite the summary counts the items: one more
    with django_assert_num_queries(8 if connection.vendor == "postgresql" else 9):
        res = client.get(f"/cases/{case.pk}/")
    assert res.status_code == 200 and res.content.decode().count('<tr id="item-') == 50


@pytest.mark.both_databases
def test_the_queue_costs_a_fixed_number_of_queries(browser, analyst, supervisor, log, django_assert_num_queries):
    for n in range(55):
        log(f"https://tube.example/watch?v=w{n}", categories=["threat"])
    # user (the session is read from Redis), the three choice lists (one query), the page's keys, its rows, the
    # notification count; a supervisor's page also the alerts banner, the manual-task count and the check of the
    # second factor's device
    for user, queries in ((analyst, 5), (supervisor, 8)):
        client = browser(user)
        with django_assert_num_queries(queries):
            res = client.get("/queue/?status=all&sort=priority")
        assert res.status_code == 200 and res.content.decode().count('<tr id="q-item-') == 50


@pytest.mark.django_db(transaction=True)
def test_two_sessions_writing_one_case_do_not_wait_for_each_other(analyst, case, log):
    """Each session adds to its own shard of the counts: a second writer to the case is not held until the first
    commits (it was, on one counter row per key), and the sums stay right."""
    import psycopg2

    first, second = log("https://tube.example/watch?v=s1"), log("https://tube.example/watch?v=s2")
    params = connection.get_connection_params()
    sessions = []
    while len({pid % 16 for _, pid in sessions}) < 2:  # two sessions on different shards (a pid collision is 1/16)
        conn = psycopg2.connect(**params)
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        if all(pid % 16 != other % 16 for _, other in sessions):
            sessions.append((conn, pid))
        else:
            conn.close()
    (one, _), (two, _) = sessions
    try:
        with one.cursor() as cursor:  # holds its rows (and its shard's count rows) until it commits
            cursor.execute("UPDATE cases_item SET status = 'proposed' WHERE id = %s", [first.pk])
        with two.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
            cursor.execute("UPDATE cases_item SET status = 'proposed' WHERE id = %s", [second.pk])  # no wait
        two.commit()
        one.commit()
    finally:
        one.close()
        two.close()
    same(analyst, case)
    assert kept(analyst, case)["status"] == {"proposed": 2}
