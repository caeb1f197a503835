"""The sandbox platform calling back: acknowledgements and outcomes sent to the desk's status URL by a few worker
threads, after a delay, as a real platform's integration would."""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from devtools.sandbox_config import asks_for_info, declines, now_iso, platform_reference
from referral.outbox.recording import retry_after_seconds

# A 429 from the desk: wait its Retry-After (at most this many seconds) and call again, at most this many times.
MAX_RETRY_AFTER = 60.0
MAX_THROTTLED_WAITS = 10


def origin_of(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an absolute http(s) URL, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return None
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


@dataclass(order=True)
class CallbackJob:
    due: float
    seq: int
    slug: str = field(compare=False)
    referral: dict = field(compare=False)
    step: str = field(compare=False)  # "acknowledged" or "outcome"


class Callbacks:
    """The callback half of SandboxPlatform (devtools/sandbox.py), which holds the state these methods use."""

    def _schedule_acks(self, slug: str, referrals: list[dict]) -> None:
        due = time.monotonic() + self.ack_delay
        for referral in referrals:
            self._schedule(CallbackJob(due, next(self._seq), slug, referral, "acknowledged"))

    def _schedule(self, job: CallbackJob) -> None:
        with self._cond:
            if self._stopping.is_set():
                return
            heapq.heappush(self._jobs, job)
            self._cond.notify_all()

    def _run_worker(self) -> None:
        """Take the earliest due callback and run it; sleep on the condition until one is due (or stop)."""
        while True:
            with self._cond:
                while not self._stopping.is_set():
                    now = time.monotonic()
                    if self._jobs and self._jobs[0].due <= now:
                        job = heapq.heappop(self._jobs)
                        self._in_flight += 1
                        break
                    self._cond.wait(self._jobs[0].due - now if self._jobs else None)
                else:
                    return
            try:
                self._run_job(job)
            except Exception as exc:  # a bug here must not kill the worker
                self._log(f"callback {job.slug} referral {job.referral.get('id')} crashed: {type(exc).__name__}")
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _schedule_event(self, slug: str, event: str, referrals: list[dict]) -> None:
        """After a verified, new delivery: acknowledge new referrals; forget withdrawn ones (no further callback);
        answer a clarification with the outcome."""
        if event == "referrals.created":
            self._schedule_acks(slug, referrals)
            return
        if event == "referrals.reminder":  # received and recorded (GET /received); the sandbox has acted already
            self._log(f"reminder {slug}: referrals {[r['id'] for r in referrals]} still online, says the unit")
            return
        with self._cond:
            for referral in referrals:
                key = (slug, referral["id"])
                (self._withdrawn if event == "referrals.withdrawn" else self._clarified).add(key)
        if event == "referrals.clarified":
            due = time.monotonic() + self.outcome_delay
            for referral in referrals:
                self._schedule(CallbackJob(due, next(self._seq), slug, referral, "outcome"))

    def _run_job(self, job: CallbackJob) -> None:
        referral, slug = job.referral, job.slug
        referral_id = referral["id"]
        reference = platform_reference(slug, referral_id)
        with self._cond:
            withdrawn, clarified = (slug, referral_id) in self._withdrawn, (slug, referral_id) in self._clarified
        if withdrawn:  # the unit took it back: the platform takes no further action
            self._log(f"callback {slug} referral {referral_id} skipped: withdrawn")
            return
        if job.step == "acknowledged":
            body = {"status": "acknowledged", "platform_reference": reference}
        elif (not clarified and referral.get("instrument") == "removal_order"
              and asks_for_info(referral_id, self.cannot_execute_share)):  # Annex III, answered by a clarification
            body = {"status": "cannot_execute", "reason": "insufficient_information", "platform_reference": reference,
                    "note": "The order does not say which of the page's videos to remove (simulated Annex III)."}
        elif not clarified and asks_for_info(referral_id, self.needs_info_share):
            body = {"status": "needs_info", "platform_reference": reference,
                    "note": "Which account posted it, and which of our terms does it breach? (simulated question)"}
        elif declines(referral_id, self.decline_share):
            body = {"status": "declined", "platform_reference": reference,
                    "note": "Declined by the sandbox platform: no breach of its terms found (simulated decision)."}
        else:
            body = {"status": "removed", "platform_reference": reference,
                    "note": "Removed by the sandbox platform (simulated).", "action_taken_at": now_iso(),
                    # As it would report to the DSA Transparency Database (docs/platform-integration.md §4.4).
                    "dsa_decision": "DECISION_VISIBILITY_CONTENT_REMOVED",
                    "dsa_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT"}
            if referral.get("instrument") == "removal_order":  # Annex II
                body["territorial_scope"] = "all_member_states"
        ok = self._call_back(slug, referral, body)
        if ok and body["status"] == "removed" and isinstance(referral.get("url"), str):
            self.removed_urls.add(referral["url"])  # the item's page now answers 404 (make run's pages)
        if ok and job.step == "acknowledged":
            self._schedule(CallbackJob(time.monotonic() + self.outcome_delay, next(self._seq), slug, referral,
                                       "outcome"))

    def _callback_url(self, status_url: str) -> str | None:
        if origin_of(status_url) != self.api_origin:
            return None
        return status_url + ("status/" if status_url.endswith("/") else "/status/")

    def _call_back(self, slug: str, referral: dict, body: dict) -> bool:
        referral_id = referral["id"]
        record = {"platform": slug, "referral_id": referral_id, "status": body["status"], "url": "",
                  "http_status": None, "attempts": 0, "throttled": 0, "ok": False, "error": "",
                  "at": now_iso()}
        url = self._callback_url(referral["status_url"])
        api_key = self.platforms[slug]["api_key"]
        if url is None:
            record["error"] = f"refused: status_url is not on {self.api_url}"
            self._finish_callback(slug, record, "callbacks_refused")
            self._log(f"callback {slug} referral {referral_id} {body['status']} REFUSED: status_url host is not "
                      f"the configured API ({self.api_url})")
            return False
        record["url"] = url
        if not api_key:
            record["error"] = "no api_key configured for this platform"
            self._finish_callback(slug, record, "callbacks_refused")
            self._log(f"callback {slug} referral {referral_id} {body['status']} skipped: no api_key configured")
            return False
        delay, failures = 0.5, 0
        while True:
            record["attempts"] += 1
            asked = None  # a 429's Retry-After, in seconds
            try:
                response = self._client.post(url, json=body, headers={"Authorization": f"Bearer {api_key}"})
            except httpx.TransportError as exc:
                record["http_status"], record["error"] = None, type(exc).__name__
                failures += 1
            else:
                code = response.status_code
                record["http_status"] = code
                record["error"] = "" if code < 300 else response.text[:300]
                if code == 429:  # the desk's rate limit: not a failure; wait as long as it says, then call again
                    record["throttled"] += 1
                    if record["throttled"] > MAX_THROTTLED_WAITS:
                        break
                    asked = retry_after_seconds(response.headers.get("retry-after"))
                elif code >= 500:
                    failures += 1
                else:
                    break
            if failures >= self.callback_attempts:
                break
            if self._stopping.wait(min(asked, MAX_RETRY_AFTER) if asked is not None else delay):
                break
            if asked is None:
                delay *= 2
        record["ok"] = record["http_status"] is not None and 200 <= record["http_status"] < 300
        self._finish_callback(slug, record, "callbacks" if record["ok"] else "callback_errors")
        self._log(f"callback {slug} referral {referral_id} {body['status']} -> "
                  f"{record['http_status'] or record['error']} ({record['attempts']} attempt(s))"
                  + ("" if record["ok"] else f" {record['error'][:200]}"))
        return record["ok"]

    def _finish_callback(self, slug: str, record: dict, counter: str) -> None:
        with self._lock:
            self.callbacks.append(record)
            self.counts[slug][counter] += 1
