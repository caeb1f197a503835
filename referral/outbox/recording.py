"""Recording what each send did: the attempt, the delivery's next move, the contact point's health. Whatever
one delivery raises while being recorded stays with that delivery (stopped for a person, with an alert); the rest
of the run is recorded."""

import email.utils
import logging
import random
from collections import Counter
from datetime import UTC, timedelta

from django.conf import settings
from django.utils import timezone

from referral.models import DeliveryAttempt, DeliveryStatus
from referral.outbox import actions as outbox_actions
from referral.outbox import pacing
from referral.outbox.jobs import Job
from referral.outbox.result import GONE, SENT, STOP, SendResult

log = logging.getLogger(__name__)


def retry_delay(attempt_number: int, retry_after: str | None) -> float | None:
    """Seconds until the next attempt, or None when the schedule is exhausted. Jitter ±20 %."""
    schedule = settings.DELIVERY_RETRY_SCHEDULE
    if attempt_number > len(schedule):
        return None
    delay = schedule[attempt_number - 1] * random.uniform(0.8, 1.2)
    asked = retry_after_seconds(retry_after)
    if asked is not None:
        delay = max(delay, min(asked, MAX_RETRY_AFTER_SECONDS))
    return delay


MAX_RETRY_AFTER_SECONDS = 24 * 3600  # a platform cannot park a delivery for longer than a day


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or not understood."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # "-0000" parses naive; HTTP dates are GMT
            when = when.replace(tzinfo=UTC)
        seconds = (when - timezone.now()).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(seconds, 0.0)


def _attempt_record(job: Job, result: SendResult, outcome: str) -> DeliveryAttempt:
    error = result.error or ("" if result.ok else f"HTTP {result.status_code}: {result.response_excerpt[:300]}")
    return DeliveryAttempt(
        delivery_id=job.delivery.pk, number=job.attempt, endpoint=result.endpoint[:2048],
        started_at=result.started_at, finished_at=timezone.now(), duration_ms=result.duration_ms,
        request_sha256=result.request_sha256, signature=result.signature, response_status=result.status_code,
        response_sha256=result.response_sha256, response_excerpt=result.response_excerpt[:500],
        error=error[:2000], outcome=outcome,
    )


def quietly(what: str, fn, *args) -> None:
    """Bookkeeping worth doing, never worth losing a delivery's record (or the rest of the run) over."""
    try:
        fn(*args)
    except Exception:
        log.exception("could not %s", what)


def _record_sent(sent: list[tuple[Job, SendResult]]) -> None:
    outbox_actions.deliveries_mark_sent(
        [(job.delivery.pk, job.attempt, result.external_reference) for job, result in sent],
        attempt_records=[_attempt_record(job, result, "sent") for job, result in sent],
    )
    for cp in {job.contact_point.pk: job.contact_point for job, _ in sent}.values():
        quietly("record a success", pacing.record_success, cp)


def _record_unsent(job: Job, result: SendResult) -> str:
    final, disable, next_at, outcome = None, False, None, "retry"
    if result.verdict == GONE:
        final, disable, outcome = DeliveryStatus.STOPPED, True, "stopped"
    elif result.verdict == STOP:
        final, outcome = DeliveryStatus.STOPPED, "stopped"
    else:
        delay = retry_delay(job.attempt - job.delivery.attempt_base, result.retry_after)
        if delay is None:
            final, outcome = DeliveryStatus.FAILED, "failed"
        else:
            next_at = timezone.now() + timedelta(seconds=delay)
        if not job.refused:
            quietly("record a failure", pacing.record_failure, job.contact_point)
    record = _attempt_record(job, result, outcome)
    outbox_actions.delivery_record_failure(
        delivery_id=job.delivery.pk, attempt_number=job.attempt, final_status=final, next_attempt_at=next_at,
        status_code=result.status_code, error=record.error, disable_contact_point=disable, attempt_record=record,
    )
    return outcome


def record_crash(job: Job, result: SendResult, exc: Exception) -> str:
    """Recording this one result raised: stop the delivery for a person (it may have reached the platform, so
    it must not go out again by itself), with an attempt saying what happened and an alert."""
    log.error("could not record the result of delivery %s attempt %s", job.delivery.pk, job.attempt, exc_info=exc)
    error = (f"The result of this attempt could not be recorded ({result.verdict}"
             f"{f', HTTP {result.status_code}' if result.status_code else ''}): {type(exc).__name__}: {exc}")
    record = _attempt_record(job, result, "stopped")
    record.error = error[:2000]
    try:
        outbox_actions.delivery_record_failure(
            delivery_id=job.delivery.pk, attempt_number=job.attempt, final_status=DeliveryStatus.STOPPED,
            next_attempt_at=None, status_code=result.status_code, error=record.error, attempt_record=record,
        )
    except Exception:  # the database itself is failing: the lease brings this one back
        log.exception("could not stop delivery %s either", job.delivery.pk)
        return "error"
    return "stopped"


def record_results(done: list[tuple[Job, SendResult]]) -> Counter:
    """Store the sending records and move the deliveries on. Successes are written together; if that batch
    fails they are written one by one, and a result that cannot be recorded stops its delivery alone."""
    counts: Counter = Counter()
    sent = [(job, result) for job, result in done if result.verdict == SENT]
    if sent:
        try:
            _record_sent(sent)
            counts["sent"] += len(sent)
        except Exception:
            log.exception("could not record %d sent deliveries together; recording them one by one", len(sent))
            for job, result in sent:
                try:
                    _record_sent([(job, result)])
                    counts["sent"] += 1
                except Exception as exc:
                    counts[record_crash(job, result, exc)] += 1
    for job, result in done:
        if result.verdict == SENT:
            continue
        try:
            counts[_record_unsent(job, result)] += 1
        except Exception as exc:
            counts[record_crash(job, result, exc)] += 1
    return counts

