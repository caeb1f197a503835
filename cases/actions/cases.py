"""Cases: create, close, reopen, assign; the Case transition table."""

from django.db import transaction

from audit import chain as audit
from cases.models import Case, CaseStatus
from core.errors import InvalidInput, NotFound, TransitionNotAllowed
from core.roles import LOGGERS, SUPERVISORS, TRIAGERS, require_role


def case_create(*, actor, title: str, description: str = "") -> Case:
    require_role(actor, LOGGERS, "creating cases")
    title = (title or "").strip()
    if not title:
        raise InvalidInput("A case needs a title.", field_errors={"title": ["This field may not be blank."]})
    if len(title) > 300:
        raise InvalidInput("The title is too long.", field_errors={"title": ["At most 300 characters."]})
    with transaction.atomic():
        case = Case.objects.create(title=title, description=description or "", created_by=actor)
        audit.record(actor=actor, verb="case.created", obj=case, after={"title": case.title})
    return case


CASE_ALLOWED: dict[str, set[str]] = {
    CaseStatus.OPEN: {CaseStatus.CLOSED},
    CaseStatus.CLOSED: {CaseStatus.OPEN},
}


def _case_move(*, actor, case_id: int, target: str, verb: str) -> Case:
    require_role(actor, SUPERVISORS, "closing or reopening cases")
    with transaction.atomic():
        case = Case.objects.select_for_update(no_key=True).filter(pk=case_id).first()
        if case is None:
            raise NotFound(f"Case {case_id} does not exist.")
        if target not in CASE_ALLOWED[case.status]:
            raise TransitionNotAllowed(f"Case {case.pk} is '{case.status}'; it cannot become '{target}'.")
        before = case.status
        case.status = target
        case.save(update_fields=["status"])
        audit.record(actor=actor, verb=verb, obj=case, before={"status": before}, after={"status": target})
    return case


def case_close(*, actor, case_id: int) -> Case:
    """A supervisor closes a case: no items can be logged into or moved into it. Its items keep their status
    (referrals in flight go on). Reopening is case_reopen."""
    return _case_move(actor=actor, case_id=case_id, target=CaseStatus.CLOSED, verb="case.closed")


def case_reopen(*, actor, case_id: int) -> Case:
    """A supervisor reopens a closed case."""
    return _case_move(actor=actor, case_id=case_id, target=CaseStatus.OPEN, verb="case.reopened")


def case_assign(*, actor, case_id: int, assignee_id: int | None) -> Case:
    """An analyst or supervisor gives the case to a member of the unit (an analyst or supervisor), or to no one."""
    require_role(actor, TRIAGERS, "assigning cases")
    from accounts.models import User

    assignee = None
    if assignee_id is not None:
        assignee = User.objects.filter(pk=assignee_id, is_active=True,
                                       role__in=TRIAGERS).first()
        if assignee is None:
            raise InvalidInput("Assign the case to an active analyst or supervisor.",
                               field_errors={"assignee": ["Not an active analyst or supervisor."]})
    with transaction.atomic():
        case = Case.objects.select_for_update(no_key=True).filter(pk=case_id).first()
        if case is None:
            raise NotFound(f"Case {case_id} does not exist.")
        before = case.assignee.username if case.assignee_id else None
        case.assignee = assignee
        case.save(update_fields=["assignee"])
        audit.record(actor=actor, verb="case.assigned", obj=case, before={"assignee": before},
                     after={"assignee": assignee.username if assignee else None})
    return case

