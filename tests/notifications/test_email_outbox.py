"""Urgent notifications by email: an outbox claimed with SKIP LOCKED and a lease, sent through Django's email
backend outside any transaction, recorded and audited; retried with backoff, failed after the last attempt, and
claimed again when a worker died holding it."""

import socket
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditEvent
from notifications import outbox
from notifications.models import EmailStatus, Notification
from notifications.tasks import send_emails

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A local port nothing listens on: the mail server is down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mail_server_down(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2


def pending(supervisor):
    return Notification.objects.get(recipient=supervisor)


def test_an_urgent_notification_is_emailed_exactly_once(wants_email, supervisor, supervisor_2, threat):
    assert pending(supervisor).email_status == EmailStatus.PENDING
    assert Notification.objects.get(recipient=supervisor_2).email_status == EmailStatus.NONE  # did not ask
    send_emails()
    send_emails()  # the sweep again: nothing more to send
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["sara@iru.invalid"]
    assert "Threat to life" in message.subject and f"/items/{threat.pk}/" in message.body
    assert message.extra_headers["Message-ID"] == f"<notification-{pending(supervisor).pk}@iru.invalid>"
    sent = pending(supervisor)
    assert (sent.email_status, sent.email_attempts, sent.email_lease_until) == (EmailStatus.SENT, 1, None)
    assert sent.emailed_at is not None
    event = AuditEvent.objects.get(verb="notification.emailed")
    assert event.object_id == str(sent.pk) and event.after["recipient"] == supervisor.pk


def test_a_failing_mail_server_retries_with_backoff_then_gives_up(wants_email, supervisor, threat, mail_server_down):
    now = timezone.now()
    assert outbox.send_due_emails(now=now) == {"retry": 1}
    row = pending(supervisor)
    assert (row.email_status, row.email_attempts, row.email_lease_until) == (EmailStatus.PENDING, 1, None)
    assert "ConnectionRefusedError" in row.email_error
    assert row.email_next_attempt_at == now + timedelta(seconds=outbox.RETRY_SECONDS[0])
    assert outbox.send_due_emails(now=now) == {}  # not due again yet
    for attempt in range(2, outbox.MAX_ATTEMPTS + 1):
        now = pending(supervisor).email_next_attempt_at
        outcome = outbox.send_due_emails(now=now)
        assert outcome == ({"failed": 1} if attempt == outbox.MAX_ATTEMPTS else {"retry": 1}), attempt
    row = pending(supervisor)
    assert (row.email_status, row.email_attempts) == (EmailStatus.FAILED, outbox.MAX_ATTEMPTS)
    assert outbox.send_due_emails(now=now + timedelta(days=1)) == {}
    assert AuditEvent.objects.get(verb="notification.email_failed").after["attempt"] == outbox.MAX_ATTEMPTS
    assert mail.outbox == []


def test_a_lease_that_ran_out_is_claimed_again(wants_email, supervisor, threat):
    claimed = outbox.claim_due_emails()  # a worker claims the email and dies before sending it
    assert claimed == [(pending(supervisor).pk, 1)]
    assert outbox.send_due_emails() == {}  # the lease still holds: nobody else takes it
    later = timezone.now() + timedelta(seconds=outbox.LEASE_SECONDS + 1)
    assert outbox.send_due_emails(now=later) == {"sent": 1}
    assert len(mail.outbox) == 1
    row = pending(supervisor)
    assert (row.email_status, row.email_attempts) == (EmailStatus.SENT, 2)
    # The dead worker's attempt, recorded late, changes nothing: the row moved on without it.
    assert outbox.record_email_result(notification_id=row.pk, attempt_number=1, error="") is None


def test_emails_are_never_sent_inside_a_transaction(wants_email, threat):
    from django.db import transaction

    with pytest.raises(outbox.SendingInsideTransaction), transaction.atomic():
        outbox.send_due_emails()
