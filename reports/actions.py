"""Operations (Referral Action Days): created and closed here, audited, one transaction each. Supervisors only."""

from django.db import transaction
from django.utils import timezone

from audit import chain as audit
from cases.models import Case
from core.errors import Conflict, InvalidInput, NotFound
from core.roles import SUPERVISORS, require_role
from reports.models import Operation


def operation_create(*, actor, name: str, starts_at, ends_at, case_ids: list[int], units: str = "") -> Operation:
    """A new open operation over [starts_at, ends_at] with these cases (each must exist). InvalidInput with field
    errors on a missing name, an end not after the start, or no or unknown cases; writes `operation.created`."""
    require_role(actor, SUPERVISORS, "creating operations")
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Give the operation a name."]
    if starts_at and ends_at and ends_at <= starts_at:
        errors["ends_at"] = ["Must be after the start."]
    found = set(Case.objects.filter(pk__in=case_ids).values_list("pk", flat=True))
    if not case_ids or found != set(case_ids):
        errors["cases"] = ["Choose one or more existing cases."]
    if errors:
        raise InvalidInput("The operation is incomplete.", field_errors=errors)
    with transaction.atomic():
        operation = Operation.objects.create(name=name[:200], starts_at=starts_at, ends_at=ends_at, units=units,
                                             created_by=actor)
        operation.cases.set(sorted(found))
        audit.record(actor=actor, verb="operation.created", obj=operation,
                     after={"name": operation.name, "cases": sorted(found), "starts_at": starts_at.isoformat(),
                            "ends_at": ends_at.isoformat()})
    return operation


def operation_close(*, actor, operation_id: int) -> Operation:
    """Close an open operation (its report is then final); a closed one is Conflict (409). Writes
    `operation.closed`."""
    require_role(actor, SUPERVISORS, "closing operations")
    with transaction.atomic():
        operation = Operation.objects.select_for_update(no_key=True).filter(pk=operation_id).first()
        if operation is None:
            raise NotFound("Not found.")
        if operation.closed_at is not None:
            raise Conflict(f"Operation {operation_id} is already closed.")
        operation.closed_at, operation.closed_by = timezone.now(), actor
        operation.save(update_fields=["closed_at", "closed_by"])
        audit.record(actor=actor, verb="operation.closed", obj=operation, after={"closed_at":
                                                                                 operation.closed_at.isoformat()})
    return operation
