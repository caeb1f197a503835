"""POST /api/v1/items/{id}/assess/: any of the assessment's fields, the others kept; the item's answer carries
severity, confidence, threat_to_life, priority and group."""

import pytest

from alerts.models import Alert
from cases.actions import items as item_actions
from cases.models import Group
from referral.actions import approval


@pytest.fixture
def item(case, analyst, platform_a):
    return item_actions.item_log(actor=analyst, case=case, url="https://tube.example/watch?v=assess", kind="post",
                                 categories=["incitement"])


def _assess(client, item, body):
    return client.post(f"/api/v1/items/{item.pk}/assess/", body, format="json")


@pytest.mark.django_db
def test_an_analyst_changes_some_fields_and_keeps_the_others(api, analyst, item):
    client = api(analyst)
    group = Group.objects.create(name="Amaq News Agency")
    r = _assess(client, item, {"severity": 7, "confidence": 3})
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["severity"], body["confidence"], body["priority"], body["threat_to_life"]) == (7, 3, 9, False)
    assert body["categories"] == ["incitement"] and body["group"] is None
    r = _assess(client, item, {"categories": ["threat", "incitement"], "group": group.pk})
    body = r.json()
    assert body["categories"] == ["incitement", "threat"] and body["group"] == group.pk
    assert (body["severity"], body["confidence"], body["priority"]) == (7, 3, 9)  # kept
    assert client.get(f"/api/v1/items/{item.pk}/").json() == body
    r = _assess(client, item, {"group": None, "severity": None})
    assert (r.json()["group"], r.json()["severity"], r.json()["priority"]) == (None, None, 0)


@pytest.mark.django_db
def test_threat_to_life_puts_the_item_on_top_and_alerts_supervisors(api, supervisor, item):
    r = _assess(api(supervisor), item, {"threat_to_life": True})
    assert r.status_code == 200 and r.json()["priority"] == 10 and r.json()["threat_to_life"] is True
    assert Alert.objects.filter(kind="threat_to_life").count() == 1


@pytest.mark.django_db
def test_bad_input_is_a_400_with_field_messages_and_changes_nothing(api, analyst, item):
    client = api(analyst)
    r = _assess(client, item, {"severity": 8, "confidence": -1, "categories": ["gossip"]})
    assert r.status_code == 400 and set(r.json()["errors"]) == {"severity", "confidence", "categories"}
    r = _assess(client, item, {"group": 999999})
    assert r.status_code == 400 and "group" in r.json()["errors"]
    r = _assess(client, item, {})
    assert r.status_code == 400 and r.json()["detail"]
    assert client.get(f"/api/v1/items/{item.pk}/").json()["severity"] is None


@pytest.mark.django_db
def test_who_may_assess_and_when(api, liaison_a, supervisor, analyst, item):
    assert _assess(api(liaison_a), item, {"severity": 3}).status_code == 403
    assert _assess(api(analyst), item, {"severity": 3}).status_code == 200
    item_actions.item_propose(actor=analyst, item_id=item.pk)
    approval.item_approve(actor=supervisor, item_id=item.pk)
    r = _assess(api(analyst), item, {"severity": 4})
    assert r.status_code == 409 and r.json()["detail"]
    assert _assess(api(analyst), type(item)(pk=10**9), {"severity": 4}).status_code == 404
