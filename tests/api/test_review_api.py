"""The supervisor's review over the API (issue 9): `GET /api/v1/items/?status=proposed` in Review's order (threat
to life, then priority, then the oldest proposal), paged by cursor; bulk return and reject answering per item like
bulk approval."""

import pytest

from audit.models import AuditEvent
from cases.actions import assessment as assessment_actions
from cases.actions import items as item_actions
from cases.models import Item


def _log(analyst, case, n, **assessment):
    item = item_actions.item_log(actor=analyst, case=case, url=f"https://tube.example/watch?v=rev{n}", kind="post",
                                 categories=["incitement"])
    if assessment:
        assessment_actions.item_assess_fields(actor=analyst, item_id=item.pk, changes=assessment)
    return item


def _propose(analyst, item):
    return item_actions.item_propose(actor=analyst, item_id=item.pk)


@pytest.mark.django_db
def test_proposed_items_come_threat_to_life_first_then_priority_then_oldest_proposal(api, analyst, case,
                                                                                     platform_a, supervisor):
    low_old = _log(analyst, case, 1, severity=1, confidence=1)
    high = _log(analyst, case, 2, severity=7, confidence=3)
    low_new = _log(analyst, case, 3, severity=1, confidence=1)
    late_threat = _log(analyst, case, 4)
    logged_only = _log(analyst, case, 5, severity=7, confidence=3)
    for item in (low_old, high, low_new, late_threat):
        _propose(analyst, item)
    # The threat to life is found last and its proposal is the newest: it still comes first.
    assessment_actions.item_assess_fields(actor=analyst, item_id=late_threat.pk, changes={"threat_to_life": True})
    client = api(supervisor)
    body = client.get("/api/v1/items/", {"status": "proposed"}).json()
    assert [row["id"] for row in body["results"]] == [late_threat.pk, high.pk, low_old.pk, low_new.pk]
    assert logged_only.pk not in [row["id"] for row in body["results"]]
    first = body["results"][2]
    assert first["proposed_at"] is not None and first["proposed_at"] < body["results"][3]["proposed_at"]
    assert body["next"] is None and body["previous"] is None

    # Page by page with the cursor: every row once, in order; a bad cursor is the first page.
    page = client.get("/api/v1/items/", {"status": "proposed", "page_size": 1}).json()
    seen = [row["id"] for row in page["results"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [row["id"] for row in page["results"]]
        assert page["previous"] is not None
    assert seen == [late_threat.pk, high.pk, low_old.pk, low_new.pk]
    bad = client.get("/api/v1/items/", {"status": "proposed", "cursor": "not-a-cursor"})
    assert bad.status_code == 400 and "cursor" in bad.json()["errors"]  # a cursor we did not make
    # Other lists stay newest first.
    assert client.get("/api/v1/items/").json()["results"][0]["id"] == logged_only.pk


@pytest.mark.django_db
def test_bulk_return_and_reject_answer_per_item(api, analyst, case, platform_a, supervisor):
    items = [_propose(analyst, _log(analyst, case, n)) for n in range(4)]
    never_proposed = _log(analyst, case, 9)
    client = api(supervisor)
    ids = [i.pk for i in items[:2]] + [never_proposed.pk, 999_999]
    r = client.post("/api/v1/items/return/", {"items": ids, "reason": "Add the channel's other uploads."},
                    format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["returned"] == [items[0].pk, items[1].pk]
    assert {e["item"]: e["status_code"] for e in body["errors"]} == {never_proposed.pk: 409, 999_999: 404}
    assert all(e["detail"] for e in body["errors"])
    for item in Item.objects.filter(pk__in=body["returned"]):
        assert (item.status, item.decided_by_id, item.decision_reason) == (
            "returned", supervisor.pk, "Add the channel's other uploads.")
    assert Item.objects.get(pk=never_proposed.pk).status == "logged"
    events = AuditEvent.objects.filter(verb="item.returned").order_by("object_id")
    assert [int(e.object_id) for e in events] == body["returned"]
    assert events[0].before == {"status": "proposed"} and events[0].actor_id == supervisor.pk

    r = client.post("/api/v1/items/reject/", {"items": [items[0].pk, items[2].pk, items[3].pk], "reason": "Satire."},
                    format="json")
    body = r.json()
    assert body["rejected"] == [items[2].pk, items[3].pk]
    assert body["errors"] == [{"item": items[0].pk, "status_code": 409,
                               "detail": f"Item {items[0].pk} is 'returned'; it cannot become 'rejected'."}]
    # A returned item can be proposed again; a rejected one is final.
    assert _propose(analyst, Item.objects.get(pk=items[0].pk)).status == "proposed"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/items/return/", "/api/v1/items/reject/"])
def test_bulk_decisions_need_a_supervisor_a_reason_and_a_list(api, analyst, case, platform_a, supervisor,
                                                              liaison_a, path):
    item = _propose(analyst, _log(analyst, case, 1))
    assert api(analyst).post(path, {"items": [item.pk], "reason": "x"}, format="json").status_code == 403
    assert api(liaison_a).post(path, {"items": [item.pk], "reason": "x"}, format="json").status_code == 403
    r = api(supervisor).post(path, {"items": [item.pk], "reason": "  "}, format="json")
    assert r.status_code == 400 and "reason" in r.json()["errors"]
    r = api(supervisor).post(path, {"items": [], "reason": "x"}, format="json")
    assert r.status_code == 400 and "items" in r.json()["errors"]
    r = api(supervisor).post(path, {"items": ["one"], "reason": "x"}, format="json")
    assert r.status_code == 400
    assert Item.objects.get(pk=item.pk).status == "proposed"


@pytest.mark.django_db
def test_the_service_checks_the_role_itself(analyst, case, platform_a):
    from core.errors import NotPermitted
    from referral.actions import approval

    item = _propose(analyst, _log(analyst, case, 1))
    with pytest.raises(NotPermitted):
        approval.items_return_many(actor=analyst, item_ids=[item.pk], reason="x")
    with pytest.raises(NotPermitted):
        item_actions.items_decide_many(actor=analyst, item_ids=[item.pk], target="rejected", reason="x",
                                       verb="item.rejected")
    assert Item.objects.get(pk=item.pk).status == "proposed"
