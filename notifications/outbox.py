"""The email outbox of urgent notifications: never lost when a worker dies, never sent inside a transaction.

A notification that must be emailed is written `email_status=pending` in the transaction of the change it tells
about (notifications.actions.notify). The task `notifications.send_emails` (nudged after that commit, and swept by
beat) claims due rows with `SELECT … FOR UPDATE SKIP LOCKED`, bumps their attempt counter and sets a lease; sends
them through Django's email backend outside any transaction; and records each result in a short transaction of
its own, conditional on the attempt it claimed. A worker that dies between claim and record leaves the row pending
with a lease that runs out: the next sweep claims it again. A resend carries the same Message-ID (email cannot be
exactly-once; the mail client can dedupe). This is the shape of the referral outbox (referral/outbox/claiming.py).
"""

import logging
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from audit import chain as audit
from core.errors import TransitionNotAllowed
from core.transactions import in_outer_transaction
from notifications.models import EmailStatus, Notification
from notifications.selectors import link_for

log = logging.getLogger(__name__)

E = EmailStatus
# The email's moves. Only this module changes email_status after notify() wrote it; each move is a conditional
# UPDATE on the status and attempt it leaves, so a claim that lost its lease cannot record over the one after it.
EMAIL_ALLOWED: dict[str, set[str]] = {
    E.NONE: set(),
    E.PENDING: {E.SENT, E.FAILED},  # sent; attempts exhausted (a retry stays pending with a later due time)
    E.SENT: set(),
    E.FAILED: set(),
}
RETRY_SECONDS = (30, 120, 600, 1800, 3600)  # wait before attempts 2, 3, …; after the last, the email has failed
MAX_ATTEMPTS = len(RETRY_SECONDS) + 1
LEASE_SECONDS = 120  # a claim holds its rows this long: far more than a batch of SMTP sends takes
BATCH_SIZE = 50


class SendingInsideTransaction(RuntimeError):
    """Network I/O must never happen inside a database transaction."""


def claim_due_emails(limit: int = BATCH_SIZE, *, now=None) -> list[tuple[int, int]]:
    """Claim up to `limit` due, unleased pending emails; returns [(notification_id, attempt_number)]."""
    with transaction.atomic():
        now = now or timezone.now()
        qs = (Notification.objects.filter(email_status=E.PENDING, email_next_attempt_at__lte=now)
              .filter(Q(email_lease_until__isnull=True) | Q(email_lease_until__lt=now))
              .order_by("email_next_attempt_at"))
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, no_key=True)
        rows = list(qs.values_list("id", "email_attempts")[:limit])
        if not rows:
            return []
        Notification.objects.filter(pk__in=[pk for pk, _ in rows]).update(
            email_attempts=F("email_attempts") + 1, email_lease_until=now + timedelta(seconds=LEASE_SECONDS))
    return [(pk, attempts + 1) for pk, attempts in rows]


def _message(notification: Notification) -> EmailMessage:
    link = link_for(notification.object_type, notification.object_id)
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    body = "\n\n".join(part for part in (
        notification.message,
        f"Open it: {settings.SITE_URL}{link}" if link else "",
        f"All your notifications: {settings.SITE_URL}/notifications/\n"
        f"You asked for urgent notifications by email; change that at {settings.SITE_URL}/notifications/preferences/",
    ) if part)
    subject = f"[{settings.UNIT_REFERENCE_PREFIX}] {notification.get_kind_display()}: {notification.message}"
    return EmailMessage(subject=" ".join(subject.split())[:150], body=body, to=[notification.recipient.email],
                        headers={"Message-ID": f"<notification-{notification.pk}@{domain}>"})


def _send(claimed: list[tuple[int, int]]) -> dict[int, str]:
    """Send the claimed emails; returns {notification_id: error} for those that failed ("" when sent)."""
    rows = Notification.objects.select_related("recipient").in_bulk([pk for pk, _ in claimed])
    results: dict[int, str] = {}
    try:
        backend = get_connection(fail_silently=False)
        backend.open()
    except Exception as exc:  # the mail server is down: every claimed email is an attempt that failed
        return {pk: f"{type(exc).__name__}: {exc}" for pk, _ in claimed}
    try:
        for pk, _ in claimed:
            notification = rows.get(pk)
            if notification is None or not notification.recipient.email:
                results[pk] = "The recipient has no email address."
                continue
            try:
                backend.send_messages([_message(notification)])
            except Exception as exc:  # this one failed (refused recipient, dropped connection): the others go on
                results[pk] = f"{type(exc).__name__}: {exc}"
            else:
                results[pk] = ""
    finally:
        try:
            backend.close()
        except Exception:  # noqa: S110  (closing a connection the server already dropped)
            pass
    return results


def record_email_result(*, notification_id: int, attempt_number: int, error: str, now=None) -> str | None:
    """Record one attempt: sent, retried later (still pending), or failed for good after MAX_ATTEMPTS; audited as
    `notification.emailed` or `notification.email_failed`. Returns the outcome, or None when the row moved on
    (another claim overtook this one after its lease ran out)."""
    with transaction.atomic():
        now = now or timezone.now()
        ours = Notification.objects.filter(pk=notification_id, email_status=E.PENDING, email_attempts=attempt_number)
        if not error:
            target, fields = E.SENT, {"emailed_at": now, "email_error": ""}
        elif attempt_number >= MAX_ATTEMPTS:
            target, fields = E.FAILED, {"email_error": error[:2000]}
        else:
            delay = RETRY_SECONDS[attempt_number - 1]
            updated = ours.update(email_lease_until=None, email_error=error[:2000],
                                  email_next_attempt_at=now + timedelta(seconds=delay))
            return "retry" if updated else None
        if target not in EMAIL_ALLOWED[E.PENDING]:
            raise TransitionNotAllowed(f"A pending email cannot become '{target}'.")
        if not ours.update(email_status=target, email_lease_until=None, **fields):
            return None
        recipient_id, kind = Notification.objects.filter(pk=notification_id).values_list("recipient_id", "kind")[0]
        verb = "notification.emailed" if target == E.SENT else "notification.email_failed"
        audit.record_many([{"actor": None, "verb": verb, "object_type": "notification", "object_id": notification_id,
                            "before": {"email_status": E.PENDING},
                            "after": {"email_status": target, "attempt": attempt_number, "recipient": recipient_id,
                                      "kind": kind, **({"error": error[:500]} if error else {})}}])
    return target


def send_due_emails(*, now=None, limit: int = BATCH_SIZE, rounds: int = 20) -> Counter:
    """Claim, send and record due emails until none is due (at most `rounds` claims a run; the sweep does the
    rest). Safe to run twice, and in several workers at once. Returns a Counter of outcomes."""
    if in_outer_transaction():
        raise SendingInsideTransaction("Emails go over the network: call send_due_emails outside a transaction.")
    outcomes: Counter = Counter()
    for _ in range(rounds):
        claimed = claim_due_emails(limit, now=now)
        if not claimed:
            break
        errors = _send(claimed)
        for pk, attempt in claimed:
            error = errors.get(pk, "not sent")
            if error:
                log.warning("notification %s: email attempt %s failed: %s", pk, attempt, error)
            outcome = record_email_result(notification_id=pk, attempt_number=attempt, error=error, now=now)
            outcomes[outcome or "overtaken"] += 1
    return outcomes
