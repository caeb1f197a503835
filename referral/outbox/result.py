from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

SENT, RETRY, STOP, GONE = "sent", "retry", "stop", "gone"


@dataclass
class SendResult:
    """What one attempt on any channel produced: the sending record before it is stored.

    verdict: SENT (delivered), RETRY (transient: try again later), STOP (the request is wrong for this
    endpoint: a person must look), GONE (the endpoint says it no longer exists: disable the contact point).
    """

    endpoint: str
    verdict: str = RETRY
    request_sha256: str = ""
    signature: str = ""
    status_code: int | None = None
    retry_after: str | None = None
    response_sha256: str = ""
    response_excerpt: str = ""
    error: str = ""
    external_reference: str = ""
    duration_ms: int = 0
    started_at: datetime = field(default_factory=timezone.now)

    @property
    def ok(self) -> bool:
        return self.verdict == SENT


def classify_http(status_code: int) -> str:
    """Standard Webhooks' deliverability rules: 2xx sent; 408/429/5xx retry; 410 gone; other 3xx/4xx stop."""
    if 200 <= status_code < 300:
        return SENT
    if status_code == 410:
        return GONE
    if status_code in (408, 429) or status_code >= 500:
        return RETRY
    return STOP
