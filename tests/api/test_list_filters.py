"""The API's lists: every value of every filter, each alone and with the others, and every page (cursor pages of
two rows), for items, referrals (the unit and a liaison), deliveries, cases and platforms.

On SQLite too (the embedded database of `make run`): `make test` runs these on both databases."""

from datetime import UTC, datetime, timedelta
from itertools import product
from urllib.parse import urlencode

import pytest

from cases.actions import cases as case_actions
from cases.actions import items as item_actions
from cases.models import Case, Item, ItemStatus
from platforms.models import Platform
from referral.actions import approval
from referral.models import Delivery, DeliveryStatus, Referral, ReferralStatus
from tests.conftest import api_for, make_platform

pytestmark = pytest.mark.both_databases

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # whole seconds: on SQLite the stored text has no fraction then


def walk(client, path: str, params: dict) -> list[dict]:
    """Every row of the list, following `next` from a first page of two rows; each page answered 200."""
    query = urlencode({k: v for k, v in params.items() if v != ""} | {"page_size": 2})
    rows, url = [], f"{path}?{query}"
    for _ in range(100):
        res = client.get(url)
        assert res.status_code == 200, (url, res.content[:300])
        page = res.json()
        rows += page["results"]
        if not page["next"]:
            ids = [row["id"] for row in rows]
            assert len(ids) == len(set(ids)), f"{url}: a row on two pages"
            return rows
        url = page["next"]
    raise AssertionError(f"{path}?{query}: more than 100 pages")


def ids(rows) -> list:
    return [row["id"] for row in rows]


@pytest.fixture
def desk(analyst, supervisor, case, platform_a, platform_b):
    """Items in every status on two platforms (and none), in two cases; referrals in every status with known
    update times; deliveries in every status with known creation times."""
    other = case_actions.case_create(actor=analyst, title="Op Birch")
    statuses = iter(DeliveryStatus.values * 4)

    def approve(item_id):
        """Approve, and give the batch the approval opened its status (a later approval opens another one)."""
        approval.item_approve(actor=supervisor, item_id=item_id)
        Delivery.objects.filter(status="pending", attempts=0).update(status=next(statuses), attempts=1)

    hosts = ["tube.example/watch?v=", "chirp.example/u/x/status/", "unclaimed.example/p/"]
    for n in range(24):
        item = item_actions.item_log(actor=analyst, case=case if n % 3 else other, url=f"https://{hosts[n % 3]}{n}",
                                     kind="post", categories=[["threat"], ["incitement"]][n % 2])
        step = n % 8
        if step in (1, 2, 3, 4, 5) or (step == 6 and n % 3 != 2):
            item_actions.item_propose(actor=analyst, item_id=item.pk)
        if step == 2 and n % 3 != 2:
            approve(item.pk)
        elif step == 3:
            approval.item_return(actor=supervisor, item_id=item.pk, reason="More")
        elif step == 4:
            approval.item_reject(actor=supervisor, item_id=item.pk, reason="No")
        elif step == 7:
            item_actions.item_discard(actor=analyst, item_id=item.pk, reason="Gone")
        elif step == 0 and n:
            item_actions.item_hold(actor=analyst, item_id=item.pk, reason="Live op", requested_by="Op Juniper")
    for n in range(12):  # more referrals, so that each status has one
        item = item_actions.item_log(actor=analyst, case=case, url=f"https://{hosts[n % 2]}r{n}", kind="post",
                                     categories=["threat"])
        item_actions.item_propose(actor=analyst, item_id=item.pk)
        approve(item.pk)
    assert set(Item.objects.values_list("status", flat=True)) == set(ItemStatus.values)
    statuses = ReferralStatus.values
    for n, pk in enumerate(Referral.objects.order_by("id").values_list("id", flat=True)):
        Referral.objects.filter(pk=pk).update(status=statuses[n % len(statuses)],
                                              updated_at=T0 + n * timedelta(milliseconds=500))
    for n, pk in enumerate(Delivery.objects.order_by("created_at", "id").values_list("id", flat=True)):
        Delivery.objects.filter(pk=pk).update(created_at=T0 + n * timedelta(seconds=1, microseconds=250))
    assert set(Delivery.objects.values_list("status", flat=True)) == set(DeliveryStatus.values)
    return {"cases": [case.pk, other.pk]}


ITEM_FILTERS = {
    "status": ["", *ItemStatus.values],
    "platform": ["", "tube", "chirp", "nobody"],
}


def test_item_list_every_filter_value_alone_and_combined(analyst, desk):
    client = api_for(analyst)
    cases = ["", *(str(pk) for pk in desk["cases"]), "987654"]
    items = list(Item.objects.select_related("platform"))
    for status, platform, case in product(ITEM_FILTERS["status"], ITEM_FILTERS["platform"], cases):
        params = {"status": status, "platform": platform, "case": case}
        chosen = [i for i in items
                  if (not status or i.status == status)
                  and (not platform or (i.platform and i.platform.slug == platform))
                  and (not case or str(i.case_id) == case)]
        if status == ItemStatus.PROPOSED:  # Review's order: threat to life, priority, oldest proposal
            expected = [i.pk for i in sorted(chosen, key=lambda i: (-i.threat_to_life, -i.priority, i.proposed_at,
                                                                    i.pk))]
        else:
            expected = sorted((i.pk for i in chosen), reverse=True)
        assert ids(walk(client, "/api/v1/items/", params)) == expected, params
    assert len(walk(client, "/api/v1/items/", {})) == len(items)


@pytest.mark.parametrize("persona", ["analyst", "supervisor", "liaison_a", "liaison_b"])
def test_referral_list_every_status_and_updated_since(request, desk, persona):
    user = request.getfixturevalue(persona)
    client = api_for(user)
    referrals = [r for r in Referral.objects.all() if user.platform_id in (None, r.platform_id)]
    since = {
        "": None,
        "2026-03-01T12:00:00Z": T0,
        "2026-03-01T12:00:00.000001Z": T0 + timedelta(microseconds=1),
        "2026-03-01T12:00:00.500000Z": T0 + timedelta(milliseconds=500),
        "2026-03-01T13:00:03+01:00": T0 + timedelta(seconds=3),
        "2026-03-01T12:00:03.250+00:00": T0 + timedelta(seconds=3, milliseconds=250),
        "2099-01-01T00:00:00Z": datetime(2099, 1, 1, tzinfo=UTC),
    }
    for status, (raw, moment) in product(["", *ReferralStatus.values], since.items()):
        params = {"status": status, "updated_since": raw}
        expected = sorted((r.pk for r in referrals if (not status or r.status == status)
                           and (moment is None or r.updated_at >= moment)), reverse=True)
        rows = walk(client, "/api/v1/referrals/", params)
        assert ids(rows) == expected, params
        if user.platform_id:
            assert {row["platform"] for row in rows} <= {user.platform.slug}
    assert len(referrals) > 4


def test_delivery_list_every_status_and_platform(analyst, supervisor, admin_user, desk):
    deliveries = list(Delivery.objects.select_related("contact_point__platform"))
    for user in (analyst, supervisor, admin_user):
        client = api_for(user)
        for status, platform in product(["", *DeliveryStatus.values], ["", "tube", "chirp", "nobody"]):
            params = {"status": status, "platform": platform}
            chosen = [d for d in deliveries if (not status or d.status == status)
                      and (not platform or d.contact_point.platform.slug == platform)]
            expected = [str(d.pk) for d in sorted(chosen, key=lambda d: d.created_at, reverse=True)]
            assert ids(walk(client, "/api/v1/deliveries/", params)) == expected, params


def test_case_and_platform_lists_page_through_every_row(analyst, admin_user, desk):
    for n in range(5):
        case_actions.case_create(actor=analyst, title=f"Op {n}")
        make_platform(f"site{n}", [f"site{n}.example"])
    for user in (analyst, admin_user):
        client = api_for(user)
        cases = walk(client, "/api/v1/cases/", {})
        assert ids(cases) == sorted(Case.objects.values_list("id", flat=True), reverse=True)
        platforms = walk(client, "/api/v1/platforms/", {})
        assert ids(platforms) == sorted(Platform.objects.values_list("id", flat=True), reverse=True)


@pytest.mark.parametrize("path, query", [
    ("/api/v1/items/", "status=bogus"),
    ("/api/v1/items/", "case=abc"),
    ("/api/v1/referrals/", "status=bogus"),
    ("/api/v1/referrals/", "updated_since=yesterday"),
    ("/api/v1/deliveries/", "status=bogus"),
    ("/api/v1/items/", "cursor=garbage"),
    ("/api/v1/referrals/", "cursor=garbage"),
])
def test_bad_filter_or_cursor_is_a_400_not_a_500(analyst, path, query):
    assert api_for(analyst).get(f"{path}?{query}").status_code == 400
