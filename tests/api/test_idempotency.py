"""`Idempotency-Key` on the API's POSTs (core/idempotency.py): the same key and request replay the first answer and
change nothing; the same key with another request is 422; while the first still runs, 409; keys last 24 hours."""

import json
import threading
from datetime import timedelta

import httpx
import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services as account_services
from audit.models import AuditEvent
from cases.actions import items as item_actions
from cases.models import Item
from core.idempotency import expire_keys
from core.models import IdempotencyKey
from core.tasks import expire_idempotency_keys
from intake.models import ImportJob
from tests.api.test_throttling import clock  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _item(case, n: int) -> dict:
    return {"case": case.pk, "url": f"https://tube.example/watch?v=idem{n}", "kind": "post"}


def _post(client, path, body, key=None, **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(path, json.dumps(body), content_type="application/json", **headers, **extra)


@pytest.mark.both_databases
def test_the_same_key_and_body_replay_the_answer_and_create_nothing_new(api, analyst, case, platform_a):
    client = api(analyst)
    first = _post(client, "/api/v1/items/", _item(case, 1), key="create-item-1")
    assert first.status_code == 201, first.content
    items, events = Item.objects.count(), AuditEvent.objects.count()
    again = _post(client, "/api/v1/items/", _item(case, 1), key="create-item-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and again["Content-Type"] == first["Content-Type"]
    assert (Item.objects.count(), AuditEvent.objects.count()) == (items, events)
    # A new key is a new request: it runs (and meets the duplicate check like any second logging of a URL).
    other = _post(client, "/api/v1/items/", _item(case, 1), key="create-item-2")
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    assert "Idempotent-Replayed" not in other


@pytest.mark.both_databases
def test_the_same_key_with_another_body_is_422_and_changes_nothing(api, analyst, case, platform_a):
    client = api(analyst)
    assert _post(client, "/api/v1/items/", _item(case, 1), key="k-422").status_code == 201
    items = Item.objects.count()
    res = _post(client, "/api/v1/items/", _item(case, 2), key="k-422")
    assert res.status_code == 422
    assert res.json() == {"detail": "This Idempotency-Key was used with another request (method, path or body): "
                                    "use a new key for a new request.", "errors": {}}
    other_path = _post(client, "/api/v1/cases/", {"title": "Another"}, key="k-422")  # another path, same key
    assert other_path.status_code == 422
    assert Item.objects.count() == items


def test_a_transition_is_replayed_not_refused(api, analyst, supervisor, case, platform_a):
    """The point for a client: a retried approval answers what the first did, not 409 'already approved'."""
    item = item_actions.item_propose(actor=analyst, item_id=item_actions.item_log(
        actor=analyst, case=case, url="https://tube.example/watch?v=t1", kind="post", categories=["incitement"]).pk)
    client = api(supervisor)
    first = _post(client, f"/api/v1/items/{item.pk}/approve/", {}, key="approve-t1")
    assert first.status_code == 200 and first.json()["status"] == "approved"
    events = AuditEvent.objects.count()
    again = _post(client, f"/api/v1/items/{item.pk}/approve/", {}, key="approve-t1")
    assert (again.status_code, again.json()) == (200, first.json())
    assert AuditEvent.objects.count() == events
    assert _post(client, f"/api/v1/items/{item.pk}/approve/", {}).status_code == 409  # without the key: refused


def test_keys_belong_to_their_api_key_or_signed_in_user(api, browser, analyst, analyst_2, case, platform_a):
    mine, my_other_key, theirs, my_browser = api(analyst), api(analyst), api(analyst_2), browser(analyst)
    ids = {_post(client, "/api/v1/items/", _item(case, n), key="shared-name").json()["id"]
           for n, client in enumerate([mine, my_other_key, theirs, my_browser])}
    assert len(ids) == 4  # four clients, four requests run
    replay = _post(my_browser, "/api/v1/items/", _item(case, 3), key="shared-name")
    assert replay["Idempotent-Replayed"] == "true"
    assert IdempotencyKey.objects.filter(key="shared-name").count() == 4


def test_without_the_header_nothing_changes_and_no_query_is_added(api, analyst, case, platform_a):
    client = api(analyst)
    _post(client, "/api/v1/items/", _item(case, 0))  # warms the key cache
    with CaptureQueriesContext(connection) as queries:
        assert _post(client, "/api/v1/items/", _item(case, 1)).status_code == 201
        assert _post(client, "/api/v1/items/", _item(case, 1)).status_code == 201  # runs again: a duplicate item
    assert not [q for q in queries if "idempotency" in q["sql"]]
    assert Item.objects.filter(url__endswith="idem1").count() == 2 and not IdempotencyKey.objects.exists()


def test_an_answer_that_asks_for_a_retry_is_not_kept(api, analyst, case, platform_a, settings, clock):  # noqa: F811
    settings.API_THROTTLE_RATE = "1/minute"
    client = api(analyst)
    assert client.get("/api/v1/cases/").status_code == 200
    assert _post(client, "/api/v1/items/", _item(case, 1), key="after-429").status_code == 429
    assert not IdempotencyKey.objects.filter(key="after-429").exists()
    clock.now += 120
    res = _post(client, "/api/v1/items/", _item(case, 1), key="after-429")
    assert res.status_code == 201 and "Idempotent-Replayed" not in res
    clock.now += 120
    assert _post(client, "/api/v1/items/", _item(case, 1), key="after-429")["Idempotent-Replayed"] == "true"


def test_a_refusal_is_kept_like_any_final_answer(api, analyst, case):
    client = api(analyst)
    first = _post(client, "/api/v1/items/", {"case": case.pk, "url": "not a url", "kind": "post"}, key="bad-body")
    again = _post(client, "/api/v1/items/", {"case": case.pk, "url": "not a url", "kind": "post"}, key="bad-body")
    assert first.status_code == again.status_code == 400 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"


def test_keys_expire_after_24_hours(api, analyst, case, platform_a):
    client = api(analyst)
    first = _post(client, "/api/v1/items/", _item(case, 1), key="old-key").json()
    IdempotencyKey.objects.filter(key="old-key").update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
    # Expired: the request runs again (and the key is the new request's), even before beat cleans up.
    again = _post(client, "/api/v1/items/", _item(case, 1), key="old-key")
    assert again.status_code == 201 and again.json()["id"] != first["id"]
    assert _post(client, "/api/v1/items/", _item(case, 1), key="old-key").json()["id"] == again.json()["id"]
    # The hourly cleanup deletes what is older than IDEMPOTENCY_KEY_HOURS, and nothing younger.
    _post(client, "/api/v1/items/", _item(case, 2), key="young-key")
    IdempotencyKey.objects.filter(key="old-key").update(created_at=timezone.now() - timedelta(hours=25))
    assert expire_idempotency_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["young-key"]
    assert expire_keys(now=timezone.now() + timedelta(hours=24, seconds=1)) == 1
    beat = django_settings.CELERY_BEAT_SCHEDULE["idempotency-keys-expire"]
    assert beat["task"] == expire_idempotency_keys.name == "core.expire_idempotency_keys"


def test_a_key_that_is_not_printable_ascii_or_too_long_is_400(api, analyst, case):
    client = api(analyst)
    for bad in ["x" * 256, "", "é-key", "tab\tkey"]:
        res = _post(client, "/api/v1/items/", _item(case, 1), key=bad)
        assert res.status_code == 400 and res.json()["errors"] == {
            "Idempotency-Key": ["1 to 255 printable ASCII characters."]}
    assert not Item.objects.exists()


def test_without_valid_credentials_the_key_is_not_taken(client, case):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer nope.nope"}):
        res = _post(client, "/api/v1/items/", _item(case, 1), key="anonymous", **headers)
        assert res.status_code == 401 and res.json()["detail"]
    assert not IdempotencyKey.objects.exists()


def test_an_upload_bigger_than_memory_is_fingerprinted_on_its_way(api, analyst, case, platform_a, settings, tmp_path):
    """Past DATA_UPLOAD_MAX_MEMORY_SIZE Django does not keep the body: it is hashed into a spooled file from which
    the view still reads the whole upload."""
    settings.MEDIA_ROOT, settings.DATA_UPLOAD_MAX_MEMORY_SIZE = tmp_path, 1000
    rows = b"url,kind\n" + b"".join(b"https://tube.example/watch?v=big%d,post\n" % n for n in range(100))
    client = api(analyst)

    def upload(body):
        return client.post("/api/v1/imports/", {"file": SimpleUploadedFile("items.csv", body, "text/csv"),
                                                "case": case.pk}, format="multipart", HTTP_IDEMPOTENCY_KEY="import-1")

    first = upload(rows)
    assert first.status_code == 202, first.content
    job = ImportJob.objects.get()
    assert job.total == 100  # the view read every row
    again = upload(rows)
    assert (again.status_code, again.json()) == (202, first.json()) and ImportJob.objects.count() == 1
    assert upload(rows + b"https://tube.example/watch?v=extra,post\n").status_code == 422
    settings.IMPORT_MAX_BYTES = settings.EVIDENCE_MAX_BYTES = 10
    too_big = client.post("/api/v1/imports/", {"file": SimpleUploadedFile("x.csv", b"x" * 3_000_000, "text/csv"),
                                               "case": case.pk}, format="multipart", HTTP_IDEMPOTENCY_KEY="import-2")
    assert too_big.status_code == 413 and too_big.json()["detail"] == "Request body too large."


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_requests_with_one_key_run_once(live_server, analyst, case, platform_a, monkeypatch):
    """The first request holds the key while it runs: the second, sent meanwhile, is told 409 (in progress), not run;
    once the first has answered, the same request gets its answer."""
    _, key = account_services.api_key_issue(actor=None, user=analyst)
    inside, release = threading.Event(), threading.Event()
    real_item_log = item_actions.item_log

    def slow_item_log(**kwargs):  # the view's work, held until the test lets it finish
        inside.set()
        assert release.wait(10)
        return real_item_log(**kwargs)

    monkeypatch.setattr(item_actions, "item_log", slow_item_log)
    url, body = f"{live_server.url}/api/v1/items/", _item(case, 1)
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "at-once"}
    answers = {}
    first = threading.Thread(target=lambda: answers.setdefault("first", httpx.post(url, json=body, headers=headers,
                                                                                   timeout=15)))
    first.start()
    try:
        assert inside.wait(10)
        second = httpx.post(url, json=body, headers=headers, timeout=5)
        assert second.status_code == 409 and second.headers["Retry-After"] == "1"
        assert second.json()["detail"].startswith("A request with this Idempotency-Key is still being processed")
        assert httpx.post(url, json=_item(case, 2), headers=headers, timeout=5).status_code == 422
    finally:
        release.set()
        first.join(15)
    assert answers["first"].status_code == 201
    third = httpx.post(url, json=body, headers=headers, timeout=5)
    assert (third.status_code, third.json()) == (201, answers["first"].json())
    assert Item.objects.count() == 1
