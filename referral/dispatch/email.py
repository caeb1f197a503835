"""Email channel: the stored MIME bytes, sent over SMTP with Django's EMAIL_* settings.

We speak SMTP step by step (MAIL, RCPT, DATA) rather than through send_mail so that the stored bytes go out
unchanged on every retry and the server's 250 reply (often with its queue id) lands in the sending record.
SMTP cannot be exactly-once (RFC 1047): a resend carries the same Message-ID for the platform to dedupe.
"""

import hashlib
import smtplib
import ssl
import time

from django.conf import settings

from .result import RETRY, SENT, STOP, SendResult


def _classify(code: int) -> str:
    return RETRY if 400 <= code < 500 else STOP


def send(*, to: str, body: bytes, timeout: float, message_id: str) -> SendResult:
    result = SendResult(endpoint=f"mailto:{to}", request_sha256=hashlib.sha256(body).hexdigest(),
                        signature=f"Message-ID: {message_id}")
    started = time.monotonic()
    conn = None
    try:
        conn = smtplib.SMTP(settings.EMAIL_HOST, settings.EMAIL_PORT, timeout=timeout)
        conn.ehlo_or_helo_if_needed()
        if settings.EMAIL_USE_TLS:
            conn.starttls(context=ssl.create_default_context())
            conn.ehlo()
        if settings.EMAIL_HOST_USER:
            conn.login(settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD)
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
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result
