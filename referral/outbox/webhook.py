"""Webhook channel: Standard Webhooks v1 (https://www.standardwebhooks.com/).

`webhook-id` is the delivery id (the same on every retry), `webhook-timestamp` the unix time of this attempt,
`webhook-signature` is `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed with the base64-decoded
part of the contact point's `whsec_` secret.
"""

import base64
import hashlib
import hmac
import time

import httpx

from platforms.endpoints import EndpointNotAllowed
from platforms.secrets import InvalidSecret, generate_secret, secret_key_bytes  # noqa: F401  (re-exported)
from referral.outbox.result import RETRY, STOP, SendResult, classify_http

MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "referral-desk/1 (+webhook)"


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,` signature per secret, space-separated (the new secret first during a rotation)."""
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets_)


def verify(secret: str, headers: dict, body: bytes, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (used by the sandbox platform and documented for platforms)."""
    msg_id = headers.get("webhook-id", "")
    ts_raw = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    try:
        ts = int(ts_raw)
    except ValueError:
        return False
    if abs((now or time.time()) - ts) > tolerance:
        return False
    expected = sign(secret, msg_id, ts, body).split(",", 1)[1]
    for candidate in signatures.split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


def send(client: httpx.Client, *, endpoint: str, secrets_: list[str], msg_id: str, body: bytes,
         timeout: float) -> SendResult:
    """POST once, signed with every given secret. Never raises for network trouble: the result says."""
    timestamp = int(time.time())
    signature = signature_header(secrets_, msg_id, timestamp, body)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }
    result = SendResult(endpoint=endpoint, request_sha256=hashlib.sha256(body).hexdigest(), signature=signature)
    started = time.monotonic()
    try:
        with client.stream("POST", endpoint, content=body, headers=headers, timeout=timeout) as response:
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= MAX_RESPONSE_BYTES:
                    break
            content = b"".join(chunks)[:MAX_RESPONSE_BYTES]
            result.status_code = response.status_code
            result.verdict = classify_http(response.status_code)
            result.retry_after = response.headers.get("retry-after")
            result.response_sha256 = hashlib.sha256(content).hexdigest()
            result.response_excerpt = content[:500].decode("utf-8", "replace")
    except EndpointNotAllowed as exc:  # the address reached at connection time is not public (platforms/egress.py)
        result.verdict, result.error = STOP, f"Endpoint refused: {exc}"
    except httpx.TimeoutException as exc:
        result.verdict, result.error = RETRY, f"timeout: {type(exc).__name__}"
    except httpx.HTTPError as exc:
        result.verdict, result.error = RETRY, f"{type(exc).__name__}: {exc}"[:1000]
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result
