"""The sandbox platform: a real HTTP server playing a hosting platform that receives our referral webhooks.

It verifies each webhook (Standard Webhooks v1, via `referral.outbox.webhook.verify`), answers at once, and a
moment later calls the desk's API back as the platform's liaison: `acknowledged`, then `removed` (or `declined`
for a deterministic share of referral ids, or first `needs_info` for another share, the outcome following the
unit's `referrals.clarified`). A `referrals.withdrawn` event stops every callback about its referrals; a
`referrals.reminder` (content still online) is verified, recorded and logged. It is what
`python manage.py sandbox_platform` runs, what the demo points its platforms at, and what the tests start
in-process on an ephemeral port.

Configuration (`--config PATH`): `{"platforms": {"<slug>": {"secret": "whsec_...", "api_key": "<liaison key>"}}}`.
Webhooks for a platform arrive at `POST /hooks/<slug>`. `GET /` is a status page, `GET /received` the received
deliveries, `GET /callbacks` the calls made back, all JSON.

The sandbox only ever calls back URLs on the host of `api_url`; a `status_url` pointing anywhere else is refused
and logged. Nothing it logs contains a secret or an API key.
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import httpx

from devtools.sandbox_callbacks import CallbackJob, Callbacks, origin_of
from devtools.sandbox_config import (  # noqa: F401  (declines, platform_reference: re-exported for the tests)
    SandboxConfigError,
    declines,
    load_config,
    now_iso,
    platform_reference,
    validate_config,
)
from referral.outbox.webhook import verify

MAX_BODY_BYTES = 5 * 1024 * 1024
DEDUPE_SECONDS = 72 * 3600
KNOWN_EVENTS = ("referrals.created", "referrals.withdrawn", "referrals.clarified", "referrals.reminder")
RECORD_LIMIT = 10_000  # entries kept for /received and /callbacks (oldest dropped first)
USER_AGENT = "referral-desk-sandbox-platform/1"
















class SandboxPlatform(Callbacks):
    """A platform stand-in on a real socket. `start()`, `stop()`, `url`; state in `received`, `callbacks`."""

    def __init__(
        self,
        config: dict,
        *,
        host: str = "127.0.0.1",
        port: int = 8025,
        api_url: str,
        ack_delay: float = 1.0,
        outcome_delay: float = 1.0,
        decline_share: float = 0.2,
        needs_info_share: float = 0.0,
        cannot_execute_share: float = 0.0,
        fail_first: int = 0,
        tolerance: int = 300,
        callback_attempts: int = 4,
        callback_timeout: float = 10.0,
        out: IO[str] | None = None,
    ):
        if not all(0 <= share <= 1 for share in (decline_share, needs_info_share, cannot_execute_share)):
            raise SandboxConfigError("decline_share, needs_info_share and cannot_execute_share must be between 0 "
                                     "and 1.")
        if ack_delay < 0 or outcome_delay < 0 or fail_first < 0:
            raise SandboxConfigError("Delays and fail_first must not be negative.")
        self.platforms = validate_config(config)
        self.api_origin = origin_of(api_url)
        if self.api_origin is None:
            raise SandboxConfigError(f"api_url must be an absolute http(s) URL, not '{api_url}'.")
        self.api_url = api_url.rstrip("/")
        self.host, self.port = host, port
        self.ack_delay, self.outcome_delay = ack_delay, outcome_delay
        self.decline_share = decline_share
        self.needs_info_share = needs_info_share
        self.cannot_execute_share = cannot_execute_share  # of removal orders: Annex III first
        self._withdrawn: set[tuple[str, int]] = set()  # (platform, referral id) the unit withdrew
        self._clarified: set[tuple[str, int]] = set()  # … and those it answered a needs_info for
        self.removed_urls: set[str] = set()  # items it took down: their pages answer 404 (devtools/sandbox_pages.py)
        self.fail_first = fail_first
        self.tolerance = tolerance
        self.callback_attempts = max(1, callback_attempts)
        self.callback_timeout = callback_timeout
        self.out = out if out is not None else sys.stdout

        self.received: deque[dict] = deque(maxlen=RECORD_LIMIT)
        self.callbacks: deque[dict] = deque(maxlen=RECORD_LIMIT)
        self.counts = {slug: {"received": 0, "accepted": 0, "duplicates": 0, "rejected": 0, "failed_on_purpose": 0,
                              "bad_payload": 0, "callbacks": 0, "callback_errors": 0, "callbacks_refused": 0}
                       for slug in self.platforms}
        self._seen: dict[tuple[str, str], float] = {}  # (slug, webhook-id) → monotonic time first accepted
        self._failed_on_purpose = 0
        self._lock = threading.Lock()
        self._out_lock = threading.Lock()

        self._jobs: list[CallbackJob] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._in_flight = 0
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._workers: list[threading.Thread] = []
        self._client: httpx.Client | None = None

    # --- lifecycle ------------------------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | Path, **options) -> SandboxPlatform:
        return cls(load_config(path), **options)

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("The sandbox platform is not started.")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self, *, workers: int = 8) -> SandboxPlatform:
        handler = self._handler_class()
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self._client = httpx.Client(timeout=self.callback_timeout, follow_redirects=False, trust_env=False,
                                    headers={"user-agent": USER_AGENT})
        serve = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="sandbox-http",
                                 daemon=True)
        self._workers = [threading.Thread(target=self._run_worker, name=f"sandbox-callback-{n}", daemon=True)
                         for n in range(workers)]
        self._threads = [serve, *self._workers]
        for thread in self._threads:
            thread.start()
        self._log(f"sandbox platform listening on {self.url} for {', '.join(sorted(self.platforms))}; "
                  f"calling back {self.api_url} (ack after {self.ack_delay:g} s, outcome after "
                  f"{self.outcome_delay:g} s, decline share {self.decline_share:g}, needs-info share "
                  f"{self.needs_info_share:g}, fail first {self.fail_first})")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop receiving, drop callbacks not yet due, let running ones finish (bounded), close the socket."""
        if self._server is None:
            return
        self._stopping.set()
        with self._cond:
            dropped = len(self._jobs)
            self._jobs.clear()
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._client is not None:
            self._client.close()
        self._log(f"sandbox platform stopped ({dropped} pending callback(s) dropped)")
        self._server = None

    def __enter__(self) -> SandboxPlatform:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- state ----------------------------------------------------------------------------------------

    def status(self) -> dict:
        with self._lock:
            counts = {slug: dict(c) for slug, c in self.counts.items()}
        with self._cond:
            pending = len(self._jobs) + self._in_flight
        return {
            "service": "sandbox platform",
            "api_url": self.api_url,
            "settings": {"ack_delay": self.ack_delay, "outcome_delay": self.outcome_delay,
                         "decline_share": self.decline_share, "needs_info_share": self.needs_info_share,
                         "fail_first": self.fail_first,
                         "tolerance": self.tolerance},
            "platforms": counts,
            "pending_callbacks": pending,
        }

    def received_list(self) -> list[dict]:
        with self._lock:
            return [dict(entry) for entry in self.received]

    def callback_list(self) -> list[dict]:
        with self._lock:
            return [dict(entry) for entry in self.callbacks]

    def idle(self) -> bool:
        """No callback waiting or running."""
        with self._cond:
            return not self._jobs and not self._in_flight

    def _log(self, line: str) -> None:
        with self._out_lock:
            try:
                self.out.write(f"{now_iso()} {line}\n")
                self.out.flush()
            except (OSError, ValueError):
                pass

    # --- receiving ------------------------------------------------------------------------------------

    def _handler_class(self):
        sandbox = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "SandboxPlatform/1"
            sys_version = ""
            protocol_version = "HTTP/1.1"
            timeout = 30  # an idle keep-alive connection is closed after this many seconds

            def do_GET(self):
                path = urlsplit(self.path).path
                if path == "/":
                    self._json(200, sandbox.status())
                elif path == "/received":
                    self._json(200, sandbox.received_list())
                elif path == "/callbacks":
                    self._json(200, sandbox.callback_list())
                else:
                    self._json(404, {"detail": "Not found."})

            def do_POST(self):
                path = urlsplit(self.path).path
                slug = path[len("/hooks/"):] if path.startswith("/hooks/") else None
                try:
                    length = int(self.headers.get("content-length") or 0)
                except ValueError:
                    length = -1
                if length < 0 or length > MAX_BODY_BYTES:
                    self.close_connection = True
                    self._json(413 if length > 0 else 400, {"detail": "Bad or too large Content-Length."})
                    return
                body = self.rfile.read(length) if length else b""
                if slug is None or slug not in sandbox.platforms:
                    sandbox._log(f"webhook for unknown path {path[:100]!r} -> 404")
                    self._json(404, {"detail": "No such platform hook."})
                    return
                headers = {key.lower(): value for key, value in self.headers.items()}
                code, answer, event, jobs = sandbox._receive(slug, headers, body)
                self._json(code, answer)  # answered before anything is scheduled: callbacks come after
                if jobs:
                    sandbox._schedule_event(slug, event, jobs)

            def _json(self, code: int, payload) -> None:
                data = json.dumps(payload, indent=None, separators=(",", ":")).encode()
                try:
                    self.send_response(code)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def log_message(self, *args):  # the sandbox logs its own lines
                pass

        return Handler

    def _receive(self, slug: str, headers: dict, body: bytes) -> tuple[int, dict, str, list[dict]]:
        """Decide on one webhook: (HTTP status, answer body, its event type, referrals to act on)."""
        webhook_id = headers.get("webhook-id", "")
        event = ""
        entry = {"webhook_id": webhook_id, "platform": slug, "event": "", "referral_ids": [], "verified": False,
                 "duplicate": False, "result": "", "http_status": 0, "received_at": now_iso()}
        verified = verify(self.platforms[slug]["secret"], headers, body, tolerance=self.tolerance)
        referrals: list[dict] = []
        with self._lock:
            counts = self.counts[slug]
            counts["received"] += 1
            if not verified:
                code, result, reason = 401, "rejected", self._rejection_reason(headers)
                counts["rejected"] += 1
            else:
                entry["verified"] = True
                self._prune_seen()
                if (slug, webhook_id) in self._seen:
                    code, result, reason = 200, "duplicate", "already received; not processed again"
                    entry["duplicate"] = True
                    counts["duplicates"] += 1
                elif self._failed_on_purpose < self.fail_first:
                    self._failed_on_purpose += 1
                    code, result = 500, "failed_on_purpose"
                    reason = f"--fail-first: failure {self._failed_on_purpose} of {self.fail_first}"
                    counts["failed_on_purpose"] += 1
                else:
                    event, referrals, problem = self._parse(body)
                    entry["event"] = event
                    if problem:
                        code, result, reason = 400, "bad_payload", problem
                        counts["bad_payload"] += 1
                    else:
                        code, result, reason = 200, "accepted", ""
                        self._seen[(slug, webhook_id)] = time.monotonic()
                        counts["accepted"] += 1
            entry["referral_ids"] = [r["id"] for r in referrals] if referrals else self._ids_for_record(body)
            entry["result"], entry["http_status"] = result, code
            self.received.append(entry)
        self._log(f"webhook {slug} webhook-id={webhook_id or '-'} referrals={entry['referral_ids']} -> {code} "
                  f"{result}" + (f" ({reason})" if reason else ""))
        answer = {"ok": code < 300, "result": result} | ({"detail": reason} if reason and code >= 300 else {})
        return code, answer, event, referrals

    def _rejection_reason(self, headers: dict) -> str:
        """Why verify() said no, for the log only (verify() itself decides)."""
        if not headers.get("webhook-id") or not headers.get("webhook-signature"):
            return "missing webhook headers"
        try:
            ts = int(headers.get("webhook-timestamp", ""))
        except ValueError:
            return "bad timestamp"
        if abs(time.time() - ts) > self.tolerance:
            return f"timestamp outside the {self.tolerance} s tolerance"
        return "bad signature"

    def _prune_seen(self) -> None:
        if len(self._seen) < 10_000:
            return
        cutoff = time.monotonic() - DEDUPE_SECONDS
        self._seen = {k: t for k, t in self._seen.items() if t >= cutoff}

    @staticmethod
    def _ids_for_record(body: bytes) -> list:
        try:
            data = json.loads(body)
            return [r.get("id") for r in data.get("referrals", []) if isinstance(r, dict)][:1000]
        except (ValueError, AttributeError, TypeError):
            return []

    @staticmethod
    def _parse(body: bytes) -> tuple[str, list[dict], str]:
        """(event type, the referrals to act on, a reason the body is unusable). Unknown event types are ignored."""
        try:
            data = json.loads(body)
        except ValueError:
            return "", [], "body is not JSON"
        if not isinstance(data, dict):
            return "", [], "body is not a JSON object"
        event = data.get("type") if isinstance(data.get("type"), str) else ""
        if event not in KNOWN_EVENTS:
            return event[:64], [], ""  # forward compatible: accept and ignore event types we do not know
        referrals = data.get("referrals")
        if not isinstance(referrals, list):
            return event, [], "'referrals' must be a list"
        for referral in referrals:
            if (not isinstance(referral, dict) or not isinstance(referral.get("id"), int)
                    or not isinstance(referral.get("status_url"), str)):
                return event, [], "each referral needs an integer 'id' and a 'status_url'"
        return event, referrals, ""

    # --- calling back ---------------------------------------------------------------------------------







