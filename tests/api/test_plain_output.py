"""The API's hot paths answer with plain functions (cases/serializers.py, referral/api/serializers.py) instead of
DRF serializers: their JSON must stay exactly what the serializers (still the schema's description) give. And each
hot path costs a fixed number of queries, pinned here so it cannot quietly regress (its speed is in bench/)."""

import pytest
from django.utils import timezone

from cases import serializers as case_s
from cases.actions import items as item_actions
from cases.models import Item
from cases.selectors import items_for, referral_ids_by_item
from referral.actions import approval, outcomes
from referral.api import serializers as referral_s
from referral.models import Referral
from referral.selectors import referrals_for


def _items(case, analyst, supervisor, platform_a):
    plain = item_actions.item_log(actor=analyst, case=case, url="https://tube.example/watch?v=one", kind="post",
                                  categories=["incitement", "threat"], language="ar", notes="seen twice")
    unknown = item_actions.item_log(actor=analyst, case=case, url="https://nowhere.example/x", kind="website")
    duplicate = item_actions.item_log(actor=analyst, case=case, url="https://www.tube.example/watch?v=one",
                                      kind="post")
    referred = item_actions.item_log(actor=analyst, case=case, url="https://tube.example/watch?v=two", kind="post",
                                     categories=["incitement"])
    item_actions.item_propose(actor=analyst, item_id=referred.pk)
    approval.item_approve(actor=supervisor, item_id=referred.pk)
    return [plain, unknown, duplicate, referred]


@pytest.mark.django_db
def test_item_json_equals_the_serializer(case, analyst, supervisor, platform_a, admin_user):
    items = _items(case, analyst, supervisor, platform_a)
    assert items[2].duplicate_of_id == items[0].pk and items[1].platform_id is None
    for item in items:
        expected = case_s.ItemOut(items_for(admin_user).get(pk=item.pk)).data
        row = Item.objects.filter(pk=item.pk).values(*case_s.ITEM_FIELDS).get()
        assert case_s.item_row_json(row, referral_ids_by_item([item.pk]).get(item.pk, [])) == expected
        fresh = Item.objects.get(pk=item.pk)
        assert case_s.item_json(fresh) == expected
    assert case_s.ItemOut(items_for(admin_user).get(pk=items[3].pk)).data["referrals"]  # one case with referrals


@pytest.mark.django_db
def test_referral_json_equals_the_serializer(approved_referral, liaison_a):
    outcomes.referral_record_status(actor=liaison_a, referral_id=approved_referral.pk, status="removed",
                                    platform_reference="T-1", note="gone",
                                    action_taken_at=timezone.now() - timezone.timedelta(minutes=3))
    expected = referral_s.ReferralOut(referrals_for(liaison_a).get(pk=approved_referral.pk)).data
    assert expected["action_taken_at"] and expected["outcome_at"]
    row = Referral.objects.filter(pk=approved_referral.pk).values(*referral_s.REFERRAL_FIELDS).get()
    assert referral_s.referral_row_json(row) == expected
    fresh = Referral.objects.select_related("item").get(pk=approved_referral.pk)
    assert referral_s.referral_json(fresh, "tube") == expected


# Query counts of the hot paths, authentication included (the key and its user come from the Redis cache after
# the first request: each test warms it with one request first).

@pytest.mark.django_db
def test_item_create_and_read_queries(api, analyst, case, platform_a, django_assert_max_num_queries):
    client = api(analyst)
    client.post("/api/v1/items/", {"case": case.pk, "url": "https://tube.example/watch?v=q0", "kind": "post"},
                format="json")  # warms the key cache and the platform directory
    # the case, savepoint, the duplicate check, INSERT item, INSERT audit, release
    with django_assert_max_num_queries(6):
        r = client.post("/api/v1/items/", {"case": case.pk, "url": "https://tube.example/watch?v=q1", "kind": "post",
                                           "categories": ["incitement"]}, format="json")
    assert r.status_code == 201, r.content
    item_id = r.json()["id"]
    with django_assert_max_num_queries(1):  # the item (a logged item has no referrals to read)
        assert client.get(f"/api/v1/items/{item_id}/").status_code == 200


@pytest.mark.django_db
def test_item_list_queries_do_not_grow_with_the_page(api, analyst, supervisor, case, platform_a,
                                                     django_assert_max_num_queries):
    _items(case, analyst, supervisor, platform_a)
    client = api(analyst)
    client.get("/api/v1/items/?case=0")
    for i in range(60):
        item_actions.item_log(actor=analyst, case=case, url=f"https://tube.example/watch?v=l{i}", kind="post")
    with django_assert_max_num_queries(2):  # the page, its referrals' ids
        r = client.get(f"/api/v1/items/?case={case.pk}")
    assert r.status_code == 200 and len(r.json()["results"]) == 50 and r.json()["next"]


@pytest.mark.django_db
def test_propose_and_approve_queries(api, analyst, supervisor, case, platform_a, django_assert_max_num_queries):
    item = item_actions.item_log(actor=analyst, case=case, url="https://tube.example/watch?v=p1", kind="post",
                                 categories=["incitement"])
    analyst_client, supervisor_client = api(analyst), api(supervisor)
    analyst_client.get("/api/v1/items/?case=0")
    supervisor_client.get("/api/v1/items/?case=0")
    with django_assert_max_num_queries(5):
        r = analyst_client.post(f"/api/v1/items/{item.pk}/propose/")
    assert r.status_code == 200 and r.json()["status"] == "proposed"
    with django_assert_max_num_queries(9):
        r = supervisor_client.post(f"/api/v1/items/{item.pk}/approve/", {}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "approved" and len(r.json()["referrals"]) == 1


@pytest.mark.django_db
def test_liaison_list_and_status_queries(api, liaison_a, approved_referral, django_assert_max_num_queries):
    client = api(liaison_a)
    client.get("/api/v1/referrals/")
    with django_assert_max_num_queries(2):  # the page, the desk's own liveness checks of its referrals
        r = client.get("/api/v1/referrals/")
    assert r.status_code == 200 and [x["id"] for x in r.json()["results"]] == [approved_referral.pk]
    # savepoint, the referral and its item, UPDATE, INSERT audit, release, and the answer's liveness
    with django_assert_max_num_queries(6):
        r = client.post(f"/api/v1/referrals/{approved_referral.pk}/status/", {"status": "acknowledged"},
                        format="json")
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"


def test_the_item_api_may_read_referrals_of_approved_items_only():
    """cases/api.py reads referral ids only for approved rows: that holds while approval is final."""
    from cases.actions.items import ITEM_ALLOWED
    from cases.models import ItemStatus

    assert ITEM_ALLOWED[ItemStatus.APPROVED] == set()
    assert all(ItemStatus.APPROVED not in targets for status, targets in ITEM_ALLOWED.items()
               if status != ItemStatus.PROPOSED)
