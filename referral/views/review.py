"""The supervisor's review queue: approve (choosing the instrument), return or reject proposed items."""

from django.contrib import messages
from django.db.models import F
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from cases import selectors as case_selectors
from cases.models import ItemStatus
from core.access import role_required, show_domain_error
from core.errors import DomainError
from core.paging import keyset_page
from core.roles import DECIDERS
from referral.actions import approval
from referral.forms import ApproveForm, RejectForm, ReturnForm

DECISIONS = {
    # action: (form class, workflow function, past tense, what the success message adds)
    "approve": (ApproveForm, approval.item_approve, "approved", "; its referral is queued for delivery"),
    "return": (ReturnForm, approval.item_return, "returned", " to the analyst"),
    "reject": (RejectForm, approval.item_reject, "rejected", ""),
}


def _row(item, user, bound=None):
    """One queue entry with its three forms; `bound` = (action, form) that failed validation on this item."""
    forms = {action: cls(prefix=f"{action}-{item.pk}") for action, (cls, *_) in DECISIONS.items()}
    if bound is not None:
        forms[bound[0]] = bound[1]
    return {"item": item, "forms": forms, "own_proposal": item.proposed_by_id == user.pk}


def _render_queue(request, bound_item_id=None, bound=None):
    items = (
        case_selectors.items_for(request.user)
        .filter(status=ItemStatus.PROPOSED)
        .select_related("proposed_by", "logged_by")
        .annotate(duplicate_case_id=F("duplicate_of__case_id"))
        .prefetch_related(None)
    )
    page = keyset_page(request, items, newest_first=False)  # a queue: oldest proposal first
    rows = [_row(item, request.user, bound if item.pk == bound_item_id else None) for item in page.rows]
    return render(request, "referral/review.html", {"page": page, "rows": rows})


@require_safe
@role_required(*DECIDERS)
def review_list(request):
    return _render_queue(request)


@require_POST
@role_required(*DECIDERS)
def item_decide(request, pk: int, action: str):
    form_class, decide, done, details = DECISIONS[action]
    form = form_class(request.POST, prefix=f"{action}-{pk}")
    if not form.is_valid():
        problems = " ".join(
            f"{form[name].label}: {' '.join(errors)}" if name in form.fields else " ".join(errors)
            for name, errors in form.errors.items()
        )
        messages.error(request, f"Item {pk} was not {done}. {problems}")
        return _render_queue(request, bound_item_id=pk, bound=(action, form))
    try:
        decide(actor=request.user, item_id=pk, **form.cleaned_data)
    except DomainError as exc:
        show_domain_error(request, exc)
    else:
        messages.success(request, f"Item {pk} {done}{details}.")
    return redirect("review-list")
