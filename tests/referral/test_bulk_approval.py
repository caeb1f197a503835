"""Bulk approval (an action day's batch): a fixed number of statements whatever the number of items, and every
rule of a single approval per item: four-eyes, a category, an active contact point, content not already taken
down; referrals, outbox rows and audit events exactly as single approvals write them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from cases.models import Item
from platforms import services as platform_services
from referral.actions import approval
from referral.models import Delivery, Referral
from tests.conftest import INFORMED, ORDER, make_platform


def _proposed(case, analyst, platform, count, *, start=0, categories=("incitement",)):
    items = [Item(case=case, url=f"https://{platform.slug}.example/v/{start + i}",
                  canonical_url=f"https://{platform.slug}.example/v/{start + i}", platform=platform, kind="post",
                  categories=list(categories), status="proposed", logged_by=analyst, proposed_by=analyst)
             for i in range(count)]
    return [i.pk for i in Item.objects.bulk_create(items)]


def _approve_counting(supervisor, ids):
    with CaptureQueriesContext(connection) as queries:
        result = approval.item_approve_many(actor=supervisor, item_ids=ids)
    return result, len(queries.captured_queries)


def test_bulk_approval_costs_the_same_statements_for_3_items_as_for_300(case, analyst, supervisor):
    batched = platform_services.platform_create(
        actor=None, slug="vid", name="Vid", domains=["vid.example"],
        contact_points=[{"channel": "webhook", "endpoint": "http://127.0.0.1:9/a",
                         "secret": "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=", "max_items_per_message": 10},
                        {"channel": "webhook", "endpoint": "http://127.0.0.1:9/b",
                         "secret": "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=", "max_items_per_message": 1}])
    few, few_queries = _approve_counting(supervisor, _proposed(case, analyst, batched, 3))
    many, many_queries = _approve_counting(supervisor, _proposed(case, analyst, batched, 300, start=3))
    assert len(few["referrals"]) == 3 and len(many["referrals"]) == 300 and not many["errors"]
    assert many_queries == few_queries <= 20, (few_queries, many_queries)


@pytest.mark.django_db
def test_bulk_approval_query_count_is_pinned(case, analyst, supervisor, django_assert_max_num_queries):
    platform = make_platform("pix", ["pix.example"])
    ids = _proposed(case, analyst, platform, 500)
    # lock + read the items, contact points, taken-down lookup, the items' UPDATE, the referral ids, the open
    # batch and its size, the audit events, and the savepoint-free transaction around them; COPYs are not queries
    with django_assert_max_num_queries(12):
        result = approval.item_approve_many(actor=supervisor, item_ids=ids)
    assert len(result["approved"]) == 500


def test_bulk_approval_writes_what_single_approvals_write(case, analyst, supervisor, supervisor_2):
    platform = platform_services.platform_create(
        actor=None, slug="vid", name="Vid", domains=["vid.example"], legal=INFORMED,
        contact_points=[{"channel": "webhook", "endpoint": "http://127.0.0.1:9/a", "sla_hours": 12,
                         "secret": "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=", "max_items_per_message": 4}])
    ids = _proposed(case, analyst, platform, 10)
    own = _proposed(case, supervisor, platform, 1, start=10)  # proposed by the approving supervisor
    bare = _proposed(case, analyst, platform, 1, start=11, categories=[])
    result = approval.item_approve_many(actor=supervisor, item_ids=ids + own + bare + [999_999_999],
                                        instrument="removal_order", order=ORDER)
    assert result["approved"] == ids
    assert {e["item"]: e["status_code"] for e in result["errors"]} == {own[0]: 403, bare[0]: 400, 999_999_999: 404}
    referrals = list(Referral.objects.filter(item_id__in=ids).order_by("id"))
    assert [r.pk for r in referrals] == result["referrals"]
    assert [r.item_id for r in referrals] == ids
    assert {(r.status, r.instrument, r.platform_id, r.approved_by_id) for r in referrals} == {
        ("queued", "removal_order", platform.pk, supervisor.pk)}
    assert all(r.created_at and r.updated_at and r.due_at > r.created_at for r in referrals)
    assert set(Item.objects.filter(pk__in=ids).values_list("status", "decided_by_id")) == {("approved", supervisor.pk)}
    assert set(Item.objects.filter(pk__in=own + bare).values_list("status", flat=True)) == {"proposed"}
    deliveries = list(Delivery.objects.filter(referrals__in=referrals).distinct().order_by("created_at"))
    assert sorted(d.referrals.count() for d in deliveries) == [2, 4, 4]
    assert {(d.status, d.attempts, d.payload) for d in deliveries} == {("pending", 0, None)}
    events = AuditEvent.objects.filter(actor=supervisor)
    assert events.filter(verb="item.approved").count() == 10
    assert set(events.filter(verb="referral.queued").values_list("object_id", flat=True)) == {
        str(r.pk) for r in referrals}
    queued = events.filter(verb="delivery.queued")
    assert {e.object_id: sorted(e.after["referrals"]) for e in queued} == {
        str(d.pk): sorted(d.referrals.values_list("id", flat=True)) for d in deliveries}
    # An item whose content another referral already got removed is not referred again.
    Referral.objects.filter(pk=referrals[0].pk).update(status="removed")
    again = _proposed(case, analyst, platform, 1)  # the same canonical URL as ids[0]
    second = approval.item_approve_many(actor=supervisor_2, item_ids=again)
    assert second["approved"] == [] and second["errors"][0]["status_code"] == 409
    assert "already removed" in second["errors"][0]["detail"]


def test_bulk_approval_fills_an_open_batch_first(case, analyst, supervisor, settings):
    settings.DELIVERY_BATCH_WINDOW_SECONDS = 60  # the second approval comes within the window, however slow the machine
    platform = platform_services.platform_create(
        actor=None, slug="vid", name="Vid", domains=["vid.example"],
        contact_points=[{"channel": "webhook", "endpoint": "http://127.0.0.1:9/a",
                         "secret": "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=", "max_items_per_message": 5}])
    first = approval.item_approve_many(actor=supervisor, item_ids=_proposed(case, analyst, platform, 3))
    second = approval.item_approve_many(actor=supervisor, item_ids=_proposed(case, analyst, platform, 4, start=3))
    deliveries = Delivery.objects.order_by("created_at")
    assert [d.referrals.count() for d in deliveries] == [5, 2]
    joined = AuditEvent.objects.get(verb="delivery.joined")
    assert joined.object_id == str(deliveries[0].pk) and joined.after == {"referrals": second["referrals"][:2]}
    assert len(first["referrals"]) == 3
