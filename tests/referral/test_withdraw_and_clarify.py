"""Withdraw a referral, answer a platform's question, and a liaison's outcomes in bulk (issue 9): the platform is told
through the outbox (a signed referrals.withdrawn / referrals.clarified webhook with its own delivery id, to a real
local receiver, sent by the real dispatcher); a withdrawn referral refuses every later answer; bulk outcomes are
answered per row, scoped to the liaison's platform, and idempotent."""

import json

import pytest

from alerts.models import Alert
from audit.chain import verify_chain
from audit.models import AuditEvent
from cases.actions import items as item_actions
from core.errors import Conflict, InvalidInput, NotFound, NotPermitted, TransitionNotAllowed
from devtools.smtp_sink import SmtpSink
from platforms import services as platform_services
from platforms.models import ContactPoint
from referral.actions import approval, outcomes, withdrawal
from referral.models import Delivery, Referral
from referral.outbox import dispatcher, webhook
from tests.conftest import make_platform, make_user
from tests.receiver import Receiver

SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="  # 32 bytes, test only


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def tube(db, receiver):
    return make_platform("tube", ["tube.example"], endpoint=receiver.url + "/hook", secret=SECRET)


@pytest.fixture
def tube_liaison(tube):
    return make_user("tube_liaison", "liaison", platform=tube)


def approve(analyst, supervisor, case, n):
    item = item_actions.item_log(actor=analyst, case=case, url=f"https://tube.example/watch?v=w{n}", kind="post",
                                 categories=["incitement"])
    item_actions.item_propose(actor=analyst, item_id=item.pk)
    return approval.item_approve(actor=supervisor, item_id=item.pk).referrals.get()


def bodies(receiver) -> list[dict]:
    return [json.loads(r.body) for r in receiver.requests]


def test_withdrawing_a_sent_referral_tells_the_platform_with_a_signed_event(
        tube, receiver, analyst, supervisor, case, tube_liaison, api):
    referral = approve(analyst, supervisor, case, 1)
    assert dispatcher.dispatch_due() == {"sent": 1}
    r = api(supervisor).post(f"/api/v1/referrals/{referral.pk}/withdraw/", {"reason": "Wrong channel: a parody."},
                             format="json")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "withdrawn"
    event = Delivery.objects.get(event="referrals.withdrawn")
    assert event.message == "Wrong channel: a parody." and list(event.referrals.all()) == [referral]
    assert dispatcher.dispatch_due() == {"sent": 1}
    request = receiver.requests[-1]
    assert request.headers["webhook-id"] == str(event.pk)
    assert webhook.verify(SECRET, request.headers, request.body)
    body = json.loads(request.body)
    assert body["type"] == "referrals.withdrawn" and body["reason"] == "Wrong channel: a parody."
    assert [e["id"] for e in body["referrals"]] == [referral.pk] and body["delivery"] == str(event.pk)
    referral.refresh_from_db()
    assert referral.status == "withdrawn"  # recording the event's delivery moved nothing

    # The platform answers afterwards: 409, and nothing changes.
    r = api(tube_liaison).post(f"/api/v1/referrals/{referral.pk}/status/", {"status": "removed"}, format="json")
    assert r.status_code == 409 and "withdrawn" in r.json()["detail"]
    assert Referral.objects.get(pk=referral.pk).status == "withdrawn"
    verbs = list(AuditEvent.objects.filter(object_type="referral", object_id=str(referral.pk))
                 .values_list("verb", flat=True))
    assert verbs[-1] == "referral.withdrawn"
    assert verify_chain() is None


def test_a_referral_withdrawn_before_it_was_sent_stays_withdrawn_when_it_is_sent(
        tube, receiver, analyst, supervisor, case):
    referral = approve(analyst, supervisor, case, 2)
    withdrawal.referral_withdraw(actor=supervisor, referral_id=referral.pk, reason="Duplicate of an older one.")
    created, withdrawn = (Delivery.objects.get(event=e) for e in ("referrals.created", "referrals.withdrawn"))
    assert withdrawn.next_attempt_at > created.next_attempt_at  # due after the referral's own message
    assert dispatcher.dispatch_due(linger=3) == {"sent": 2}
    assert [b["type"] for b in bodies(receiver)] == ["referrals.created", "referrals.withdrawn"]
    referral.refresh_from_db()
    assert referral.status == "withdrawn"


def test_bulk_withdrawal_answers_per_referral(tube, analyst, supervisor, case, api, platform_b):
    referrals = [approve(analyst, supervisor, case, n) for n in range(3)]
    Referral.objects.filter(pk=referrals[2].pk).update(status="removed")  # final: cannot be withdrawn
    r = api(supervisor).post("/api/v1/referrals/withdraw/", {
        "referrals": [referrals[0].pk, referrals[1].pk, referrals[2].pk, 987654], "reason": "Operation paused."},
        format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["withdrawn"] == [referrals[0].pk, referrals[1].pk]
    assert {e["referral"]: e["status_code"] for e in body["errors"]} == {referrals[2].pk: 409, 987654: 404}
    # One event delivery for the platform's contact point carries both.
    event = Delivery.objects.get(event="referrals.withdrawn")
    assert sorted(event.referrals.values_list("pk", flat=True)) == body["withdrawn"]


def test_withdrawal_needs_a_supervisor_and_a_reason(tube, analyst, supervisor, case, api, tube_liaison):
    referral = approve(analyst, supervisor, case, 4)
    for user in (analyst, tube_liaison):
        assert api(user).post(f"/api/v1/referrals/{referral.pk}/withdraw/", {"reason": "x"},
                              format="json").status_code == 403
        with pytest.raises(NotPermitted):
            withdrawal.referral_withdraw(actor=user, referral_id=referral.pk, reason="x")
    r = api(supervisor).post(f"/api/v1/referrals/{referral.pk}/withdraw/", {"reason": " "}, format="json")
    assert r.status_code == 400 and "reason" in r.json()["errors"]
    with pytest.raises(InvalidInput):
        withdrawal.referral_withdraw(actor=supervisor, referral_id=referral.pk, reason="  ")
    assert api(supervisor).post("/api/v1/referrals/987654/withdraw/", {"reason": "x"},
                                format="json").status_code == 404
    assert Referral.objects.get(pk=referral.pk).status == "queued"
    assert not Delivery.objects.filter(event="referrals.withdrawn").exists()


def test_a_platform_without_an_active_contact_point_is_flagged(tube, analyst, supervisor, case):
    referral = approve(analyst, supervisor, case, 5)
    # As the outbox leaves it after a 410 Gone (there is no service to disable a contact point by hand).
    ContactPoint.objects.filter(platform=tube).update(active=False, disabled_reason="410 Gone")
    withdrawal.referral_withdraw(actor=supervisor, referral_id=referral.pk, reason="Mistake.")
    assert not Delivery.objects.filter(event="referrals.withdrawn").exists()
    alert = Alert.objects.get(kind="event_undeliverable")
    assert str(referral.pk) in alert.message


def test_needs_info_is_clarified_through_the_outbox_and_the_referral_waits_again(
        tube, receiver, analyst, supervisor, case, tube_liaison, api):
    referral = approve(analyst, supervisor, case, 6)
    dispatcher.dispatch_due()
    api(tube_liaison).post(f"/api/v1/referrals/{referral.pk}/status/",
                           {"status": "needs_info", "note": "Which account?"}, format="json")
    r = api(analyst).post(f"/api/v1/referrals/{referral.pk}/clarify/",
                          {"message": "The outlet's main account, @hydra_media."}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "acknowledged"
    assert dispatcher.dispatch_due() == {"sent": 1}
    body = bodies(receiver)[-1]
    assert body["type"] == "referrals.clarified" and body["message"] == "The outlet's main account, @hydra_media."
    assert webhook.verify(SECRET, receiver.requests[-1].headers, receiver.requests[-1].body)
    # The platform answers with its outcome.
    r = api(tube_liaison).post(f"/api/v1/referrals/{referral.pk}/status/", {"status": "removed"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "removed"
    # Only a referral that needs information can be clarified.
    r = api(supervisor).post(f"/api/v1/referrals/{referral.pk}/clarify/", {"message": "More."}, format="json")
    assert r.status_code == 409
    with pytest.raises(Conflict):
        withdrawal.referral_clarify(actor=supervisor, referral_id=referral.pk, message="More.")
    with pytest.raises(NotPermitted):
        withdrawal.referral_clarify(actor=tube_liaison, referral_id=referral.pk, message="More.")
    assert api(tube_liaison).post(f"/api/v1/referrals/{referral.pk}/clarify/", {"message": "x"},
                                  format="json").status_code == 403


def test_an_email_contact_point_gets_the_withdrawal_as_an_email(db, analyst, supervisor, case, settings):
    with SmtpSink() as sink:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        platform = platform_services.platform_create(
            actor=None, slug="mailer", name="Mailer", domains=["mailer.example"],
            contact_points=[{"channel": "email", "endpoint": "abuse@mailer.example"}])
        item = item_actions.item_log(actor=analyst, case=case, url="https://mailer.example/p/1", kind="post",
                                     categories=["incitement"])
        item_actions.item_propose(actor=analyst, item_id=item.pk)
        referral = approval.item_approve(actor=supervisor, item_id=item.pk).referrals.get()
        assert referral.platform_id == platform.pk
        withdrawal.referral_withdraw(actor=supervisor, referral_id=referral.pk, reason="Posted by our own officer.")
        Delivery.objects.update(next_attempt_at=referral.created_at)
        assert dispatcher.dispatch_due() == {"sent": 2}
        subjects = sorted(" ".join(m.message["Subject"].split()) for m in sink.messages)
    withdrawn = [s for s in subjects if "WITHDRAWN" in s]
    assert len(subjects) == 2 and len(withdrawn) == 1 and str(referral.pk) in withdrawn[0]
    message = next(m.message for m in sink.messages if "WITHDRAWN" in m.message["Subject"])
    assert "Posted by our own officer." in message.get_body(("plain",)).get_content()
    assert Referral.objects.get(pk=referral.pk).status == "withdrawn"


# --- a liaison's outcomes in bulk ----------------------------------------------------------------------


def test_bulk_outcomes_are_answered_per_row_scoped_and_idempotent(
        tube, analyst, supervisor, case, tube_liaison, api, approved_referral_b):
    mine = [approve(analyst, supervisor, case, 10 + n) for n in range(4)]
    withdrawal.referral_withdraw(actor=supervisor, referral_id=mine[3].pk, reason="Mistake.")
    rows = [
        {"id": mine[0].pk, "status": "removed", "platform_reference": "T-1", "action_taken_at": "2026-12-01T10:00:00Z"},
        {"id": mine[1].pk, "status": "acknowledged"},
        {"id": approved_referral_b.pk, "status": "removed"},  # another platform's: a missing one's 404
        {"id": 987654, "status": "removed"},
        {"id": mine[2].pk, "status": "exploded"},
        {"id": mine[3].pk, "status": "removed"},  # withdrawn: 409
        {"status": "removed"},
    ]
    client = api(tube_liaison)
    r = client.post("/api/v1/referrals/status/", rows, format="json")
    assert r.status_code == 200, r.content
    results = r.json()["results"]
    assert [x["status_code"] for x in results] == [200, 200, 404, 404, 400, 409, 400]
    assert results[2] == {"id": approved_referral_b.pk, "status_code": 404, "detail": "Not found.", "errors": {}}
    assert results[2]["detail"] == results[3]["detail"] and results[2]["errors"] == results[3]["errors"]
    assert results[0]["referral"]["status"] == "removed" and results[0]["referral"]["platform_reference"] == "T-1"
    assert "status" in results[4]["errors"] and "id" in results[6]["errors"]
    assert Referral.objects.get(pk=approved_referral_b.pk).status == "queued"
    first = AuditEvent.objects.count()
    # The same rows again: the same answers for the rows that were fine, and nothing changes.
    again = client.post("/api/v1/referrals/status/", {"referrals": rows[:2]}, format="json").json()["results"]
    assert [x["status_code"] for x in again] == [200, 200]
    assert AuditEvent.objects.count() == first
    assert Referral.objects.get(pk=mine[0].pk).action_taken_at.isoformat().startswith("2026-12-01T10:00:00")


def test_bulk_outcomes_refuse_a_bad_body_whole(tube_liaison, api, supervisor):
    client = api(tube_liaison)
    for body in ({}, [], {"referrals": "no"}, "text"):
        r = client.post("/api/v1/referrals/status/", body, format="json")
        assert r.status_code == 400 and r.json()["detail"], body
    r = client.post("/api/v1/referrals/status/", [{"id": 1, "status": "removed"}] * 1001, format="json")
    assert r.status_code == 400 and "1000" in json.dumps(r.json())
    assert api(supervisor).post("/api/v1/referrals/status/", [{"id": 1, "status": "removed"}],
                                format="json").status_code == 403
    with pytest.raises(NotFound):
        outcomes.referrals_record_status_many(actor=supervisor, rows=[{"id": 1, "status": "removed"}])


def test_the_moves_stay_in_the_transition_table():
    with pytest.raises(TransitionNotAllowed):
        outcomes.referrals_move_locked([1], "removed", "withdrawn", now=None)


# --- who hears of the platform's answers ---------------------------------------------------------------


def test_needs_info_and_declined_notify_the_proposer_and_the_approver(
        tube, analyst, supervisor, case, tube_liaison, api, supervisor_2):
    from notifications.models import Notification

    asked, declined = approve(analyst, supervisor, case, 20), approve(analyst, supervisor, case, 21)
    client = api(tube_liaison)
    client.post(f"/api/v1/referrals/{asked.pk}/status/", {"status": "needs_info", "note": "Which account?"},
                format="json")
    client.post("/api/v1/referrals/status/", [{"id": declined.pk, "status": "declined"}], format="json")
    told = {(n.recipient_id, n.kind, n.object_id) for n in Notification.objects.exclude(kind="api_key_issued")}
    assert told == {(analyst.pk, "needs_info", str(asked.pk)), (supervisor.pk, "needs_info", str(asked.pk)),
                    (analyst.pk, "declined", str(declined.pk)), (supervisor.pk, "declined", str(declined.pk))}
    assert "Which account?" in Notification.objects.filter(kind="needs_info").first().message


def test_a_bulk_return_tells_each_proposer_once(analyst, analyst_2, supervisor, case, platform_a):
    from notifications.models import Notification

    ids = []
    for n, who in enumerate([analyst, analyst, analyst_2]):
        item = item_actions.item_log(actor=who, case=case, url=f"https://tube.example/watch?v=ret{n}", kind="post",
                                     categories=["incitement"])
        ids.append(item_actions.item_propose(actor=who, item_id=item.pk).pk)
    approval.items_return_many(actor=supervisor, item_ids=ids, reason="Add context.")
    told = sorted((n.recipient_id, n.message) for n in Notification.objects.filter(kind="item_returned"))
    assert [r for r, _ in told] == sorted([analyst.pk, analyst_2.pk])
    assert any(m.startswith("2 items returned") for _, m in told)


def test_a_removal_orders_hour_restarts_from_the_receipt_of_the_clarification(
        tube, receiver, analyst, supervisor, case, tube_liaison, api):
    from datetime import timedelta

    from tests.conftest import ORDER

    item = item_actions.item_log(actor=analyst, case=case, url="https://tube.example/watch?v=ord1", kind="post",
                                 categories=["incitement"])
    item_actions.item_propose(actor=analyst, item_id=item.pk)
    order = approval.item_approve(actor=supervisor, item_id=item.pk, instrument="removal_order",
                                  order=ORDER).referrals.get()
    dispatcher.dispatch_due()
    api(tube_liaison).post(f"/api/v1/referrals/{order.pk}/status/", {
        "status": "cannot_execute", "reason": "insufficient_information"}, format="json")
    withdrawal.referral_clarify(actor=analyst, referral_id=order.pk, message="The video at 00:42.")
    assert dispatcher.dispatch_due() == {"sent": 1}
    clarified = Delivery.objects.get(event="referrals.clarified")
    order.refresh_from_db()
    assert order.status == "acknowledged" and order.due_at == clarified.sent_at + timedelta(hours=1)
    assert bodies(receiver)[-1]["type"] == "referrals.clarified"


def test_an_action_cannot_precede_the_platforms_receipt(tube, receiver, analyst, supervisor, case, tube_liaison, api):
    from datetime import timedelta

    referral = approve(analyst, supervisor, case, 30)
    dispatcher.dispatch_due()
    referral.refresh_from_db()
    early = (referral.sent_at - timedelta(hours=1)).isoformat()
    r = api(tube_liaison).post(f"/api/v1/referrals/{referral.pk}/status/",
                               {"status": "removed", "action_taken_at": early}, format="json")
    assert r.status_code == 400 and "action_taken_at" in r.json()["errors"]
    skewed = (referral.sent_at - timedelta(minutes=2)).isoformat()  # within the clock tolerance
    r = api(tube_liaison).post(f"/api/v1/referrals/{referral.pk}/status/",
                               {"status": "removed", "action_taken_at": skewed}, format="json")
    assert r.status_code == 200, r.content
