"""Email and manual channels, batching, bulk approval, pacing and re-drive, against real local servers."""

import csv
import io
import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert
from audit.models import AuditEvent
from cases.actions import items as item_actions
from core.errors import Conflict, InvalidInput, TransitionNotAllowed
from devtools.smtp_sink import SmtpSink
from platforms import services as platform_services
from platforms.models import ContactPoint
from referral.actions import approval
from referral.models import Delivery, DeliveryAttempt, Referral, RemovalOrder
from referral.outbox import actions as outbox_actions
from referral.outbox import dispatcher, formatters, webhook
from tests.conftest import INFORMED, ORDER
from tests.receiver import Receiver

SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
NEW_SECRET = "whsec_" + "MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0dXY="


@pytest.fixture
def smtp(settings):
    with SmtpSink() as sink:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        yield sink


def platform_with(slug, domain, *contact_points):
    return platform_services.platform_create(actor=None, slug=slug, name=slug.title(), domains=[domain],
                                             contact_points=list(contact_points), legal=INFORMED)


def propose(analyst, case, url):
    item = item_actions.item_log(actor=analyst, case=case, url=url, kind="post", categories=["incitement"])
    return item_actions.item_propose(actor=analyst, item_id=item.pk)


def approve(analyst, supervisor, case, url, instrument="referral"):
    item = propose(analyst, case, url)
    return approval.item_approve(actor=supervisor, item_id=item.pk, instrument=instrument,
                                 order=ORDER if instrument == "removal_order" else None).referrals.get()


def test_email_delivery_has_reference_bodies_csv_and_stable_message_id(smtp, analyst, supervisor, case, settings):
    settings.SITE_URL = "https://desk.iru.example"
    platform_with("mail", "mail.example", {"channel": "email", "endpoint": "abuse@mail.example", "language": "fr"})
    ids = approval.item_approve_many(actor=supervisor, item_ids=[
        propose(analyst, case, f"https://mail.example/p/{i}").pk for i in range(3)], instrument="removal_order",
        order=ORDER)
    assert dispatcher.dispatch_due() == {"sent": 1}
    [mail] = smtp.messages
    delivery = Delivery.objects.get()
    msg = mail.message
    assert mail.rcpt_tos == ["abuse@mail.example"]
    assert msg["Message-ID"] == f"<{delivery.pk}@desk.iru.example>"
    reference = formatters.unit_reference(delivery)
    assert msg["Subject"].strip().startswith(f"[{reference}] INJONCTION DE RETRAIT")  # folded after "Subject:"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "https://mail.example/p/0" in text and "https://mail.example/p/2" in html
    attachment, *orders = list(msg.iter_attachments())
    # The three URLs approved together are one order: its Annex I once, naming them all.
    [order] = RemovalOrder.objects.all()
    assert [(o.get_content_type(), o.get_filename()) for o in orders] == [("application/pdf", f"{order.reference}.pdf")]
    assert order.urls == [f"https://mail.example/p/{i}" for i in range(3)]
    rows = list(csv.DictReader(io.StringIO(attachment.get_content())))
    assert sorted(int(r["id"]) for r in rows) == sorted(ids["referrals"])
    assert rows[0]["status_url"].startswith("https://desk.iru.example/api/v1/referrals/")
    attempt = DeliveryAttempt.objects.get()
    assert attempt.response_status == 250 and "queued as SINK" in attempt.response_excerpt
    assert Referral.objects.filter(status="sent").count() == 3
    # The stored bytes are what the MTA received.
    assert bytes(delivery.payload).replace(b"\r\n", b"\n").strip() == mail.data.replace(b"\r\n", b"\n").strip()


def test_email_resend_carries_the_same_message_id(analyst, supervisor, case, settings):
    platform_with("mail", "mail.example", {"channel": "email", "endpoint": "abuse@mail.example"})
    approve(analyst, supervisor, case, "https://mail.example/p/1")
    down = SmtpSink()
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", down.port  # nothing listens yet: the MTA is down
    assert dispatcher.dispatch_due() == {"retry": 1}
    with SmtpSink(port=down.port) as sink:
        Delivery.objects.update(next_attempt_at=timezone.now())
        assert dispatcher.dispatch_due() == {"sent": 1}
        assert sink.messages[0].message["Message-ID"] == formatters.message_id(Delivery.objects.get())
    assert [a.outcome for a in DeliveryAttempt.objects.order_by("number")] == ["retry", "sent"]


def test_manual_contact_point_becomes_a_task_closed_by_a_ticket(api, analyst, supervisor, case):
    platform_with("formonly", "formonly.example",
                  {"channel": "manual", "endpoint": "https://formonly.example/report"})
    referral = approve(analyst, supervisor, case, "https://formonly.example/v/9")
    assert dispatcher.dispatch_due() == {"manual": 1}
    delivery = Delivery.objects.get()
    assert delivery.status == "manual"
    assert b"https://formonly.example/v/9" in bytes(delivery.payload)
    res = api(analyst).get("/api/v1/deliveries/?status=manual").json()
    assert [d["id"] for d in res["results"]] == [str(delivery.pk)]
    res = api(analyst).post(f"/api/v1/deliveries/{delivery.pk}/manual-submitted/", {"ticket": ""}, format="json")
    assert res.status_code == 400
    res = api(analyst).post(f"/api/v1/deliveries/{delivery.pk}/manual-submitted/", {"ticket": "FO-7781"},
                            format="json")
    assert res.status_code == 200 and res.json()["status"] == "sent"
    referral.refresh_from_db()
    assert referral.status == "sent" and referral.platform_reference == "FO-7781"
    assert DeliveryAttempt.objects.get().response_excerpt == "platform ticket FO-7781"
    with pytest.raises(TransitionNotAllowed):
        outbox_actions.delivery_complete_manual(actor=analyst, delivery_id=delivery.pk, ticket="again")


def test_referrals_approved_together_travel_in_batches_of_the_maximum(analyst, supervisor, case):
    with Receiver() as receiver:
        platform_with("vid", "vid.example", {"channel": "webhook", "endpoint": receiver.url + "/h", "secret": SECRET,
                                             "max_items_per_message": 4})
        items = [propose(analyst, case, f"https://vid.example/v/{i}").pk for i in range(10)]
        result = approval.item_approve_many(actor=supervisor, item_ids=items)
        assert len(result["approved"]) == 10 and result["errors"] == []
        assert dispatcher.dispatch_due() == {"sent": 3}
        sizes = sorted(len(json.loads(r.body)["referrals"]) for r in receiver.requests)
        assert sizes == [2, 4, 4]
        carried = sorted(e["id"] for r in receiver.requests for e in json.loads(r.body)["referrals"])
        assert carried == sorted(result["referrals"])


def test_single_approvals_close_together_join_one_message(analyst, supervisor, case):
    with Receiver() as receiver:
        platform_with("vid", "vid.example", {"channel": "webhook", "endpoint": receiver.url + "/h", "secret": SECRET})
        for i in range(3):
            approve(analyst, supervisor, case, f"https://vid.example/v/{i}")
        assert Delivery.objects.count() == 1
        assert dispatcher.dispatch_due() == {"sent": 1}
        assert len(json.loads(receiver.requests[0].body)["referrals"]) == 3
        assert AuditEvent.objects.filter(verb="delivery.joined").count() == 2


def test_bulk_approval_reports_what_it_could_not_approve(api, analyst, supervisor, case, platform_a):
    good = propose(analyst, case, "https://tube.example/ok").pk
    unclaimed = propose(analyst, case, "https://nobody.example/x").pk
    logged = item_actions.item_log(actor=analyst, case=case, url="https://tube.example/l", kind="post").pk
    res = api(supervisor).post("/api/v1/items/approve/", {"items": [good, unclaimed, logged, 999999]},
                               format="json")
    assert res.status_code == 200
    body = res.json()
    assert body["approved"] == [good]
    assert {e["item"]: e["status_code"] for e in body["errors"]} == {unclaimed: 409, logged: 409, 999999: 404}
    assert api(supervisor).post("/api/v1/items/approve/", {"items": []}, format="json").status_code == 400


def test_rate_limit_holds_messages_to_the_next_minute(analyst, supervisor, case, settings):
    settings.DELIVERY_BATCH_WINDOW_SECONDS = 0
    with Receiver() as receiver:
        platform_with("slow", "slow.example", {"channel": "webhook", "endpoint": receiver.url + "/h",
                                               "secret": SECRET, "rate_per_minute": 2, "max_items_per_message": 1})
        for i in range(4):
            approve(analyst, supervisor, case, f"https://slow.example/{i}")
        if time.time() % 60 > 50:  # the limit counts per clock minute: keep the run inside one
            time.sleep(61 - time.time() % 60)
        counts = dispatcher.dispatch_due(linger=0)
        assert counts["sent"] == 2 and counts["paced"] >= 2
        assert len(receiver.requests) == 2
        waiting = Delivery.objects.filter(status="pending")
        assert waiting.count() == 2
        assert all(d.next_attempt_at > timezone.now() and d.attempts == 0 for d in waiting)


def test_circuit_opens_after_repeated_failures_and_probes_later(analyst, supervisor, case, settings):
    settings.CIRCUIT_FAILURE_THRESHOLD = 2
    settings.DELIVERY_BATCH_WINDOW_SECONDS = 0
    settings.DELIVERY_PER_CONTACT_POINT_CONCURRENCY = 1
    with Receiver(default_status=503) as receiver:
        platform_with("flaky", "flaky.example", {"channel": "webhook", "endpoint": receiver.url + "/h",
                                                 "secret": SECRET, "max_items_per_message": 1})
        for i in range(5):
            approve(analyst, supervisor, case, f"https://flaky.example/{i}")
        dispatcher.dispatch_due(linger=0)
        cp = ContactPoint.objects.get()
        assert cp.consecutive_failures >= 2 and cp.circuit_open_until > timezone.now()
        sent_while_open = len(receiver.requests)
        assert sent_while_open < 5  # the breaker held the rest back
        Delivery.objects.update(next_attempt_at=timezone.now())
        dispatcher.dispatch_due(linger=0)
        assert len(receiver.requests) == sent_while_open  # still open: nothing sent
        # The cooldown passes and the receiver recovers: one probe, then the rest.
        ContactPoint.objects.update(circuit_open_until=timezone.now() - timedelta(seconds=1))
        receiver.default_status = 200
        Delivery.objects.update(next_attempt_at=timezone.now())
        dispatcher.dispatch_due(linger=0)
        dispatcher.dispatch_due(linger=0)
        assert Delivery.objects.filter(status="sent").count() == 5
        cp.refresh_from_db()
        assert cp.consecutive_failures == 0 and cp.circuit_open_until is None


def test_slow_receiver_does_not_hold_up_other_contact_points(analyst, supervisor, case, settings):
    settings.DELIVERY_BATCH_WINDOW_SECONDS = 0
    settings.DELIVERY_CONCURRENCY = 4
    settings.DELIVERY_PER_CONTACT_POINT_CONCURRENCY = 2
    with Receiver(delay=3) as slow, Receiver() as fast:
        platform_with("slow", "slow.example", {"channel": "webhook", "endpoint": slow.url + "/h", "secret": SECRET,
                                               "max_items_per_message": 1, "timeout_seconds": 10})
        platform_with("fast", "fast.example", {"channel": "webhook", "endpoint": fast.url + "/h", "secret": SECRET,
                                               "max_items_per_message": 1})
        for i in range(6):
            approve(analyst, supervisor, case, f"https://slow.example/{i}")
        for i in range(20):
            approve(analyst, supervisor, case, f"https://fast.example/{i}")
        started = time.monotonic()
        dispatcher.dispatch_due(linger=0, time_budget=30)
        fast_done = max(r.at for r in fast.requests) - started - (time.time() - time.monotonic())
        assert len(fast.requests) == 20 and len(slow.requests) == 6
        # Every fast message went out while the first slow ones were still being answered (3 s each).
        assert fast_done < 3, fast_done


def test_dead_letter_redrive(api, analyst, supervisor, case):
    with Receiver(default_status=400) as receiver:
        platform_with("vid", "vid.example", {"channel": "webhook", "endpoint": receiver.url + "/h", "secret": SECRET})
        referral = approve(analyst, supervisor, case, "https://vid.example/1")
        assert dispatcher.dispatch_due() == {"stopped": 1}
        delivery = Delivery.objects.get()
        referral.refresh_from_db()
        assert referral.status == "failed"
        assert Alert.objects.filter(kind="delivery_stopped", delivery_id=delivery.pk).exists()
        dead = api(supervisor).get("/api/v1/deliveries/?status=stopped").json()["results"]
        assert [d["id"] for d in dead] == [str(delivery.pk)]
        assert dead[0]["attempt_records"][0]["response_status"] == 400
        assert api(analyst).post(f"/api/v1/deliveries/{delivery.pk}/redrive/").status_code == 403
        receiver.default_status = 200
        res = api(supervisor).post(f"/api/v1/deliveries/{delivery.pk}/redrive/")
        assert res.status_code == 200 and res.json()["status"] == "pending"
        referral.refresh_from_db()
        assert referral.status == "queued"
        assert dispatcher.dispatch_due() == {"sent": 1}
        referral.refresh_from_db()
        assert referral.status == "sent"
        first, second = receiver.requests
        assert first.headers["webhook-id"] == second.headers["webhook-id"] and first.body == second.body
        assert api(supervisor).post(f"/api/v1/deliveries/{delivery.pk}/redrive/").status_code == 409


def test_redrive_needs_an_enabled_contact_point(analyst, supervisor, case, admin_user):
    with Receiver(default_status=410) as receiver:
        platform_with("vid", "vid.example", {"channel": "webhook", "endpoint": receiver.url + "/h", "secret": SECRET})
        approve(analyst, supervisor, case, "https://vid.example/1")
        dispatcher.dispatch_due()
        delivery = Delivery.objects.get()
        with pytest.raises(Conflict):
            outbox_actions.delivery_redrive(actor=supervisor, delivery_id=delivery.pk)
        cp = ContactPoint.objects.get()
        assert "410" in cp.disabled_reason
        assert Alert.objects.filter(kind="contact_point_disabled").count() == 1
        platform_services.contact_point_enable(actor=admin_user, contact_point_id=cp.pk)
        receiver.default_status = 200
        outbox_actions.delivery_redrive(actor=supervisor, delivery_id=delivery.pk)
        assert dispatcher.dispatch_due() == {"sent": 1}


def test_secret_rotation_signs_with_both_secrets(api, admin_user, analyst, supervisor, case):
    with Receiver() as receiver:
        platform = platform_with("vid", "vid.example",
                                 {"channel": "webhook", "endpoint": receiver.url + "/h", "secret": SECRET})
        cp = platform.contact_points.get()
        res = api(admin_user).post(f"/api/v1/contact-points/{cp.pk}/rotate-secret/", {"secret": "whsec_short"},
                                   format="json")
        assert res.status_code == 400 and "secret" in res.json()["errors"]
        res = api(admin_user).post(f"/api/v1/contact-points/{cp.pk}/rotate-secret/", {"secret": NEW_SECRET},
                                   format="json")
        assert res.status_code == 200 and res.json()["rotating_until"]
        assert NEW_SECRET not in res.content.decode() and SECRET not in res.content.decode()
        approve(analyst, supervisor, case, "https://vid.example/1")
        dispatcher.dispatch_due()
        [request] = receiver.requests
        assert len(request.headers["webhook-signature"].split(" ")) == 2
        assert webhook.verify(NEW_SECRET, request.headers, request.body)
        assert webhook.verify(SECRET, request.headers, request.body)
        # After the overlap only the new secret signs.
        ContactPoint.objects.update(previous_secret_until=timezone.now() - timedelta(seconds=1))
        approve(analyst, supervisor, case, "https://vid.example/2")
        dispatcher.dispatch_due()
        latest = receiver.requests[-1]
        assert webhook.verify(NEW_SECRET, latest.headers, latest.body)
        assert not webhook.verify(SECRET, latest.headers, latest.body)


def test_contact_point_formats_and_endpoints_are_checked(admin_user):
    with pytest.raises(InvalidInput) as exc:
        platform_with("bad", "bad.example", {"channel": "email", "endpoint": "abuse@bad.example", "format": "json-v1"})
    assert "format" in exc.value.field_errors["contact_points"]["0"]
