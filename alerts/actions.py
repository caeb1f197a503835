"""Alerts: raised by the desk's actions, resolved by supervisors and administrators."""

import logging

from django.db import transaction
from django.utils import timezone

from alerts.models import Alert
from audit import chain as audit
from audit import checkpoints
from core.errors import NotFound, NotPermitted, TransitionNotAllowed
from core.roles import ALERT_HANDLERS, has_role

log = logging.getLogger(__name__)


def alert_resolve(*, actor, alert_id: int) -> Alert:
    """A supervisor (or an administrator) marks an alert as dealt with: it leaves the banner and the list.

    Resolving does not change what the alert is about (re-drive the delivery, re-enable the contact point
    for that). Raises NotPermitted for other roles, NotFound for an unknown alert, TransitionNotAllowed when it
    was resolved already (by someone else a moment ago, most likely).
    """
    if not has_role(actor, ALERT_HANDLERS):
        raise NotPermitted("Only supervisors and administrators resolve alerts.")
    with transaction.atomic():
        alert = Alert.objects.select_for_update(no_key=True).filter(pk=alert_id).first()
        if alert is None:
            raise NotFound(f"Alert {alert_id} does not exist.")
        if alert.resolved_at is not None:
            raise TransitionNotAllowed(f"Alert {alert_id} was already resolved.")
        alert.resolved_at = timezone.now()
        alert.resolved_by = actor
        alert.save(update_fields=["resolved_at", "resolved_by"])
        audit.record(actor=actor, verb="alert.resolved", obj=alert, before={"resolved_at": None},
                     after={"kind": alert.kind, "resolved_at": alert.resolved_at.isoformat()})
    return alert



def audit_verify_and_alert() -> bool:
    """Verify the audit chain and its signed checkpoints (audit/checkpoints.py); when they do not hold, raise an
    `audit_broken` alert for supervisors and admins (once while an alert with the same finding is open) and log
    an error. Run nightly by beat (`audit.verify`). True when the trail holds."""
    verdict = checkpoints.verify()
    if verdict.ok:
        return True
    log.error("%s", verdict)
    message = str(verdict)
    with transaction.atomic():
        if not Alert.objects.filter(kind="audit_broken", message=message, resolved_at__isnull=True).exists():
            alert = Alert.objects.create(kind="audit_broken", message=message)
            audit.record(actor=None, verb="audit.verification_failed", obj=alert, after={"finding": message})
    return False
