"""The sandbox platform on real sockets: webhook verification, dedupe, callbacks to a stand-in API and to a live
Django server on the test database, and the management command as a real process."""

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from accounts import services as account_services
from audit.models import AuditEvent
from devtools.sandbox import SandboxPlatform, declines, platform_reference
from referral.models import Referral
from referral.outbox import webhook
from referral.outbox.formatters import referral_entry
from tests.receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]
SECRET = webhook.generate_secret()
OTHER_SECRET = webhook.generate_secret()
API_KEY = "sbxTestKey.not-a-real-key-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 10.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def entry(referral_id: int, base: str, instrument: str = "referral") -> dict:
    return {"id": referral_id, "url": f"https://tube.example/watch?v={referral_id}",
            "canonical_url": f"https://tube.example/watch?v={referral_id}", "kind": "post",
            "categories": ["incitement"], "instrument": instrument, "due_at": "2030-01-01T00:00:00Z",
            "status_url": f"{base}/api/v1/referrals/{referral_id}/"}


def payload(entries: list[dict], delivery: str | None = None) -> bytes:
    body = {"type": "referrals.created", "delivery": delivery or str(uuid.uuid4()), "referrals": entries}
    return json.dumps(body, separators=(",", ":")).encode()


def deliver(sandbox, body: bytes, *, msg_id: str | None = None, secret: str = SECRET, timestamp: int | None = None,
            signature: str | None = None, slug: str = "tube") -> httpx.Response:
    """POST a webhook the way the dispatcher does (fresh timestamp and signature on every attempt)."""
    msg_id = msg_id or json.loads(body).get("delivery") or str(uuid.uuid4())
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {"content-type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(timestamp),
               "webhook-signature": signature or webhook.sign(secret, msg_id, timestamp, body)}
    return httpx.post(f"{sandbox.url}/hooks/{slug}", content=body, headers=headers, timeout=5)


@pytest.fixture
def api():
    """A stand-in for the desk's API: a real HTTP server that records the callbacks and answers 200."""
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def make_sandbox():
    started = []

    def make(*, api_url: str, api_key: str = API_KEY, **options) -> SandboxPlatform:
        options = {"ack_delay": 0.05, "outcome_delay": 0.05, "decline_share": 0.0, "out": io.StringIO()} | options
        config = {"platforms": {"tube": {"secret": SECRET, "api_key": api_key}}}
        sandbox = SandboxPlatform(config, port=0, api_url=api_url, **options).start()
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in started:
        sandbox.stop()


def settle(sandbox, seconds: float = 0.4) -> None:
    """Give any (wrongly) scheduled callback time to run, then wait until none is pending."""
    time.sleep(seconds)
    wait_for(sandbox.idle, 10, "the sandbox to be idle")


# --- receiving ------------------------------------------------------------------------------------------


def test_signed_webhook_is_answered_recorded_and_called_back(api, make_sandbox):
    sandbox = make_sandbox(api_url=api.url)
    body = payload([entry(7, api.url), entry(8, api.url)])
    msg_id = json.loads(body)["delivery"]

    res = deliver(sandbox, body)

    assert res.status_code == 200
    [received] = httpx.get(f"{sandbox.url}/received").json()
    assert received["webhook_id"] == msg_id and received["platform"] == "tube"
    assert received["referral_ids"] == [7, 8]
    assert received["verified"] is True and received["duplicate"] is False and received["result"] == "accepted"
    assert received["received_at"].endswith("Z")

    wait_for(lambda: len(api.requests) == 4, what="two acknowledgements and two outcomes")
    by_referral = {}
    for request in api.requests:
        assert request.headers["authorization"] == f"Bearer {API_KEY}"
        assert request.headers["content-type"] == "application/json"
        by_referral.setdefault(request.path, []).append(json.loads(request.body))
    assert set(by_referral) == {"/api/v1/referrals/7/status/", "/api/v1/referrals/8/status/"}
    for referral_id in (7, 8):
        ack, outcome = by_referral[f"/api/v1/referrals/{referral_id}/status/"]
        assert ack == {"status": "acknowledged", "platform_reference": f"SBX-TUBE-{referral_id}"}
        assert outcome["status"] == "removed" and outcome["platform_reference"] == f"SBX-TUBE-{referral_id}"
        assert outcome["action_taken_at"].endswith("Z")

    status = httpx.get(sandbox.url + "/").json()
    counts = status["platforms"]["tube"]
    assert counts["received"] == 1 and counts["accepted"] == 1 and counts["callbacks"] == 4
    assert counts["rejected"] == counts["duplicates"] == counts["callback_errors"] == 0
    assert status["pending_callbacks"] == 0
    assert len(httpx.get(sandbox.url + "/callbacks").json()) == 4


def test_any_one_of_several_signatures_may_match(api, make_sandbox):
    """Secret rotation: the sender may put several space-separated signatures in the header."""
    sandbox = make_sandbox(api_url=api.url, ack_delay=60)
    body = payload([entry(1, api.url)])
    msg_id, ts = str(uuid.uuid4()), int(time.time())
    good = webhook.sign(SECRET, msg_id, ts, body)
    stale_key = webhook.sign(OTHER_SECRET, msg_id, ts, body)
    assert deliver(sandbox, body, msg_id=msg_id, timestamp=ts, signature=f"{stale_key} {good}").status_code == 200
    assert deliver(sandbox, body, msg_id=str(uuid.uuid4()), timestamp=ts,
                   signature=f"v1a,{good.split(',')[1]}").status_code == 401


@pytest.mark.parametrize("problem", ["wrong secret", "tampered body", "wrong id", "no signature", "no timestamp"])
def test_bad_signature_is_401_and_never_called_back(api, make_sandbox, problem):
    sandbox = make_sandbox(api_url=api.url)
    body = payload([entry(3, api.url)])
    msg_id, ts = str(uuid.uuid4()), int(time.time())
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(ts),
               "webhook-signature": webhook.sign(SECRET, msg_id, ts, body)}
    sent = body
    if problem == "wrong secret":
        headers["webhook-signature"] = webhook.sign(OTHER_SECRET, msg_id, ts, body)
    elif problem == "tampered body":
        sent = body.replace(b'"id":3', b'"id":4')
    elif problem == "wrong id":
        headers["webhook-id"] = str(uuid.uuid4())
    elif problem == "no signature":
        del headers["webhook-signature"]
    else:
        del headers["webhook-timestamp"]

    res = httpx.post(f"{sandbox.url}/hooks/tube", content=sent, headers=headers)

    assert res.status_code == 401
    [received] = sandbox.received_list()
    assert received["verified"] is False and received["result"] == "rejected"
    settle(sandbox)
    assert api.requests == [] and sandbox.callback_list() == []
    assert sandbox.status()["platforms"]["tube"]["rejected"] == 1


@pytest.mark.parametrize("skew", [-330, 330, -3600])  # clear of the 300 s edge: int() and latency blur it
def test_timestamp_outside_five_minutes_is_401(api, make_sandbox, skew):
    sandbox = make_sandbox(api_url=api.url)
    body = payload([entry(5, api.url)])
    res = deliver(sandbox, body, timestamp=int(time.time()) + skew)  # correctly signed, but stale or early
    assert res.status_code == 401
    assert "tolerance" in res.json()["detail"]
    settle(sandbox)
    assert api.requests == []


def test_timestamp_within_tolerance_is_accepted(api, make_sandbox):
    sandbox = make_sandbox(api_url=api.url, ack_delay=60)
    assert deliver(sandbox, payload([entry(5, api.url)]), timestamp=int(time.time()) - 240).status_code == 200


def test_repeated_webhook_id_is_answered_but_not_processed_again(api, make_sandbox):
    sandbox = make_sandbox(api_url=api.url)
    body = payload([entry(11, api.url)])
    assert deliver(sandbox, body).status_code == 200
    wait_for(lambda: len(api.requests) == 2, what="acknowledgement and outcome")

    res = deliver(sandbox, body)  # a retry by the desk: same id and bytes, new timestamp and signature

    assert res.status_code == 200 and res.json()["result"] == "duplicate"
    settle(sandbox)
    assert len(api.requests) == 2
    first, second = sandbox.received_list()
    assert first["duplicate"] is False and second["duplicate"] is True
    assert second["verified"] is True and second["webhook_id"] == first["webhook_id"]
    assert sandbox.status()["platforms"]["tube"]["duplicates"] == 1


def test_unknown_platform_or_path_is_404(api, make_sandbox):
    sandbox = make_sandbox(api_url=api.url)
    body = payload([entry(1, api.url)])
    assert deliver(sandbox, body, slug="nope").status_code == 404
    assert httpx.post(f"{sandbox.url}/elsewhere", content=body).status_code == 404
    assert httpx.get(f"{sandbox.url}/nothing-here").status_code == 404
    assert sandbox.received_list() == []


def test_unusable_body_is_400_and_unknown_event_types_are_ignored(api, make_sandbox):
    sandbox = make_sandbox(api_url=api.url)
    assert deliver(sandbox, b"not json", msg_id=str(uuid.uuid4())).status_code == 400
    unknown = json.dumps({"type": "referrals.archived", "delivery": "x", "referrals": [entry(1, api.url)]}).encode()
    assert deliver(sandbox, unknown).status_code == 200
    settle(sandbox)
    assert api.requests == []


def event(kind: str, entries: list[dict], text: str) -> bytes:
    field = {"referrals.withdrawn": "reason", "referrals.clarified": "message", "referrals.reminder": "message"}[kind]
    body = {"type": kind, "delivery": str(uuid.uuid4()), "referrals": entries, field: text}
    return json.dumps(body, separators=(",", ":")).encode()


def test_a_withdrawal_is_accepted_recorded_and_stops_the_callbacks(api, make_sandbox):
    sandbox = make_sandbox(api_url=api.url, ack_delay=0.3)
    deliver(sandbox, payload([entry(31, api.url), entry(32, api.url)]))
    assert deliver(sandbox, event("referrals.withdrawn", [entry(31, api.url)], "Sent by mistake.")).status_code == 200
    wait_for(lambda: len(api.requests) == 2, what="referral 32's acknowledgement and outcome")
    settle(sandbox)
    assert {json.loads(r.body)["status"] for r in api.requests} == {"acknowledged", "removed"}
    assert all("/referrals/32/" in r.path for r in api.requests)  # nothing more about the withdrawn one
    received = sandbox.received_list()
    assert [(r["event"], r["referral_ids"], r["result"]) for r in received] == [
        ("referrals.created", [31, 32], "accepted"), ("referrals.withdrawn", [31], "accepted")]


def test_a_reminder_is_accepted_and_recorded_and_calls_nothing_back(api, make_sandbox):
    out = io.StringIO()
    sandbox = make_sandbox(api_url=api.url, out=out)
    answer = deliver(sandbox, event("referrals.reminder", [entry(35, api.url)], "Still online after 24 hours."))
    assert answer.status_code == 200 and answer.json()["result"] == "accepted"
    settle(sandbox)
    assert api.requests == []
    assert "reminder tube: referrals [35] still online" in out.getvalue()
    assert [(r["event"], r["referral_ids"]) for r in sandbox.received_list()] == [("referrals.reminder", [35])]


def test_needs_info_first_then_the_outcome_after_a_clarification(api, make_sandbox):
    sandbox = make_sandbox(api_url=api.url, needs_info_share=1.0)
    deliver(sandbox, payload([entry(41, api.url)]))
    wait_for(lambda: len(api.requests) == 2, what="acknowledgement and the question")
    settle(sandbox)
    assert [json.loads(r.body)["status"] for r in api.requests] == ["acknowledged", "needs_info"]
    deliver(sandbox, event("referrals.clarified", [entry(41, api.url)], "Posted by the outlet's main account."))
    wait_for(lambda: len(api.requests) == 3, what="the outcome after the clarification")
    settle(sandbox)
    assert json.loads(api.requests[2].body)["status"] == "removed" and len(api.requests) == 3


def test_fail_first_answers_500_then_accepts_the_retry(api, make_sandbox):
    sandbox = make_sandbox(api_url=api.url, fail_first=1)
    body = payload([entry(21, api.url)])
    assert deliver(sandbox, body).status_code == 500
    assert deliver(sandbox, body).status_code == 200  # same webhook-id: processed now, not a duplicate
    wait_for(lambda: len(api.requests) == 2, what="acknowledgement and outcome")
    settle(sandbox)
    assert len(api.requests) == 2
    assert [r["result"] for r in sandbox.received_list()] == ["failed_on_purpose", "accepted"]


# --- calling back ---------------------------------------------------------------------------------------


def test_decline_share_is_deterministic_per_referral_id():
    ids = range(1, 2001)
    assert [declines(i, 0.2) for i in ids] == [declines(i, 0.2) for i in ids]
    assert not any(declines(i, 0.0) for i in ids) and all(declines(i, 1.0) for i in ids)
    assert 300 < sum(declines(i, 0.2) for i in ids) < 500
    # A larger share declines a superset.
    assert all(declines(i, 0.5) for i in ids if declines(i, 0.2))


def test_outcomes_follow_the_decline_share(api, make_sandbox):
    sandbox = make_sandbox(api_url=api.url, decline_share=0.5)
    ids = list(range(100, 112))
    deliver(sandbox, payload([entry(i, api.url) for i in ids]))
    wait_for(lambda: len(api.requests) == 2 * len(ids), what="every callback")
    outcomes = {}
    for request in api.requests:
        body = json.loads(request.body)
        if body["status"] != "acknowledged":
            outcomes[int(request.path.split("/")[4])] = body
    assert {i: o["status"] for i, o in outcomes.items()} == {
        i: "declined" if declines(i, 0.5) else "removed" for i in ids}
    assert {o["status"] for o in outcomes.values()} == {"declined", "removed"}
    assert all(o["note"] for o in outcomes.values())


def test_callbacks_go_only_to_the_configured_api_host(api, make_sandbox):
    with Receiver() as elsewhere:
        sandbox = make_sandbox(api_url=api.url)
        res = deliver(sandbox, payload([entry(31, elsewhere.url), entry(32, api.url)]))
        assert res.status_code == 200
        wait_for(lambda: len(api.requests) == 2, what="the callbacks for the referral on the API host")
        settle(sandbox)
        assert elsewhere.requests == []
    assert {r.path for r in api.requests} == {"/api/v1/referrals/32/status/"}
    [refused] = [c for c in sandbox.callback_list() if c["referral_id"] == 31]
    assert refused["ok"] is False and refused["error"].startswith("refused") and refused["attempts"] == 0
    assert sandbox.status()["platforms"]["tube"]["callbacks_refused"] == 1


def test_callbacks_are_retried_on_5xx(make_sandbox):
    with Receiver(responses=[(503, 0, {}), (502, 0, {})]) as api:
        sandbox = make_sandbox(api_url=api.url)
        deliver(sandbox, payload([entry(41, api.url)]))
        wait_for(lambda: len(api.requests) == 4, what="two failed tries, the acknowledgement and the outcome")
        settle(sandbox)
    ack, outcome = sandbox.callback_list()
    assert (ack["status"], ack["ok"], ack["attempts"], ack["http_status"]) == ("acknowledged", True, 3, 200)
    assert (outcome["status"], outcome["ok"], outcome["attempts"]) == ("removed", True, 1)


def test_callback_retries_on_connection_errors_are_bounded(make_sandbox):
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    sandbox = make_sandbox(api_url=closed, callback_attempts=2)
    deliver(sandbox, payload([entry(51, closed)]))
    wait_for(lambda: sandbox.callback_list(), what="the callback to give up")
    settle(sandbox, 0.2)
    [ack] = sandbox.callback_list()  # no outcome after an acknowledgement that never arrived
    assert ack["ok"] is False and ack["attempts"] == 2 and ack["http_status"] is None
    assert ack["error"] == "ConnectError"


def test_a_429_is_waited_out_for_its_retry_after_and_is_not_a_failure(make_sandbox):
    throttled = (429, 0, {"Retry-After": "1"})
    with Receiver(responses=[throttled, throttled]) as api:
        sandbox = make_sandbox(api_url=api.url, callback_attempts=2)  # two 429s would be two failures: not here
        deliver(sandbox, payload([entry(45, api.url)]))
        wait_for(lambda: len(api.requests) == 4, what="two 429s, the acknowledgement and the outcome")
        settle(sandbox)
    first, second, third = (r.at for r in api.requests[:3])
    assert second - first >= 0.95 and third - second >= 0.95  # Retry-After, not the 0.5 s back-off
    ack, outcome = sandbox.callback_list()
    assert (ack["ok"], ack["attempts"], ack["throttled"], ack["http_status"]) == (True, 3, 2, 200)
    assert (outcome["ok"], outcome["throttled"]) == (True, 0)


def test_waiting_out_429s_is_bounded_in_count_and_length(make_sandbox, monkeypatch):
    from devtools import sandbox_callbacks

    with Receiver(default_status=429, script=lambda received: (429, 0, {"Retry-After": "0"})) as api:
        sandbox = make_sandbox(api_url=api.url)
        deliver(sandbox, payload([entry(46, api.url)]))
        [ack] = wait_for(sandbox.callback_list, what="the callback to give up")
        settle(sandbox, 0.2)
    assert len(api.requests) == sandbox_callbacks.MAX_THROTTLED_WAITS + 1
    assert (ack["ok"], ack["http_status"], ack["throttled"]) == (False, 429, sandbox_callbacks.MAX_THROTTLED_WAITS + 1)

    monkeypatch.setattr(sandbox_callbacks, "MAX_RETRY_AFTER", 0.3)
    with Receiver(responses=[(429, 0, {"Retry-After": "3600"})]) as api:  # an hour: the sandbox waits its cap
        sandbox = make_sandbox(api_url=api.url)
        deliver(sandbox, payload([entry(47, api.url)]))
        wait_for(lambda: len(api.requests) == 3, what="the retried acknowledgement and the outcome")
        settle(sandbox)
    assert 0.25 <= api.requests[1].at - api.requests[0].at < 2


def test_log_names_neither_secret_nor_key(api, make_sandbox):
    out = io.StringIO()
    sandbox = make_sandbox(api_url=api.url, out=out)
    deliver(sandbox, payload([entry(61, api.url)]))
    deliver(sandbox, payload([entry(62, api.url)]), secret=OTHER_SECRET)
    wait_for(lambda: len(api.requests) == 2, what="the callbacks")
    settle(sandbox)
    sandbox.stop()
    log = out.getvalue()
    assert "webhook tube" in log and "-> 200 accepted" in log and "-> 401 rejected" in log
    assert log.count("callback tube referral 61") == 2
    for secret in (SECRET, SECRET.removeprefix("whsec_"), API_KEY, API_KEY.split(".")[0]):
        assert secret not in log


# --- against the real API (live Django server on the test database) -------------------------------------


def _deliver_real(sandbox, referral) -> None:
    res = deliver(sandbox, payload([referral_entry(referral)]))
    assert res.status_code == 200, res.text


@pytest.mark.django_db(transaction=True)
def test_sandbox_acknowledges_and_removes_a_real_referral(live_server, settings, liaison_a, approved_referral,
                                                          make_sandbox):
    settings.SITE_URL = live_server.url
    _, key = account_services.api_key_issue(actor=None, user=liaison_a)
    sandbox = make_sandbox(api_url=live_server.url, api_key=key, decline_share=0.0)
    assert approved_referral.status == "queued"

    _deliver_real(sandbox, approved_referral)

    wait_for(lambda: Referral.objects.get(pk=approved_referral.pk).status == "removed", 10, "the referral removed")
    referral = Referral.objects.get(pk=approved_referral.pk)
    assert referral.acknowledged_at and referral.outcome_at and referral.action_taken_at
    assert referral.platform_reference == platform_reference("tube", referral.pk)
    verbs = list(AuditEvent.objects.filter(object_type="referral", object_id=str(referral.pk))
                 .order_by("id").values_list("verb", "actor__username"))
    assert verbs[-2:] == [("referral.acknowledged", "lena_tube"), ("referral.removed", "lena_tube")]
    assert all(c["ok"] and c["http_status"] == 200 for c in sandbox.callback_list())


@pytest.mark.django_db(transaction=True)
def test_decline_share_one_declines_a_real_referral(live_server, settings, liaison_a, approved_referral,
                                                    make_sandbox):
    settings.SITE_URL = live_server.url
    _, key = account_services.api_key_issue(actor=None, user=liaison_a)
    sandbox = make_sandbox(api_url=live_server.url, api_key=key, decline_share=1.0)

    _deliver_real(sandbox, approved_referral)

    wait_for(lambda: Referral.objects.get(pk=approved_referral.pk).status == "declined", 10, "the referral declined")
    referral = Referral.objects.get(pk=approved_referral.pk)
    assert referral.note.startswith("Declined") and referral.action_taken_at is None


@pytest.mark.django_db(transaction=True)
def test_the_sandbox_keeps_to_the_desks_rate_limit(live_server, settings, liaison_a, approved_referral,
                                                  make_sandbox):
    """One call a second for the liaison's key: the outcome, sent 0.05 s after the acknowledgement, gets 429 and
    arrives after the Retry-After the desk gave."""
    settings.SITE_URL, settings.API_THROTTLE_RATE = live_server.url, "1/second"
    _, key = account_services.api_key_issue(actor=None, user=liaison_a)
    sandbox = make_sandbox(api_url=live_server.url, api_key=key)

    _deliver_real(sandbox, approved_referral)

    wait_for(lambda: Referral.objects.get(pk=approved_referral.pk).status == "removed", 15, "the referral removed")
    ack, outcome = sandbox.callback_list()
    assert (ack["ok"], ack["throttled"]) == (True, 0)
    assert outcome["ok"] is True and outcome["throttled"] >= 1 and outcome["http_status"] == 200


@pytest.mark.django_db(transaction=True)
def test_another_platforms_key_gets_404_and_changes_nothing(live_server, settings, liaison_b, approved_referral,
                                                            make_sandbox):
    settings.SITE_URL = live_server.url
    _, key = account_services.api_key_issue(actor=None, user=liaison_b)  # platform "chirp", not "tube"
    sandbox = make_sandbox(api_url=live_server.url, api_key=key)

    _deliver_real(sandbox, approved_referral)

    [ack] = wait_for(sandbox.callback_list, 10, "the acknowledgement to be refused")
    settle(sandbox, 0.2)
    assert (ack["http_status"], ack["attempts"], ack["ok"]) == (404, 1, False)  # 4xx is not retried
    assert len(sandbox.callback_list()) == 1
    assert Referral.objects.get(pk=approved_referral.pk).status == "queued"


# --- the management command, as a real process ----------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_command_serves_until_signalled_and_stops_cleanly(tmp_path, sig):
    config = tmp_path / "sandbox.json"
    config.write_text(json.dumps({"platforms": {"tube": {"secret": SECRET, "api_key": API_KEY}}}))
    port = free_port()
    log = tmp_path / "sandbox.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "sandbox_platform", "--port", str(port), "--config", str(config),
             "--api-url", "http://127.0.0.1:9", "--ack-delay", "30"],
            cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        def answers():
            try:
                return httpx.get(f"http://127.0.0.1:{port}/", timeout=1).json()
            except httpx.HTTPError:
                return None

        status = wait_for(answers, 20, "the sandbox command to listen")
        assert status["platforms"]["tube"]["received"] == 0
        body = payload([entry(1, "http://127.0.0.1:9")])
        msg_id, ts = str(uuid.uuid4()), int(time.time())
        res = httpx.post(f"http://127.0.0.1:{port}/hooks/tube", content=body, headers={
            "webhook-id": msg_id, "webhook-timestamp": str(ts),
            "webhook-signature": webhook.sign(SECRET, msg_id, ts, body)})
        assert res.status_code == 200
        # The answer goes out before the acknowledgement is scheduled: wait for it, then stop.
        wait_for(lambda: (answers() or {}).get("pending_callbacks") == 1, 10, "the acknowledgement to be scheduled")
        proc.send_signal(sig)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text()
    assert "listening on" in text and "stopped (1 pending callback(s) dropped)" in text
    assert SECRET not in text and API_KEY not in text


def test_command_refuses_a_bad_config_without_echoing_it(tmp_path):
    config = tmp_path / "sandbox.json"
    config.write_text(json.dumps({"platforms": {"tube": {"secret": "whsec_dG9vLXNob3J0", "api_key": API_KEY}}}))
    result = subprocess.run(
        [sys.executable, "manage.py", "sandbox_platform", "--port", "0", "--config", str(config)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode != 0
    assert "Platform 'tube'" in result.stderr and "at least 24 bytes" in result.stderr
    assert "dG9vLXNob3J0" not in result.stderr + result.stdout


def test_a_removal_order_gets_annex_iii_first_then_annex_ii_after_the_clarification(api, make_sandbox):
    sandbox = make_sandbox(api_url=api.url, cannot_execute_share=1.0)
    deliver(sandbox, payload([entry(51, api.url, instrument="removal_order")]))
    wait_for(lambda: len(api.requests) == 2, what="acknowledgement and the Annex III answer")
    settle(sandbox)
    second = json.loads(api.requests[1].body)
    assert (second["status"], second["reason"]) == ("cannot_execute", "insufficient_information")
    deliver(sandbox, event("referrals.clarified", [entry(51, api.url, instrument="removal_order")], "Video two."))
    wait_for(lambda: len(api.requests) == 3, what="the outcome after the clarification")
    third = json.loads(api.requests[2].body)
    assert (third["status"], third["territorial_scope"]) == ("removed", "all_member_states")
