"""Email channel: the stored MIME bytes, sent over SMTP through Django's SMTP email backend.

Django's backend opens the connection with the EMAIL_* settings (host, port, TLS or SSL, login, timeout). We then
speak MAIL, RCPT and DATA on it ourselves, rather than send_messages(), so that the stored bytes go out unchanged
on every retry and the server's 250 reply (often with its queue id) lands in the sending record.
SMTP cannot be exactly-once (RFC 1047): a resend carries the same Message-ID for the platform to dedupe.
"""

import hashlib
import smtplib
import time

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend

from referral.outbox.result import RETRY, SENT, STOP, SendResult


def _classify(code: int) -> str:
    return RETRY if 400 <= code < 500 else STOP


def send(*, to: str, body: bytes, timeout: float, message_id: str) -> SendResult:
    result = SendResult(endpoint=f"mailto:{to}", request_sha256=hashlib.sha256(body).hexdigest(),
                        signature=f"Message-ID: {message_id}")
    started = time.monotonic()
    backend = EmailBackend(timeout=timeout, fail_silently=False)
    try:
        backend.open()  # connects, STARTTLS or SSL, and logs in, as Django's EMAIL_* settings say
        conn = backend.connection
        conn.ehlo_or_helo_if_needed()
        code, reply = conn.mail(settings.DEFAULT_FROM_EMAIL)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, settings.DEFAULT_FROM_EMAIL)
        code, reply = conn.rcpt(to)
        if code not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({to: (code, reply)})
        code, reply = conn.data(body)
        text = reply.decode("utf-8", "replace")
        result.status_code = code
        result.verdict = SENT
        result.response_excerpt = f"{code} {text}"[:500]
        result.response_sha256 = hashlib.sha256(reply).hexdigest()
        result.external_reference = message_id
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        result.status_code, result.verdict = code, _classify(code)
        result.error = f"recipient refused: {code} {reply.decode('utf-8', 'replace')}"[:1000]
    except smtplib.SMTPResponseException as exc:  # sender refused, data refused, auth failed
        result.status_code, result.verdict = exc.smtp_code, _classify(exc.smtp_code)
        result.error = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"[:1000]
    except (smtplib.SMTPException, OSError) as exc:
        result.verdict, result.error = RETRY, f"{type(exc).__name__}: {exc}"[:1000]
    finally:
        try:
            backend.close()  # QUIT, or drop the connection if the server is gone
        except (smtplib.SMTPException, OSError):
            pass
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result
