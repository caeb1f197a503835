"""Bad input gets a clear 4xx with field messages, and stores nothing."""

import pytest

from accounts.models import User
from audit.models import AuditEvent
from cases.actions import items as item_actions
from cases.models import Item
from referral.models import Referral


def item_body(case_, **overrides):
    return {"case": case_.pk, "url": "https://tube.example/watch?v=1", "kind": "post",
            "categories": ["incitement"], **overrides}


@pytest.mark.parametrize(
    "url, message",
    [
        ("ftp://tube.example/file", "Only http and https URLs can be referred."),
        ("javascript:alert(1)", "Only http and https URLs can be referred."),
        ("https:///no-host", "The URL has no host."),
        ("https://tube.example/" + "a" * 2100, "The URL is longer than 2048 characters."),
        ("https://user:pw@tube.example/x", "The URL must not contain credentials (user:password@)."),
        ("https://tube.example/a\u0007b", "The URL contains control, formatting or blank characters."),
        ("https://tube.example/\u202eevil", "The URL contains control, formatting or blank characters."),
        ("https://tube.example/a b", "The URL contains control, formatting or blank characters."),
        ("not a url", "The URL contains control, formatting or blank characters."),
        ("tube.example/watch", "Only http and https URLs can be referred."),
        ("https://tube.example:99999/", "The URL cannot be parsed: Port out of range 0-65535."),
    ],
)
def test_bad_url_is_refused_with_a_field_message(api, analyst, case, platform_a, url, message):
    client = api(analyst)
    before = AuditEvent.objects.count()
    res = client.post("/api/v1/items/", item_body(case, url=url), format="json")
    assert res.status_code == 400
    assert res.json()["errors"]["url"] == [message]
    assert Item.objects.count() == 0
    assert AuditEvent.objects.count() == before


def test_null_character_in_url_is_refused(api, analyst, case):
    res = api(analyst).post("/api/v1/items/", item_body(case, url="https://tube.example/\x00"), format="json")
    assert res.status_code == 400
    assert "url" in res.json()["errors"]
    assert Item.objects.count() == 0


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"kind": "tweet"}, "kind"),
        ({"categories": ["propaganda"]}, "categories"),
        ({"categories": "incitement"}, "categories"),
        ({"case": 999999}, "case"),
        ({"case": "one"}, "case"),
        ({"url": 42}, "url"),
        ({"url": None}, "url"),
        ({"platform": "no-such-platform"}, "platform"),
        ({"language": "x" * 40}, "language"),
    ],
)
def test_wrong_types_and_unknown_choices_are_400(api, analyst, case, platform_a, overrides, field):
    res = api(analyst).post("/api/v1/items/", item_body(case, **overrides), format="json")
    assert res.status_code == 400, res.content
    assert field in res.json()["errors"]
    assert Item.objects.count() == 0


def test_missing_fields_are_listed(api, analyst):
    res = api(analyst).post("/api/v1/items/", {}, format="json")
    assert res.status_code == 400
    assert set(res.json()["errors"]) == {"case", "url", "kind"}


@pytest.mark.parametrize("body", [b"{bad json", b"[]", b'"just a string"', b"\xff\xfe"])
def test_malformed_json_is_400(api, analyst, body):
    res = api(analyst).post("/api/v1/items/", body, content_type="application/json")
    assert res.status_code == 400
    assert res.json()["detail"]


def test_unknown_host_is_stored_without_platform_and_approving_it_is_409(api, analyst, supervisor, case, platform_a):
    a = api(analyst)
    res = a.post("/api/v1/items/", item_body(case, url="https://unclaimed.example/p/1"), format="json")
    assert res.status_code == 201
    assert res.json()["platform"] is None
    item_id = res.json()["id"]
    a.post(f"/api/v1/items/{item_id}/propose/")
    res = api(supervisor).post(f"/api/v1/items/{item_id}/approve/", {}, format="json")
    assert res.status_code == 409
    assert "No platform claims the host" in res.json()["detail"]
    assert Referral.objects.count() == 0
    assert Item.objects.get(pk=item_id).status == "proposed"


def test_approving_your_own_proposal_is_403(api, analyst, case, platform_a):
    item_id = api(analyst).post("/api/v1/items/", item_body(case), format="json").json()["id"]
    item_actions.item_propose(actor=analyst, item_id=item_id)
    # The analyst who proposed it is promoted to supervisor: four-eyes still forbids approving their own proposal.
    User.objects.filter(pk=analyst.pk).update(role="supervisor")
    analyst.refresh_from_db()
    res = api(analyst).post(f"/api/v1/items/{item_id}/approve/", {"instrument": "referral"}, format="json")
    assert res.status_code == 403
    assert res.json()["detail"] == "Four-eyes rule: you cannot approve an item you proposed yourself."
    assert Referral.objects.count() == 0


def test_transition_not_allowed_is_409_naming_the_current_status(api, analyst, supervisor, case, platform_a):
    a = api(analyst)
    item_id = a.post("/api/v1/items/", item_body(case), format="json").json()["id"]
    res = api(supervisor).post(f"/api/v1/items/{item_id}/approve/", {}, format="json")
    assert res.status_code == 409
    assert "'logged'" in res.json()["detail"]
    a.post(f"/api/v1/items/{item_id}/propose/")
    res = a.post(f"/api/v1/items/{item_id}/propose/")
    assert res.status_code == 409
    assert "'proposed'" in res.json()["detail"]


def test_unknown_instrument_is_400(api, supervisor, proposed_item):
    res = api(supervisor).post(f"/api/v1/items/{proposed_item.pk}/approve/", {"instrument": "order"}, format="json")
    assert res.status_code == 400
    assert "instrument" in res.json()["errors"]


def test_reject_needs_a_reason(api, supervisor, proposed_item):
    s = api(supervisor)
    res = s.post(f"/api/v1/items/{proposed_item.pk}/reject/", {"reason": ""}, format="json")
    assert res.status_code == 400 and "reason" in res.json()["errors"]
    res = s.post(f"/api/v1/items/{proposed_item.pk}/reject/", {"reason": "Satire, not incitement"}, format="json")
    assert res.status_code == 200 and res.json()["status"] == "rejected"


def test_item_action_on_missing_item_is_404(api, analyst):
    res = api(analyst).post("/api/v1/items/424242/propose/")
    assert res.status_code == 404


def test_liaison_status_bad_input(api, liaison_a, approved_referral):
    c = api(liaison_a)
    url = f"/api/v1/referrals/{approved_referral.pk}/status/"
    assert c.post(url, {"status": "gone"}, format="json").status_code == 400
    assert c.post(url, {"status": "removed", "action_taken_at": "yesterday"}, format="json").status_code == 400
    assert c.post(url, {"status": "removed", "action_taken_at": "2999-01-01T00:00:00Z"},
                  format="json").status_code == 400
    approved_referral.refresh_from_db()
    assert approved_referral.status == "queued"


def test_terminal_referral_cannot_change_again(api, liaison_a, approved_referral):
    c = api(liaison_a)
    url = f"/api/v1/referrals/{approved_referral.pk}/status/"
    assert c.post(url, {"status": "removed", "platform_reference": "T-1"}, format="json").status_code == 200
    # Repeating the same outcome is a retry: accepted, unchanged.
    assert c.post(url, {"status": "removed"}, format="json").status_code == 200
    res = c.post(url, {"status": "declined"}, format="json")
    assert res.status_code == 409
    assert "'removed'" in res.json()["detail"]


def test_platform_create_bad_input(api, admin_user, platform_a):
    c = api(admin_user)
    res = c.post("/api/v1/platforms/", {
        "slug": "tube", "name": "Dup", "domains": ["tube.example", "https://x.example/"],
        "contact_points": [{"channel": "webhook", "endpoint": "ftp://x", "secret": "nope"},
                           {"channel": "email", "endpoint": "not-an-address"}],
    }, format="json")
    assert res.status_code == 400
    errors = res.json()["errors"]
    assert set(errors) == {"slug", "domains", "contact_points"}
    assert set(errors["contact_points"]["0"]) == {"endpoint", "secret"}
    assert set(errors["contact_points"]["1"]) == {"endpoint"}


def test_platform_secret_is_never_returned(api, admin_user):
    secret = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
    c = api(admin_user)
    res = c.post("/api/v1/platforms/", {
        "slug": "vid", "name": "Vid", "domains": ["vid.example"],
        "contact_points": [{"channel": "webhook", "endpoint": "https://hooks.vid.example/iru", "secret": secret}],
    }, format="json")
    assert res.status_code == 201, res.json()
    assert secret not in res.content.decode()
    assert res.json()["contact_points"][0]["has_secret"] is True
    assert secret not in c.get("/api/v1/platforms/").content.decode()
    assert secret not in str(list(AuditEvent.objects.values_list("after", flat=True)))


def test_url_whose_canonical_form_outgrows_the_limit_is_400(api, analyst, case):
    url = "https://tube.example/" + "é" * 1000  # 1,021 characters; percent-encoded, over 6,000
    res = api(analyst).post("/api/v1/items/", item_body(case, url=url), format="json")
    assert res.status_code == 400
    assert "canonical form is longer" in res.json()["errors"]["url"][0]


def test_content_already_removed_is_not_referred_again(api, analyst, supervisor, liaison_a, approved_referral, case):
    api(liaison_a).post(f"/api/v1/referrals/{approved_referral.pk}/status/", {"status": "removed"}, format="json")
    a = api(analyst)
    # The same content, found again (a share link): logged and linked, never silently dropped...
    res = a.post("/api/v1/items/", item_body(case, url="https://www.tube.example/watch?v=abc123&utm_source=x"),
                 format="json")
    assert res.status_code == 201 and res.json()["duplicate_of"] == approved_referral.item_id
    item_id = res.json()["id"]
    a.post(f"/api/v1/items/{item_id}/propose/")
    # ... but not referred again.
    res = api(supervisor).post(f"/api/v1/items/{item_id}/approve/", {}, format="json")
    assert res.status_code == 409
    assert f"already removed (referral {approved_referral.pk})" in res.json()["detail"]
    bulk = api(supervisor).post("/api/v1/items/approve/", {"items": [item_id]}, format="json").json()
    assert bulk["approved"] == [] and bulk["errors"][0]["status_code"] == 409
    assert Referral.objects.count() == 1
