"""Bad input found answering 500 (issue 12) answers 400 with a JSON message naming the field."""

import base64
import json

import pytest


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode()


@pytest.mark.parametrize("raw", ["p=abc", "p=", "o=-1&p=1", "p=%00"])
def test_a_tampered_cursor_is_a_400_naming_it(api, analyst, raw):
    r = api(analyst).get("/api/v1/items/", {"cursor": _cursor(raw)})
    assert r.status_code == 400, (raw, r.status_code)
    assert r.json()["detail"] and "cursor" in r.json()["errors"]
    r = api(analyst).get("/api/v1/items/", {"cursor": "%%%not-base64"})
    assert r.status_code == 400 and "cursor" in r.json()["errors"]


def test_a_cursor_past_any_id_is_an_empty_page(api, analyst, case):
    r = api(analyst).get("/api/v1/items/", {"cursor": _cursor("r=1&p=9" + "9" * 40)})
    assert r.status_code == 200 and isinstance(r.json()["results"], list)


@pytest.mark.parametrize("since", ["2026-01-01T00:00:00+99:00", "2026-01-01T00:00:00+16:00", "2026-13-01T00:00:00Z"])
def test_updated_since_with_an_impossible_offset_is_a_400(api, liaison_a, since):
    r = api(liaison_a).get("/api/v1/referrals/", {"updated_since": since})
    assert r.status_code == 400 and "updated_since" in r.json()["errors"], r.content


def test_json_nested_a_thousand_levels_is_a_400(api, analyst, case):
    body = "[" * 1000 + "]" * 1000
    r = api(analyst).post("/api/v1/items/", body, content_type="application/json")
    assert r.status_code == 400 and r.json()["detail"]
    deep = {"case": case.pk, "url": "https://tube.example/x", "kind": "post", "categories": ["threat"]}
    node = deep
    for _ in range(200):
        node["notes"] = {}
        node = node["notes"]
    r = api(analyst).post("/api/v1/items/", json.dumps(deep), content_type="application/json")
    assert r.status_code == 400


@pytest.mark.parametrize("endpoint", ["https://a..b.example/hook", f"https://{'a' * 64}.example/hook",
                                      "https://.example/hook"])
def test_a_contact_point_host_with_a_bad_label_is_a_400(api, admin_user, endpoint):
    r = api(admin_user).post("/api/v1/platforms/", {
        "slug": "badhost", "name": "Bad host", "domains": ["badhost.example"],
        "contact_points": [{"channel": "webhook", "endpoint": endpoint,
                            "secret": "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="}]}, format="json")
    assert r.status_code == 400, (endpoint, r.status_code, r.content[:200])
