"""Formatters turn a delivery's referrals into the bytes sent. One formatter per format; rendered once."""

import json

from django.conf import settings
from django.urls import reverse


def referral_entry(referral) -> dict:
    item = referral.item
    return {
        "id": referral.pk,
        "url": item.url,
        "canonical_url": item.canonical_url,
        "kind": item.kind,
        "categories": item.categories,
        "instrument": referral.instrument,
        "due_at": referral.due_at.isoformat().replace("+00:00", "Z") if referral.due_at else None,
        "status_url": settings.SITE_URL + reverse("api:referral-detail", args=[referral.pk]),
    }


def render_json_v1(delivery, referrals) -> bytes:
    body = {
        "type": "referrals.created",
        "delivery": str(delivery.pk),
        "referrals": [referral_entry(r) for r in referrals],
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


FORMATTERS = {"json-v1": render_json_v1}


def render(delivery, referrals) -> bytes:
    formatter = FORMATTERS.get(delivery.contact_point.format, render_json_v1)
    return formatter(delivery, referrals)
