"""Formatters turn a delivery's referrals into the exact bytes sent. One formatter per format, rendered once
per delivery and stored, so that every retry sends the same bytes."""

import csv
import functools
import io
import json
from email.utils import format_datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone

from platforms.models import DEFAULT_FORMAT  # noqa: F401  (re-exported)
from referral import order_document
from referral.actions.orders import order_json

CSV_COLUMNS = ["id", "url", "canonical_url", "kind", "categories", "instrument", "due_at", "status_url"]


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


_PK_SENTINEL = 918273645546372819


@functools.lru_cache(maxsize=8)
def _referral_path_parts(urlconf, script_prefix: str) -> tuple[str, str]:
    """The API path of a referral, reversed once per URL configuration (reverse() costs ~40 µs a call)."""
    path = reverse("api:referral-detail", args=[_PK_SENTINEL], urlconf=urlconf)
    head, _, tail = path.rpartition(str(_PK_SENTINEL))
    return head, tail


def referral_status_url(pk: int) -> str:
    head, tail = _referral_path_parts(get_urlconf(), get_script_prefix())
    return f"{settings.SITE_URL}{head}{int(pk)}{tail}"


def referral_entry(referral) -> dict:
    item = referral.item
    return {
        "id": referral.pk,
        "url": item.url,
        "canonical_url": item.canonical_url,
        "kind": item.kind,
        "categories": item.categories,
        "instrument": referral.instrument,
        "due_at": _iso(referral.due_at),
        "status_url": referral_status_url(referral.pk),
        **_order_fields(referral),
    }


def _order_fields(referral) -> dict:
    """A removal order's Annex I content and the link to its PDF (readable with the platform's API key)."""
    if referral.instrument != "removal_order":
        return {}
    order = getattr(referral, "order", None)
    if order is None:
        return {}
    return {"order": order_json(order), "order_url": f"{referral_status_url(referral.pk)}order/"}


def unit_reference(delivery) -> str:
    """The reference a platform quotes back: stable for a delivery, short enough for a subject line."""
    return f"{settings.UNIT_REFERENCE_PREFIX}-{str(delivery.pk)[:8].upper()}"


# What an event's text is called in its JSON body (docs/platform-integration.md).
EVENT_TEXT_FIELD = {"referrals.withdrawn": "reason", "referrals.clarified": "message", "referrals.reminder": "message",
                    "orders.pre_information": "message", "orders.copy": "message"}


def _event(delivery) -> str:
    return getattr(delivery, "event", "") or "referrals.created"


def render_json_v1(delivery, referrals) -> bytes:
    event = _event(delivery)
    body = {
        "type": event,
        "delivery": str(delivery.pk),
        "referrals": [referral_entry(r) for r in referrals],
    }
    if event in EVENT_TEXT_FIELD:
        body[EVENT_TEXT_FIELD[event]] = delivery.message
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _context(delivery, referrals) -> dict:
    entries = [referral_entry(r) for r in referrals]
    return {
        "event": _event(delivery),
        "withdrawn": _event(delivery) == "referrals.withdrawn",
        "clarified": _event(delivery) == "referrals.clarified",
        "reminder": _event(delivery) == "referrals.reminder",
        "pre_information": _event(delivery) == "orders.pre_information",
        "copy": _event(delivery) == "orders.copy",
        "text": getattr(delivery, "message", ""),
        "reference": unit_reference(delivery),
        "delivery_id": str(delivery.pk),
        "platform": delivery.contact_point.platform,
        "contact_point": delivery.contact_point,
        "referrals": entries,
        "count": len(entries),
        "removal_orders": len({e["order"]["reference"] for e in entries if e.get("order")}),  # orders, not URLs
        "api_base": settings.SITE_URL + "/api/v1/",
    }


def _template(base: str, language: str, ext: str, context: dict) -> str:
    for lang in (language or "en", "en"):
        try:
            return render_to_string(f"{base}.{lang}.{ext}", context)
        except TemplateDoesNotExist:
            continue
    raise TemplateDoesNotExist(f"{base}.en.{ext}")


def referrals_csv(entries: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    for entry in entries:
        writer.writerow({**entry, "categories": ";".join(entry["categories"])})
    return out.getvalue()


def message_id(delivery) -> str:
    """Derived from the delivery id, so a resend of the same delivery carries the same Message-ID."""
    domain = urlsplit(settings.SITE_URL).hostname or "iru.invalid"
    return f"<{delivery.pk}@{domain}>"


def render_email_v1(delivery, referrals) -> bytes:
    cp = delivery.contact_point
    context = _context(delivery, referrals)
    base = "email/referral" if context["event"] == "referrals.created" else "email/event"
    subject = _template(f"{base}_subject", cp.language, "txt", context).strip().replace("\n", " ")
    text = _template(base, cp.language, "txt", context)
    html = _template(base, cp.language, "html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[cp.endpoint],
        headers={"Message-ID": message_id(delivery), "Date": format_datetime(timezone.now()),
                 "X-Referral-Delivery": str(delivery.pk), "X-Unit-Reference": context["reference"]},
    )
    message.attach_alternative(html, "text/html")
    message.attach(f"{context['reference']}.csv", referrals_csv(context["referrals"]), "text/csv")
    attached = set()
    for referral in referrals:  # each removal order as its Annex I PDF (once, however many of its URLs are here)
        order = getattr(referral, "order", None) if referral.instrument == "removal_order" else None
        if order is not None and order.pk not in attached:
            attached.add(order.pk)
            message.attach(f"{order.reference}.pdf",
                           order_document.render_pdf(order, order_document.language_for(cp.platform)),
                           "application/pdf")
    return message.message().as_bytes(linesep="\r\n")


def render_text_v1(delivery, referrals) -> bytes:
    """The prepared text an analyst pastes into a platform's web form (manual channel)."""
    context = _context(delivery, referrals)
    base = "manual/referral" if context["event"] == "referrals.created" else "manual/event"
    return _template(base, delivery.contact_point.language, "txt", context).encode()


FORMATTERS = {"json-v1": render_json_v1, "email-v1": render_email_v1, "text-v1": render_text_v1}


def render(delivery, referrals) -> bytes:
    cp = delivery.contact_point
    formatter = FORMATTERS.get(cp.format) or FORMATTERS[DEFAULT_FORMAT[cp.channel]]
    return formatter(delivery, referrals)
