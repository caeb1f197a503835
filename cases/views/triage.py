"""The triage queue: filter, sort by priority or age, keyset pages, and bulk actions on the checked rows.

Analysts and supervisors work it; administrators read it. Every action goes through a workflow bulk function and
comes back as messages: how many were done, which were refused and why.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from cases import selectors as case_selectors
from cases.actions import assessment as assessment_actions
from cases.actions import items as item_actions
from cases.forms import BulkActionForm, QueueFilterForm, TriageChoices
from cases.models import ItemKind, ItemStatus
from core.access import LOGGERS, UNIT_STAFF, role_required, show_domain_error
from core.errors import DomainError
from core.roles import PROPOSERS

TRIAGERS = LOGGERS  # analysts and supervisors act on the queue; administrators read it
ACTION_DONE = {"assign": "assigned", "propose": "proposed", "discard": "discarded", "hold": "put on hold",
               "move": "moved"}


def _rows(items) -> list[dict]:
    """The table's cells, worked out once in Python: the template only prints them (a 50-row page's rendering is
    most of its cost, and `{% url %}`/`{% include %}` per cell would double it)."""
    item_url = reverse("item-detail", args=[0]).replace("/0/", "/{}/")
    case_url = reverse("case-detail", args=[0]).replace("/0/", "/{}/")
    kinds, statuses = dict(ItemKind.choices), dict(ItemStatus.choices)
    return [{
        "pk": item.pk, "href": item_url.format(item.pk), "priority": item.priority, "ttl": item.threat_to_life,
        "status": item.status, "status_label": statuses.get(item.status, item.status), "url": item.url,
        "platform": item.platform.name if item.platform_id else "", "kind": kinds.get(item.kind, item.kind),
        "categories": ", ".join(item.categories or []), "group": item.group.name if item.group_id else "",
        "language": item.language, "case_id": item.case_id, "case_href": case_url.format(item.case_id),
        "assignee": item.assignee.username if item.assignee_id else "",
        "duplicate_of": item.duplicate_of_id,
        "duplicate_href": item_url.format(item.duplicate_of_id) if item.duplicate_of_id else "",
        "has_evidence": item.has_evidence,
    } for item in items]


@require_safe
@role_required(*UNIT_STAFF)
def queue(request):
    choices = TriageChoices()
    form = QueueFilterForm(request.GET, choices=choices)
    if form.is_valid():
        sort = form.cleaned_data.get("sort") or "priority"
        page = case_selectors.triage_queue(request.user, form.filters(), sort, request.GET.get("after"))
    else:
        page = case_selectors.QueuePage(rows=[], next_cursor=None, sort="priority")
    first = request.GET.copy()
    first.pop("after", None)
    next_query = ""
    if page.next_cursor:
        query = first.copy()
        query["after"] = page.next_cursor
        next_query = query.urlencode()
    can_act = request.user.role in TRIAGERS
    context = {
        "filter_form": form,
        "page": page,
        "rows": _rows(page.rows),
        "is_first": not request.GET.get("after"),
        "first_query": first.urlencode(),
        "next_query": next_query,
        "can_act": can_act,
        "can_propose": request.user.role in PROPOSERS,
        "bulk_form": BulkActionForm(choices=choices, auto_id="bulk_%s") if can_act else None,
        "back": request.GET.urlencode(),
    }
    return render(request, "referral/queue.html", context)


def _report(request, action: str, result: dict) -> None:
    done, errors = result["done"], result["errors"]
    if done:
        ids = ", ".join(str(i) for i in done[:20]) + ("…" if len(done) > 20 else "")
        messages.success(request, f"{len(done)} item{'s' if len(done) != 1 else ''} {ACTION_DONE[action]} "
                                  f"(item{'s' if len(done) != 1 else ''} {ids}).")
    if errors:
        reasons = "; ".join(f"item {e['item']}: {e['detail']}" for e in errors[:20])
        more = f"; and {len(errors) - 20} more" if len(errors) > 20 else ""
        messages.error(request, f"{len(errors)} refused: {reasons}{more}")


@require_POST
@role_required(*TRIAGERS)
def queue_bulk(request):
    """One form for every bulk action: the checked items, the action, and what that action needs."""
    back = (request.POST.get("back") or "").replace("\r", "").replace("\n", "")
    target = reverse("triage-queue") + (f"?{back}" if back else "")
    form = BulkActionForm(request.POST, choices=TriageChoices())
    if not form.is_valid():
        problems = " ".join(
            f"{form[name].label}: {' '.join(errs)}" if name in form.fields else " ".join(errs)
            for name, errs in form.errors.items()
        )
        messages.error(request, f"Nothing was changed. {problems}")
        return redirect(target)
    data = form.cleaned_data
    action, ids, user = data["action"], data["items"], request.user
    if action == "propose" and user.role not in PROPOSERS:
        raise PermissionDenied("Only analysts propose items; supervisors decide on them.")
    try:
        if action == "assign":
            assignee = None if data["assignee"] == "none" else int(data["assignee"])
            result = assessment_actions.item_assign(actor=user, item_ids=ids, assignee_id=assignee)
        elif action == "propose":
            result = item_actions.item_propose_many(actor=user, item_ids=ids)
        elif action == "discard":
            result = item_actions.item_discard_many(actor=user, item_ids=ids, reason=data["reason"])
        elif action == "hold":
            result = item_actions.item_hold_many(actor=user, item_ids=ids, reason=data["reason"],
                                             requested_by=data["requested_by"])
        else:
            result = item_actions.item_move(actor=user, item_ids=ids, case_id=int(data["target_case"]))
    except DomainError as exc:
        show_domain_error(request, exc)
    else:
        _report(request, action, result)
    return redirect(target)

