"""One liveness GET: the URL as the analyst logged it, with a neutral user agent, a timeout, redirects followed
one hop at a time up to LIVENESS_MAX_REDIRECTS, and at most LIVENESS_MAX_BODY_BYTES of the body read.

Through LIVENESS_PROXY when it is set (http in absolute form, https tunnelled with CONNECT; the proxy resolves
the target, never this machine). Without a proxy every hop passes the SSRF guard that delivery uses
(platforms.endpoints.check_http_endpoint): a host resolving to a private, loopback or link-local address is
refused before any connection, unless ALLOW_PRIVATE_ENDPOINTS is set, and each connection goes to an address
checked as it is made (platforms/egress.py: no DNS-rebinding window). Never raises for network trouble: the
answer says what happened.
"""

import hashlib
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from liveness.conf import knob
from platforms import egress
from platforms.endpoints import EndpointNotAllowed, check_http_endpoint


@dataclass
class Answer:
    url: str
    status_code: int | None = None
    final_url: str = ""
    redirects: int = 0
    body: bytes = b""
    body_sha256: str = ""
    error: str = ""
    refused: bool = False  # the SSRF guard refused a hop: nothing was fetched from it
    duration_ms: int = 0
    via_proxy: bool = False


def ssl_context() -> ssl.SSLContext:
    """The system's CAs, plus those in LIVENESS_CA_BUNDLE (a unit's egress proxy, or the tests' trustme CA)."""
    context = ssl.create_default_context()
    if knob("LIVENESS_CA_BUNDLE"):
        context.load_verify_locations(cafile=knob("LIVENESS_CA_BUNDLE"))
    return context


def build_client(max_connections: int = 32, *, timeout: float | None = None) -> httpx.Client:
    """The HTTP client of one run: no environment proxies or netrc (trust_env off), redirects followed here;
    `timeout` per request, LIVENESS_TIMEOUT_SECONDS unless given (the check before sending has less time)."""
    return egress.client(  # connects to the addresses the SSRF guard checked, or through the proxy
        proxy=knob("LIVENESS_PROXY") or "",
        verify=ssl_context(),
        follow_redirects=False,
        timeout=httpx.Timeout(timeout or knob("LIVENESS_TIMEOUT_SECONDS")),
        headers={"user-agent": knob("LIVENESS_USER_AGENT"), "accept": "text/html,application/xhtml+xml,*/*;q=0.8",
                 "accept-language": "en"},
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
    )


def _read_capped(response: httpx.Response, deadline: float) -> bytes:
    cap = knob("LIVENESS_MAX_BODY_BYTES")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= cap or time.monotonic() > deadline:  # enough to judge; a dripping body is not waited for
            break
    return b"".join(chunks)[:cap]


def fetch(client: httpx.Client, url: str) -> Answer:
    """GET `url` and follow its redirects; the Answer holds the last response (or why there is none)."""
    via_proxy = bool(knob("LIVENESS_PROXY"))
    answer = Answer(url=url, via_proxy=via_proxy)
    started = time.monotonic()
    deadline = started + knob("LIVENESS_TIMEOUT_SECONDS") * 2
    current = url
    try:
        while True:
            try:  # through a proxy the target is not resolved here: only its form is checked
                check_http_endpoint(current, resolve=not via_proxy)
            except EndpointNotAllowed as exc:
                answer.error, answer.refused = f"refused: {exc}", True
                break
            answer.final_url = current
            with client.stream("GET", current) as response:
                answer.status_code = response.status_code
                location = response.headers.get("location")
                if response.is_redirect and location:
                    if answer.redirects >= knob("LIVENESS_MAX_REDIRECTS"):
                        answer.error = f"more than {knob('LIVENESS_MAX_REDIRECTS')} redirects"
                        break
                    answer.redirects += 1
                    current = urljoin(current, location)
                    continue
                answer.body = _read_capped(response, deadline)
                answer.body_sha256 = hashlib.sha256(answer.body).hexdigest()
                break
    except EndpointNotAllowed as exc:  # the host's address at connection time is not public
        answer.error, answer.refused = f"refused: {exc}", True
    except httpx.TimeoutException as exc:
        answer.error = f"timeout: {type(exc).__name__}"
    except (httpx.HTTPError, ssl.SSLError, OSError, ValueError) as exc:
        answer.error = f"{type(exc).__name__}: {exc}"[:1000]
    if answer.error and not answer.body_sha256:
        answer.status_code = answer.status_code if answer.error.startswith("more than") else None
    answer.duration_ms = int((time.monotonic() - started) * 1000)
    return answer
