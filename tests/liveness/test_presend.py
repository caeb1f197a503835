"""The check just before sending: content already offline when its referral is approved is never sent (and says
so), everything else is sent as soon as it is checked, and a check never holds a message past its wait. Against
local pages behind the local egress proxy, the outbox sending to a real local webhook."""

import json
import time

import pytest

from audit.models import AuditEvent
from cases.actions import items as item_actions
from liveness import presend
from liveness.models import LivenessCheck, LivenessState
from liveness.selectors import liveness_for
from platforms.models import ContactPoint
from referral.actions import approval
from referral.models import Delivery, Instrument, ReferralStatus
from referral.outbox import dispatcher

GONE = "<h1>This video is unavailable</h1>"
PAGE = "<h1>A video</h1>"
WAIT = 30  # seconds a new message waits for its check: far longer than any of these tests takes to check


@pytest.fixture(autouse=True)
def _check_before_sending(settings):
    settings.PRESEND_CHECK_SECONDS = WAIT


@pytest.fixture
def approve(case, analyst, supervisor, tube):
    def make(*urls, instrument=Instrument.REFERRAL):
        ids = []
        for url in urls:
            item = item_actions.item_log(actor=analyst, case=case, url=url, kind="post", categories=["incitement"])
            item_actions.item_propose(actor=analyst, item_id=item.pk)
            ids.append(item.pk)
        result = approval.item_approve_many(actor=supervisor, item_ids=ids, instrument=instrument,
                                            order={"statement_of_reasons": "Incites terrorism."}
                                            if instrument == Instrument.REMOVAL_ORDER else None)
        assert not result["errors"], result["errors"]
        return result["referrals"]
    return make


def sent_ids(inbox) -> list[int]:
    return sorted(r["id"] for request in inbox.requests for r in json.loads(request.body)["referrals"])


def test_content_already_offline_is_not_sent_and_is_marked_so(approve, proxy, tls_pages, platform_inbox, tube):
    ContactPoint.objects.filter(platform=tube).update(max_items_per_message=10)  # both in one message
    tls_pages.page("/watch?v=gone", (404, GONE))
    tls_pages.page("/watch?v=up", (200, PAGE))
    gone, up = approve("https://tube.example/watch?v=gone", "https://tube.example/watch?v=up")
    assert Delivery.objects.filter(referrals=gone).get() == Delivery.objects.filter(referrals=up).get()
    assert dispatcher.dispatch_due(time_budget=2, linger=0) == {}  # waiting for the check

    assert presend.check_before_sending() == {"offline": 1, "online": 1, "not_sent": 1, "released": 1}
    dispatcher.dispatch_due(time_budget=10)

    assert sent_ids(platform_inbox) == [up]  # well before the wait is over, and without the offline one
    referral_gone = tube.referrals.get(pk=gone)
    assert referral_gone.status == ReferralStatus.ALREADY_OFFLINE and referral_gone.sent_at is None
    assert tube.referrals.get(pk=up).status == ReferralStatus.SENT
    check = LivenessCheck.objects.get(referral_id=gone, presend=True)
    assert (check.verdict, check.status_code, check.matched_rule, check.via_proxy) == ("offline", 404,
                                                                                      "default: 404", True)
    assert len(check.body_sha256) == 64 and check.final_url == "https://tube.example/watch?v=gone"
    assert liveness_for([gone])[gone]["state"] == "offline"
    assert LivenessState.objects.get(referral_id=gone).finished  # never scheduled: it was never sent
    event = AuditEvent.objects.get(verb="referral.not_sent_offline", object_id=str(gone))
    assert event.after["status_code"] == 404 and event.after["check"] == check.pk
    assert LivenessCheck.objects.get(referral_id=up, presend=True).verdict == "online"


def test_a_removal_order_whose_content_is_gone_is_not_sent_and_its_empty_message_is_cancelled(
        approve, proxy, tls_pages, platform_inbox):
    tls_pages.page("/watch?v=order", (410, GONE))
    [order] = approve("https://tube.example/watch?v=order", instrument=Instrument.REMOVAL_ORDER)
    delivery = Delivery.objects.get(referrals=order)
    assert presend.check_before_sending()["not_sent"] == 1
    assert not Delivery.objects.filter(pk=delivery.pk).exists()
    assert AuditEvent.objects.filter(verb="delivery.cancelled", object_id=str(delivery.pk)).exists()
    dispatcher.dispatch_due(time_budget=2, linger=0)
    assert platform_inbox.requests == []


def test_an_unknown_answer_never_holds_a_referral_back(approve, proxy, tls_pages, platform_inbox):
    tls_pages.page("/watch?v=busy", (503, "busy"))
    [referral] = approve("https://tube.example/watch?v=busy")
    assert presend.check_before_sending() == {"unknown": 1, "released": 1}
    dispatcher.dispatch_due(time_budget=10)
    assert sent_ids(platform_inbox) == [referral]
    assert LivenessCheck.objects.get(referral_id=referral, presend=True).matched_rule == "default: 503"


def test_a_message_already_on_its_way_is_not_taken_back(approve, proxy, tls_pages, platform_inbox, settings):
    settings.PRESEND_CHECK_SECONDS = 1
    tls_pages.page("/watch?v=late", (404, GONE))
    [referral] = approve("https://tube.example/watch?v=late")
    claimed = presend.claim()
    time.sleep(1.1)  # the wait is over before the check is recorded: the message goes
    dispatcher.dispatch_due(time_budget=10)
    assert sent_ids(platform_inbox) == [referral]
    results = [presend._check(None, None, job, 0, []) for job, _ in claimed]  # too late even to start
    assert results[0].verdict == "unknown" and "not checked in time" in results[0].error

    late = [presend._check(client, presend.politeness.gate(), job, time.time() + 5, [])
            for client in [presend.fetching.build_client(1)] for job, _ in claimed]
    assert late[0].verdict == "offline"
    assert presend.record(late) == {"offline": 1}  # found offline, but the platform has it: left as it is
    assert tube_status(referral) == ReferralStatus.SENT


def tube_status(referral_id):
    from referral.models import Referral

    return Referral.objects.get(pk=referral_id).status


def test_without_a_check_before_sending_the_message_is_due_at_once(approve, settings, platform_inbox, tls_pages):
    settings.PRESEND_CHECK_SECONDS = 0
    [referral] = approve("https://tube.example/watch?v=now")
    dispatcher.dispatch_due(time_budget=10)
    assert sent_ids(platform_inbox) == [referral]
    assert presend.check_before_sending() == {}
    assert tls_pages.hits("/watch?v=now") == 0


def test_a_run_takes_on_only_what_the_hosts_politeness_lets_start_in_time(approve, proxy, tls_pages, settings):
    """An action day's thousands to one host cannot all be checked within the wait: a run claims what the host's
    interval lets start in time (2 s / 1 s, plus one in flight: 3); the rest is not claimed and goes at its time."""
    settings.PRESEND_CHECK_SECONDS, settings.LIVENESS_HOST_INTERVAL_MS, settings.LIVENESS_HOST_CONCURRENCY = 2, 1000, 1
    for n in range(5):
        tls_pages.page(f"/watch?v=b{n}", (200, PAGE))
    ids = approve(*(f"https://tube.example/watch?v=b{n}" for n in range(5)))
    started = time.monotonic()
    counts = presend.check_before_sending()
    assert time.monotonic() - started < 4
    assert LivenessCheck.objects.filter(presend=True).count() == 3 == sum(counts.get(v, 0) for v in
                                                                          ("online", "unknown"))
    assert LivenessCheck.objects.filter(presend=True, referral_id__in=ids[3:]).count() == 0
    assert tls_pages.hits("/watch?v=b4") == 0
