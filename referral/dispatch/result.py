from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone


@dataclass
class SendResult:
    """What one attempt on any channel produced: the sending record before it is stored."""

    endpoint: str
    request_sha256: str = ""
    signature: str = ""
    status_code: int | None = None
    retry_after: str | None = None
    response_sha256: str = ""
    response_excerpt: str = ""
    error: str = ""
    duration_ms: int = 0
    started_at: datetime = field(default_factory=timezone.now)

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
