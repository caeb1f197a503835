"""One claimed delivery on its way out: what the dispatcher sends and the recorder records."""

from dataclasses import dataclass

from platforms.models import ContactPoint
from referral.models import Delivery


@dataclass
class Job:
    delivery: Delivery
    attempt: int
    lease_until: object
    body: bytes = b""
    refused: str = ""

    @property
    def contact_point(self) -> ContactPoint:
        return self.delivery.contact_point

