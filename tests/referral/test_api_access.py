"""Who may see and do what. A liaison never sees or touches another platform's data."""

import time
from datetime import timedelta

import pytest
from django.urls import get_resolver
from django.utils import timezone

from accounts import services as account_services
from accounts.models import UserAPIKey
from audit.models import AuditEvent
from cases.actions import items as item_actions
from referral.actions import approval
from referral.models import Referral
from tests.conftest import api_for

REFERRAL_ENDPOINTS = [
    ("get", "/api/v1/referrals/{id}/", None),
    ("get", "/api/v1/referrals/{id}/order/", None),
    ("post", "/api/v1/referrals/{id}/status/", {"status": "acknowledged"}),
    ("post", "/api/v1/referrals/{id}/status/", {"status": "removed", "platform_reference": "X"}),
    ("post", "/api/v1/referrals/{id}/status/", {"status": "bogus"}),  # even invalid bodies: 404 first
    ("post", "/api/v1/referrals/{id}/status/", None),
    ("post", "/api/v1/referrals/{id}/order-reports/", {"kind": "preserved"}),
    ("post", "/api/v1/referrals/{id}/order-reports/", {"kind": "bogus"}),  # scope before validation here too
]


def test_every_referral_endpoint_is_covered_here():
    """If a referral route is added, this test (and the walk below) must learn about it."""
    def flatten(patterns, prefix=""):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                yield from flatten(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern), p.name or ""

    api = get_resolver().url_patterns[0]
    routes = {path for path, name in flatten(api.url_patterns) if "referral" in name and path.startswith("referrals")}
    # The unit's own calls (withdraw, clarify, scrutiny, reminder) are refused to liaisons by role
    # (tests/core/test_roles_in_services.py), and the bulk status call answers another platform's rows 404 row by
    # row: tests/referral/test_withdraw_and_clarify.py.
    assert routes == {"referrals/", "referrals/<int:pk>/", "referrals/<int:pk>/status/", "referrals/status/",
                      "referrals/withdraw/", "referrals/<int:pk>/withdraw/", "referrals/<int:pk>/clarify/",
                      "referrals/<int:pk>/order/", "referrals/<int:pk>/scrutiny/", "referrals/<int:pk>/order-reports/",
                      "referrals/<int:pk>/reminder/"}


@pytest.mark.parametrize("method, path, body", REFERRAL_ENDPOINTS)
def test_liaison_of_a_gets_404_on_platform_b_referral(liaison_a, approved_referral_b, method, path, body):
    client = api_for(liaison_a)
    before = AuditEvent.objects.count()
    res = getattr(client, method)(path.format(id=approved_referral_b.pk), body, format="json")
    assert res.status_code == 404
    assert res.json() == {"detail": "Not found.", "errors": {}}
    # The answer is the same as for a referral that does not exist.
    res_missing = getattr(client, method)(path.format(id=987654), body, format="json")
    assert res_missing.status_code == 404 and res_missing.json() == res.json()
    approved_referral_b.refresh_from_db()
    assert approved_referral_b.status == "queued"
    assert AuditEvent.objects.count() == before


@pytest.mark.both_databases
def test_liaison_list_shows_only_own_platform(liaison_a, liaison_b, approved_referral, approved_referral_b):
    res = api_for(liaison_a).get("/api/v1/referrals/")
    assert res.status_code == 200
    assert [r["id"] for r in res.json()["results"]] == [approved_referral.pk]
    for status in ["queued", "sent", ""]:
        res = api_for(liaison_b).get(f"/api/v1/referrals/?status={status}")
        assert {r["platform"] for r in res.json()["results"]} <= {"chirp"}
    res = api_for(liaison_a).get("/api/v1/referrals/?updated_since=2000-01-01T00:00:00Z")
    assert [r["id"] for r in res.json()["results"]] == [approved_referral.pk]


def test_liaison_reports_own_platform_outcome(liaison_a, approved_referral):
    client = api_for(liaison_a)
    url = f"/api/v1/referrals/{approved_referral.pk}/status/"
    res = client.post(url, {"status": "acknowledged", "platform_reference": "TUBE-1"}, format="json")
    assert res.status_code == 200 and res.json()["status"] == "acknowledged"
    res = client.post(url, {"status": "removed", "note": "Removed under ToS 4.2",
                            "action_taken_at": "2026-11-23T10:00:00Z"}, format="json")
    body = res.json()
    assert body["status"] == "removed" and body["platform_reference"] == "TUBE-1"
    assert body["action_taken_at"] == "2026-11-23T10:00:00Z"
    assert body["acknowledged_at"] and body["outcome_at"]
    verbs = list(AuditEvent.objects.filter(object_type="referral", object_id=str(approved_referral.pk))
                 .values_list("verb", "actor_label"))
    assert verbs == [("referral.queued", "sara_supervisor"), ("referral.acknowledged", "lena_tube"),
                     ("referral.removed", "lena_tube")]


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/v1/items/"),
        ("post", "/api/v1/items/"),
        ("get", "/api/v1/items/{item}/"),
        ("post", "/api/v1/items/{item}/propose/"),
        ("post", "/api/v1/items/{item}/approve/"),
        ("post", "/api/v1/items/{item}/reject/"),
        ("post", "/api/v1/items/{item}/return/"),
        ("get", "/api/v1/cases/"),
        ("post", "/api/v1/cases/"),
        ("get", "/api/v1/cases/{case}/"),
        ("get", "/api/v1/platforms/"),
        ("post", "/api/v1/platforms/"),
    ],
)
def test_liaison_gets_403_on_analyst_and_admin_endpoints(liaison_a, approved_referral, method, path):
    item = approved_referral.item
    res = getattr(api_for(liaison_a), method)(path.format(item=item.pk, case=item.case_id), {}, format="json")
    assert res.status_code == 403
    assert res.json()["detail"]


def test_roles_are_checked_on_each_action(analyst, supervisor, admin_user, proposed_item, platform_a):
    assert api_for(analyst).post(f"/api/v1/items/{proposed_item.pk}/approve/").status_code == 403
    assert api_for(supervisor).post("/api/v1/platforms/", {}, format="json").status_code == 403
    assert api_for(admin_user).post(f"/api/v1/items/{proposed_item.pk}/approve/").status_code == 403
    assert api_for(analyst).post("/api/v1/referrals/1/status/", {"status": "removed"},
                                 format="json").status_code == 403
    assert api_for(admin_user).get("/api/v1/platforms/").status_code == 200
    assert api_for(analyst).get("/api/v1/platforms/").status_code == 200


@pytest.mark.both_databases
def test_staff_see_every_platform(analyst, supervisor, approved_referral, approved_referral_b):
    for user in (analyst, supervisor):
        ids = {r["id"] for r in api_for(user).get("/api/v1/referrals/").json()["results"]}
        assert ids == {approved_referral.pk, approved_referral_b.pk}


def test_no_key_bad_key_revoked_key_expired_key_are_401(client, liaison_a, approved_referral):
    assert client.get("/api/v1/referrals/").status_code == 401
    from rest_framework.test import APIClient

    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION="Bearer nope.nothing")
    assert c.get("/api/v1/referrals/").status_code == 401
    c.credentials(HTTP_AUTHORIZATION="Bearer")
    assert c.get("/api/v1/referrals/").status_code == 401
    record, key = account_services.api_key_issue(actor=None, user=liaison_a)
    c.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert c.get("/api/v1/referrals/").status_code == 200
    record.expiry_date = timezone.now() - timedelta(minutes=1)  # as the admin's form saves it
    record.save()
    assert c.get("/api/v1/referrals/").status_code == 401
    record2, key2 = account_services.api_key_issue(actor=None, user=liaison_a)
    account_services.api_key_revoke(actor=None, prefix=record2.prefix)
    c.credentials(HTTP_AUTHORIZATION=f"Bearer {key2}")
    assert c.get("/api/v1/referrals/").status_code == 401


def test_a_cached_key_stops_working_when_it_expires_or_its_user_changes(liaison_a, approved_referral):
    """Keys and users are cached (Redis, accounts/key_cache.py): expiry is still checked on every request, and a
    change to the user takes effect on the next one."""
    from rest_framework.test import APIClient

    from accounts import key_cache

    assert key_cache.enabled()  # the suite runs with Redis as the cache
    record, key = account_services.api_key_issue(actor=None, user=liaison_a)
    record.expiry_date = timezone.now() + timedelta(seconds=1.5)
    record.save()
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert c.get("/api/v1/referrals/").status_code == 200
    assert c.get("/api/v1/referrals/").status_code == 200  # served from the cache
    time.sleep(1.6)
    assert c.get("/api/v1/referrals/").status_code == 401
    record2, key2 = account_services.api_key_issue(actor=None, user=liaison_a)
    c.credentials(HTTP_AUTHORIZATION=f"Bearer {key2}")
    assert c.get("/api/v1/referrals/").status_code == 200
    liaison_a.is_active = False
    liaison_a.save()
    assert c.get("/api/v1/referrals/").status_code == 401
    liaison_a.is_active = True
    liaison_a.save()
    assert c.get("/api/v1/referrals/").status_code == 200
    UserAPIKey.objects.get(pk=record2.pk).delete()
    assert c.get("/api/v1/referrals/").status_code == 401


def test_key_is_stored_hashed(liaison_a):
    record, key = account_services.api_key_issue(actor=None, user=liaison_a)
    stored = UserAPIKey.objects.get(pk=record.pk)
    assert key not in stored.hashed_key and key not in stored.id
    assert key.split(".")[1] not in str(list(AuditEvent.objects.values_list("object_id", "after")))


@pytest.mark.both_databases
def test_list_is_cursor_paginated(analyst, supervisor, case, platform_a):

    for i in range(5):
        item = item_actions.item_log(actor=analyst, case=case, url=f"https://tube.example/v/{i}", kind="post",
                                     categories=["incitement"])
        item_actions.item_propose(actor=analyst, item_id=item.pk)
        approval.item_approve(actor=supervisor, item_id=item.pk)
    client = api_for(analyst)
    page = client.get("/api/v1/referrals/?page_size=2").json()
    seen = [r["id"] for r in page["results"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [r["id"] for r in page["results"]]
    assert seen == sorted(Referral.objects.values_list("id", flat=True), reverse=True)
    assert set(page) == {"next", "previous", "results"}
