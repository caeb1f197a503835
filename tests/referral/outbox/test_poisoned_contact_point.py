"""One poisoned contact point among healthy ones: whatever its delivery raises stays with that delivery.

The poisoned delivery is a dead letter (an attempt saying why, an alert) after one sweep; every healthy
delivery of the same run reaches the receiver exactly once and is recorded as sent.
"""

from collections import Counter

import pytest

from alerts.models import Alert
from cases.actions import items as item_actions
from platforms import services as platform_services
from platforms.endpoints import EndpointNotAllowed, check_http_endpoint
from platforms.models import ContactPoint
from referral.actions import approval
from referral.models import Delivery, DeliveryAttempt
from referral.outbox import dispatcher
from tests.receiver import Receiver

SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="  # 32 bytes, test only
HEALTHY_PLATFORMS = 4
LONG_LABEL = "x" * 64


@pytest.fixture
def receiver():
    # werkzeug's listen backlog (128) takes the dispatcher's 16 concurrent connections; socketserver's default of 5
    # could reset one on a busy machine, and a reset is, rightly, a retry: not what these tests are about.
    with Receiver() as r:
        yield r


@pytest.fixture(autouse=True)
def _one_message_per_delivery_at_once(settings):
    settings.DELIVERY_BATCH_WINDOW_SECONDS = 0


def _platform(slug, endpoint):
    platform = platform_services.platform_create(
        actor=None, slug=slug, name=slug.title(), domains=[f"{slug}.example"],
        contact_points=[{"channel": "webhook", "endpoint": endpoint, "secret": SECRET, "max_items_per_message": 1}],
    )
    return platform.contact_points.get()


def _approve(analyst, supervisor, case, urls):
    ids = []
    for url in urls:
        item = item_actions.item_log(actor=analyst, case=case, url=url, kind="post", categories=["incitement"])
        ids.append(item_actions.item_propose(actor=analyst, item_id=item.pk).pk)
    result = approval.item_approve_many(actor=supervisor, item_ids=ids)
    assert len(result["approved"]) == len(urls) and result["errors"] == []


def _healthy_and_poisoned(analyst, supervisor, case, receiver, healthy, poison):
    """`healthy` deliveries over a few contact points, with one for a poisoned contact point queued halfway
    (claimed while sends claimed before it are in flight or done). Returns (healthy ids, poisoned id)."""
    cps = [_platform(f"ok{i}", f"{receiver.url}/ok{i}") for i in range(HEALTHY_PLATFORMS)]
    bad = _platform("bad", f"{receiver.url}/bad")
    urls = [f"https://ok{n % HEALTHY_PLATFORMS}.example/v/{n}" for n in range(healthy)]
    _approve(analyst, supervisor, case, urls[: healthy // 2])
    _approve(analyst, supervisor, case, ["https://bad.example/v/1"])
    _approve(analyst, supervisor, case, urls[healthy // 2:])
    # What the admin (or a hand-edited row) can save and the service refuses.
    ContactPoint.objects.filter(pk=bad.pk).update(**poison)
    healthy_ids = set(Delivery.objects.filter(contact_point__in=cps).values_list("pk", flat=True))
    assert len(healthy_ids) == healthy
    return healthy_ids, Delivery.objects.get(contact_point=bad).pk


def _explain(received, expected, counts):
    """What became of the deliveries the receiver did not get exactly once."""
    odd = {pk for pk in set(received) | set(expected) if received[pk] != expected[pk]}
    rows = Delivery.objects.filter(pk__in=odd).values("pk", "status", "attempts", "last_error", "contact_point_id")
    attempts = DeliveryAttempt.objects.filter(delivery_id__in=odd).values("delivery_id", "number", "outcome", "error")
    return f"counts={counts} odd={[(pk, received[pk], expected[pk]) for pk in odd]} rows={list(rows)} " \
           f"attempts={list(attempts)}"


def _assert_one_sweep_isolates_the_poison(receiver, healthy_ids, poisoned_id, error_says):
    counts = dispatcher.dispatch_due()  # one sweep, as the beat task runs it
    received = Counter(r.headers["webhook-id"] for r in receiver.requests)
    expected = Counter({str(pk): 1 for pk in healthy_ids})
    assert received == expected, _explain(received, expected, counts)  # each once; the poisoned one never
    assert counts == {"sent": len(healthy_ids), "stopped": 1}
    assert set(Delivery.objects.filter(status="sent").values_list("pk", flat=True)) == healthy_ids
    poisoned = Delivery.objects.get(pk=poisoned_id)
    assert poisoned.status == "stopped" and poisoned.lease_until is None  # a dead letter
    [attempt] = DeliveryAttempt.objects.filter(delivery=poisoned)
    assert attempt.outcome == "stopped" and error_says in attempt.error
    assert Alert.objects.filter(kind="delivery_stopped", delivery_id=poisoned.pk).count() == 1
    assert poisoned.referrals.get().status == "failed"
    # Nothing goes out again: the next sweep finds nothing due.
    assert dispatcher.dispatch_due() == {}
    assert len(receiver.requests) == len(healthy_ids)


def test_empty_secret_among_100_healthy_deliveries(analyst, supervisor, case, receiver, settings):
    settings.ALLOW_PRIVATE_ENDPOINTS = True
    healthy_ids, poisoned_id = _healthy_and_poisoned(analyst, supervisor, case, receiver, 100, {"secret": ""})
    _assert_one_sweep_isolates_the_poison(receiver, healthy_ids, poisoned_id, "secret")


@pytest.mark.parametrize("host", ["a..b.example", f"{LONG_LABEL}.example"])
def test_unencodable_endpoint_host_among_healthy_deliveries(analyst, supervisor, case, receiver, settings, host):
    # The healthy deliveries go to the local receiver, so private endpoints are allowed here; the host check runs
    # before that setting is looked at (test_an_unencodable_host_is_a_clean_refusal shows it either way).
    settings.ALLOW_PRIVATE_ENDPOINTS = True  # the HTTP client would raise UnicodeError for this host
    healthy_ids, poisoned_id = _healthy_and_poisoned(analyst, supervisor, case, receiver, 100,
                                                     {"endpoint": f"http://{host}/hook"})
    _assert_one_sweep_isolates_the_poison(receiver, healthy_ids, poisoned_id, "not a valid host name")


def _refuse_marking_sent(delivery_id):
    """A real fault in the database: a trigger that refuses to record this one delivery as sent."""
    from django.db import connection

    table = connection.ops.quote_name(Delivery._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"""
            CREATE FUNCTION refuse_marking_sent() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.id = '{delivery_id}'::uuid AND NEW.status = 'sent' THEN
                    RAISE EXCEPTION 'boom while recording';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_marking_sent BEFORE UPDATE ON {table}
                FOR EACH ROW EXECUTE FUNCTION refuse_marking_sent();""")


def test_a_result_that_cannot_be_recorded_stops_only_its_delivery(analyst, supervisor, case, receiver, settings):
    """Recording successes in a batch must not lose the batch because one of them raises; the one that cannot
    be recorded reached the platform, so it is stopped for a person rather than sent again after its lease."""
    settings.ALLOW_PRIVATE_ENDPOINTS = True
    healthy_ids, poisoned_id = _healthy_and_poisoned(analyst, supervisor, case, receiver, 20, {})
    _refuse_marking_sent(poisoned_id)
    counts = dispatcher.dispatch_due()
    received = Counter(r.headers["webhook-id"] for r in receiver.requests)
    expected = Counter({str(pk): 1 for pk in healthy_ids | {poisoned_id}})
    assert received == expected, _explain(received, expected, counts)
    assert counts == {"sent": len(healthy_ids), "stopped": 1}
    assert set(Delivery.objects.filter(status="sent").values_list("pk", flat=True)) == healthy_ids
    poisoned = Delivery.objects.get(pk=poisoned_id)
    assert poisoned.status == "stopped"
    [attempt] = DeliveryAttempt.objects.filter(delivery=poisoned)
    assert attempt.outcome == "stopped" and attempt.response_status == 200
    assert "could not be recorded" in attempt.error and "boom while recording" in attempt.error
    assert Alert.objects.filter(kind="delivery_stopped", delivery_id=poisoned.pk).count() == 1
    assert dispatcher.dispatch_due() == {}
    assert len(receiver.requests) == len(healthy_ids) + 1


@pytest.mark.parametrize("url", ["http://a..b.example/hook", f"https://{LONG_LABEL}.example/hook",
                                 "http://.example/hook"])
@pytest.mark.parametrize("allow_private", [True, False])
def test_an_unencodable_host_is_a_clean_refusal(settings, url, allow_private):
    settings.ALLOW_PRIVATE_ENDPOINTS = allow_private
    with pytest.raises(EndpointNotAllowed, match="not a valid host name"):
        check_http_endpoint(url)
    check_http_endpoint("https://tube.example/hook", resolve=False)  # well-formed hosts are still fine
    check_http_endpoint("https://münchen.example/hook", resolve=False)


def test_the_service_refuses_an_unencodable_host(db):
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput) as exc:
        _platform("bad", "http://a..b.example/hook")
    assert "not a valid host name" in str(exc.value.field_errors)
