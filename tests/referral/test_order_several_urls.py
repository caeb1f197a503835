"""One removal order naming several URLs of one platform (TCO Annex I, section B): the URLs approved together are
one order, one reference, one Annex I; each URL keeps its own referral and answer. The order's clock stays paused
while any of its URLs awaits the unit's clarification; a finding of infringement lapses every URL; the order page
and the Art 8 report count the order once."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from referral.actions import approval, withdrawal
from referral.models import Referral, RemovalOrder
from tests.conftest import ORDER
from tests.referral.test_removal_orders import propose

# On both databases: linking an order's referrals is one UPDATE on PostgreSQL and one per order on SQLite.
pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


@pytest.fixture
def order_of_three(analyst, supervisor, case, platform_a):
    ids = [propose(analyst, case, 200 + n).pk for n in range(3)]
    referrals = approval.item_approve_many(actor=supervisor, item_ids=ids, instrument="removal_order",
                                           order=ORDER)["referrals"]
    return RemovalOrder.objects.get(referrals=referrals[0]), sorted(referrals)


def clock(api, user, pk):
    return api(user).get(f"/api/v1/referrals/{pk}/").json()["clock"]


def test_the_clock_stays_paused_while_any_url_awaits_a_clarification(api, liaison_a, analyst, order_of_three):
    order, (a, b, c) = order_of_three
    client = api(liaison_a)
    r = client.post(f"/api/v1/referrals/{a}/status/", {"status": "cannot_execute", "reason": "insufficient_information",
                                                       "note": "Which minute of the video?"}, format="json")
    assert r.status_code == 200, r.content
    assert clock(api, liaison_a, a)["paused"] and clock(api, liaison_a, b)["paused"]  # the order's hour is paused
    r = client.post(f"/api/v1/referrals/{b}/status/", {"status": "removed"}, format="json")
    assert r.status_code == 200, r.content
    order.refresh_from_db()
    assert order.paused and order.paused_reason == "insufficient_information"  # a still waits for the unit
    assert clock(api, liaison_a, b) == {"due_at": r.json()["due_at"], "paused": False, "paused_reason": ""}
    assert clock(api, liaison_a, c)["paused"]  # still open: its hour is the order's
    before = timezone.now()
    withdrawal.referral_clarify(actor=analyst, referral_id=a, message="From 01:12 to 02:30.")
    order.refresh_from_db()
    assert not order.paused and not clock(api, liaison_a, c)["paused"]
    assert Referral.objects.get(pk=a).due_at >= before + timedelta(hours=1)


def test_a_finding_of_infringement_lapses_every_url_of_the_order(api, liaison_a, supervisor, order_of_three):
    order, (a, b, c) = order_of_three
    assert api(liaison_a).post(f"/api/v1/referrals/{c}/status/", {"status": "removed"},
                               format="json").status_code == 200
    r = api(supervisor).post(f"/api/v1/referrals/{b}/scrutiny/", {"decision": "infringement"}, format="json")
    assert r.status_code == 200, r.content
    statuses = dict(Referral.objects.filter(order=order).values_list("pk", "status"))
    assert statuses == {a: "withdrawn", b: "withdrawn", c: "removed"}  # removed content: the platform may reinstate
    assert RemovalOrder.objects.get(pk=order.pk).scrutiny_decision == "infringement"


def test_the_order_page_lists_every_url_and_the_record_of_each(browser, api, supervisor, liaison_a, order_of_three):
    order, (a, b, c) = order_of_three
    api(liaison_a).post(f"/api/v1/referrals/{b}/status/", {"status": "removed"}, format="json")
    page = browser(supervisor).get(f"/referrals/{c}/order/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "3 URLs in this order" in html and html.count(order.reference) >= 1
    for n, pk in enumerate((a, b, c)):
        assert f"https://tube.example/watch?v=ro{200 + n}" in html and f'href="/referrals/{pk}/"' in html
    assert "referral.removed" in html  # b's answer, in the record of the order opened from c
    liaison_page = browser(liaison_a).get(f"/referrals/{a}/order/")
    assert liaison_page.status_code == 200 and "3 URLs in this order" in liaison_page.content.decode()


def test_the_art_8_report_counts_an_order_once_as_its_urls_ended(api, liaison_a, supervisor, analyst, case,
                                                               platform_a):
    now = timezone.now()
    groups = []
    for start, size in ((300, 2), (310, 2), (320, 2)):
        ids = [propose(analyst, case, start + n).pk for n in range(size)]
        groups.append(approval.item_approve_many(actor=supervisor, item_ids=ids, instrument="removal_order",
                                                 order=ORDER)["referrals"])
    Referral.objects.filter(order__isnull=False).update(sent_at=now - timedelta(hours=2),
                                                        due_at=now - timedelta(hours=1))
    done, partly, declined = groups
    at = (now - timedelta(minutes=100)).isoformat()  # 20 minutes after receipt, within the hour
    rows = [{"id": pk, "status": "removed", "action_taken_at": at} for pk in done]
    rows += [{"id": partly[0], "status": "removed", "action_taken_at": at}]  # the other URL still awaits
    rows += [{"id": declined[0], "status": "removed", "action_taken_at": at}, {"id": declined[1], "status": "declined"}]
    r = api(liaison_a).post("/api/v1/referrals/status/", rows, format="json")
    assert [x["status_code"] for x in r.json()["results"]] == [200] * 5, r.content
    today = timezone.localdate().isoformat()
    report = api(supervisor).get("/api/v1/reports/tco/", {"from": today, "to": today}).json()
    with connection.cursor() as cursor:  # per order: every URL executed; any declined; any still awaited
        cursor.execute("""
            SELECT count(*), count(*) FILTER (WHERE executed = urls), count(*) FILTER (WHERE declined > 0),
                   count(*) FILTER (WHERE awaiting > 0)
            FROM (SELECT o.id, count(r.id) AS urls,
                         count(r.id) FILTER (WHERE r.status IN ('removed', 'restricted')) AS executed,
                         count(r.id) FILTER (WHERE r.status = 'declined') AS declined,
                         count(r.id) FILTER (WHERE r.status IN ('queued', 'sent', 'acknowledged', 'needs_info'))
                           AS awaiting
                  FROM referral_removalorder o JOIN referral_referral r ON r.order_id = o.id
                  GROUP BY o.id) per_order""")
        issued, executed, declined_sql, awaiting = cursor.fetchone()
    assert (report["issued"], report["executed"], report["declined"], report["awaiting"]) == (
        issued, executed, declined_sql, awaiting) == (3, 1, 1, 1)
    assert report["executed_within_hour"] == 1
    buckets = {b["bucket"]: b["orders"] for b in report["time_from_receipt_to_action"]}
    assert buckets["≤ 30 min"] == 1 and sum(buckets.values()) == 1
