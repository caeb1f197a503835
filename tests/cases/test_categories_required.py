"""A referral says why the content is terrorist content (TCO Art 2(7)): no category, no proposal, no approval.

Enforced in the actions (item_propose, item_propose_many, item_approve, item_approve_many), so the API (400 with a
`categories` field message), the bulk calls (that row refused with status 400, the others go on) and the pages (a
message) all answer the same.
"""

import pytest

from audit.models import AuditEvent
from cases.actions import assessment as assessment_actions
from cases.actions import items as item_actions
from cases.models import Item
from core.errors import InvalidInput
from referral.actions import approval
from referral.models import Referral

MESSAGE = "Give at least one category: why this is terrorist content (TCO Regulation Art 2(7))."


@pytest.fixture
def uncategorised(log):
    """log() → a logged item without a category."""
    return lambda: log(categories=[])


@pytest.fixture
def proposed_uncategorised(log, analyst):
    """A proposed item whose categories were then cleared by a new assessment (or predate the rule)."""

    def make():
        item = item_actions.item_propose(actor=analyst, item_id=log().pk)
        return assessment_actions.item_assess(actor=analyst, item_id=item.pk, categories=[])

    return make


def status(item) -> str:
    return Item.objects.get(pk=item.pk).status


# --- Actions --------------------------------------------------------------------------------------------


def test_propose_without_a_category_is_refused_and_changes_nothing(analyst, platform_a, uncategorised):
    item = uncategorised()
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as exc:
        item_actions.item_propose(actor=analyst, item_id=item.pk)
    assert exc.value.field_errors == {"categories": [MESSAGE]}
    assert status(item) == "logged" and AuditEvent.objects.count() == events


def test_propose_many_refuses_that_row_and_proposes_the_others(analyst, platform_a, log, uncategorised):
    good, bare = log(), uncategorised()
    result = item_actions.item_propose_many(actor=analyst, item_ids=[good.pk, bare.pk])
    assert result["done"] == [good.pk]
    [error] = result["errors"]
    assert (error["item"], error["status_code"]) == (bare.pk, 400) and "no category" in error["detail"]
    assert (status(good), status(bare)) == ("proposed", "logged")


def test_approve_without_a_category_is_refused(supervisor, platform_a, proposed_uncategorised):
    item = proposed_uncategorised()
    with pytest.raises(InvalidInput) as exc:
        approval.item_approve(actor=supervisor, item_id=item.pk)
    assert exc.value.field_errors == {"categories": [MESSAGE]}
    assert status(item) == "proposed" and not Referral.objects.filter(item=item).exists()


# --- API ------------------------------------------------------------------------------------------------


def test_api_propose_without_a_category_is_400_with_a_field_message(api, analyst, platform_a, uncategorised):
    item = uncategorised()
    res = api(analyst).post(f"/api/v1/items/{item.pk}/propose/", format="json")
    assert res.status_code == 400
    body = res.json()
    assert "no category" in body["detail"] and body["errors"] == {"categories": [MESSAGE]}
    assert status(item) == "logged"


def test_api_log_then_propose_without_categories(api, analyst, case, platform_a):
    client = api(analyst)
    res = client.post("/api/v1/items/", {"case": case.pk, "url": "https://tube.example/watch?v=bare",
                                         "kind": "post"}, format="json")
    assert res.status_code == 201 and res.json()["categories"] == []  # logging is fine; proposing is not
    assert client.post(f"/api/v1/items/{res.json()['id']}/propose/").status_code == 400


def test_api_approve_without_a_category_is_400(api, supervisor, platform_a, proposed_uncategorised):
    item = proposed_uncategorised()
    res = api(supervisor).post(f"/api/v1/items/{item.pk}/approve/", {"instrument": "referral"}, format="json")
    assert res.status_code == 400
    assert res.json()["errors"] == {"categories": [MESSAGE]}
    assert status(item) == "proposed" and not Referral.objects.filter(item=item).exists()


def test_api_bulk_approve_reports_that_row_and_approves_the_others(api, analyst, supervisor, platform_a, log,
                                                                   proposed_uncategorised):
    good = item_actions.item_propose(actor=analyst, item_id=log().pk)
    bare = proposed_uncategorised()
    res = api(supervisor).post("/api/v1/items/approve/", {"items": [good.pk, bare.pk]}, format="json")
    assert res.status_code == 200
    body = res.json()
    assert body["approved"] == [good.pk] and len(body["referrals"]) == 1
    [error] = body["errors"]
    assert (error["item"], error["status_code"]) == (bare.pk, 400) and "no category" in error["detail"]
    assert (status(good), status(bare)) == ("approved", "proposed")
    assert not Referral.objects.filter(item=bare).exists()


# --- Pages ----------------------------------------------------------------------------------------------


def test_queue_bulk_propose_says_which_item_has_no_category(browser, analyst, platform_a, log, uncategorised):
    good, bare = log(), uncategorised()
    res = browser(analyst).post("/queue/bulk/", {"action": "propose", "items": [good.pk, bare.pk]}, follow=True)
    text = res.content.decode()
    assert f"1 item proposed (item {good.pk})." in text
    assert f"1 refused: item {bare.pk}: Item {bare.pk} has no category" in text
    assert (status(good), status(bare)) == ("proposed", "logged")


def test_item_page_propose_shows_the_message(browser, analyst, platform_a, uncategorised):
    item = uncategorised()
    res = browser(analyst).post(f"/items/{item.pk}/propose/", {"next": f"/items/{item.pk}/"}, follow=True)
    assert res.redirect_chain == [(f"/items/{item.pk}/", 302)]
    text = res.content.decode()
    assert f"Item {item.pk} has no category" in text and "TCO Regulation Art 2(7)" in text
    assert "proposed for referral" not in text and status(item) == "logged"


def test_review_page_approve_shows_the_message(browser, supervisor, platform_a, proposed_uncategorised):
    item = proposed_uncategorised()
    res = browser(supervisor).post(f"/items/{item.pk}/approve/", {f"approve-{item.pk}-instrument": "referral"},
                                   follow=True)
    assert res.redirect_chain == [("/review/", 302)]
    text = res.content.decode()
    assert f"Item {item.pk} has no category" in text and f"Item {item.pk} approved" not in text
    assert status(item) == "proposed" and not Referral.objects.filter(item=item).exists()
