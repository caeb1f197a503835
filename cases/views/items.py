"""The item page: the item, its assessment, assignment, the actions its status allows, its duplicates,
referrals, evidence and audit timeline. Unit staff read it; analysts and supervisors act on it."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from cases import selectors as case_selectors
from cases.actions import assessment as assessment_actions
from cases.actions import items as item_actions
from cases.forms import AssessForm, AssignForm, DiscardForm, HoldForm, TriageChoices
from cases.models import Item, ItemStatus
from core.access import LOGGERS, UNIT_STAFF, role_required, show_domain_error
from core.errors import DomainError
from core.roles import PROPOSERS

TRIAGERS = LOGGERS
S = ItemStatus


def _item(request, pk: int) -> Item:
    referrals = case_selectors.related_model("referrals").objects.select_related("platform").order_by("id")
    qs = (case_selectors.items_for(request.user).prefetch_related(None)
          .select_related("logged_by", "proposed_by", "decided_by", "assignee", "group", "duplicate_of__case")
          .prefetch_related(Prefetch("referrals", queryset=referrals)))
    return get_object_or_404(qs, pk=pk)


def _assessment_initial(item: Item) -> dict:
    return {"categories": item.categories, "group": item.group_id or "", "language": item.language,
            "severity": "" if item.severity is None else str(item.severity),
            "confidence": "" if item.confidence is None else str(item.confidence),
            "threat_to_life": item.threat_to_life}


def _render(request, item: Item, *, choices: TriageChoices, assess_form=None, discard_form=None, hold_form=None,
            status=200):
    role = request.user.role
    can_act = role in TRIAGERS
    open_item = item.status not in item_actions.ITEM_FINAL
    context = {
        "item": item,
        "can_act": can_act,
        "can_assess": can_act and open_item,
        "can_propose": role in PROPOSERS and S.PROPOSED in item_actions.ITEM_ALLOWED[item.status],
        "can_discard": can_act and S.DISCARDED in item_actions.ITEM_ALLOWED[item.status],
        "can_hold": can_act and S.ON_HOLD in item_actions.ITEM_ALLOWED[item.status],
        "can_release": can_act and item.status == S.ON_HOLD,
        "assess_form": assess_form or AssessForm(initial=_assessment_initial(item), choices=choices),
        "assign_form": AssignForm(initial={"assignee": item.assignee_id or ""}, choices=choices),
        "discard_form": discard_form or DiscardForm(),
        "hold_form": hold_form or HoldForm(),
        "copies": case_selectors.item_copies(item),
        "earlier_referrals": case_selectors.earlier_referrals(item),
        "timeline": case_selectors.item_timeline(item),
        "priority_formula": assessment_actions.item_priority.__doc__,
    }
    return render(request, "referral/item_detail.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(*UNIT_STAFF)
def item_detail(request, pk: int):
    item = _item(request, pk)
    choices = TriageChoices()
    if request.method != "POST":
        return _render(request, item, choices=choices)
    if request.user.role not in TRIAGERS:
        raise PermissionDenied("Only analysts and supervisors assess items.")
    form = AssessForm(request.POST, choices=choices)
    if form.is_valid():
        data = form.cleaned_data
        try:
            assessment_actions.item_assess(
                actor=request.user, item_id=item.pk, categories=data["categories"],
                group_id=int(data["group"]) if data["group"] else None, language=data["language"],
                severity=data["severity"], confidence=data["confidence"], threat_to_life=data["threat_to_life"],
            )
        except DomainError as exc:
            show_domain_error(request, exc, form)
        else:
            item.refresh_from_db()
            note = " Supervisors are alerted: threat to life." if item.threat_to_life else ""
            messages.success(request, f"Assessment of item {item.pk} saved; priority {item.priority}.{note}")
            return redirect("item-detail", pk=item.pk)
    return _render(request, item, choices=choices, assess_form=form, status=400 if form.errors else 200)


@require_POST
@role_required(*TRIAGERS)
def item_assign(request, pk: int):
    item = _item(request, pk)
    form = AssignForm(request.POST, choices=TriageChoices())
    if not form.is_valid():
        messages.error(request, "Choose an analyst or supervisor from the list.")
        return redirect("item-detail", pk=item.pk)
    assignee = int(form.cleaned_data["assignee"]) if form.cleaned_data["assignee"] else None
    try:
        assessment_actions.item_assign(actor=request.user, item_ids=[item.pk], assignee_id=assignee)
    except DomainError as exc:
        show_domain_error(request, exc)
    else:
        messages.success(request, f"Item {item.pk} {'assigned' if assignee else 'unassigned'}.")
    return redirect("item-detail", pk=item.pk)


def _item_form_action(request, pk: int, form_class, form_name: str, act, done: str):
    """POST of an item-page form: on success a message and back to the item; on bad input or a refused move,
    the item page again with the form's errors (status 400) and nothing changed."""
    item = _item(request, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            act(item, form.cleaned_data)
        except DomainError as exc:
            show_domain_error(request, exc, form)
        else:
            messages.success(request, f"Item {item.pk} {done}.")
            return redirect("item-detail", pk=item.pk)
    return _render(request, item, choices=TriageChoices(), status=400, **{form_name: form})


@require_POST
@role_required(*TRIAGERS)
def item_discard(request, pk: int):
    return _item_form_action(
        request, pk, DiscardForm, "discard_form", done="discarded",
        act=lambda item, data: item_actions.item_discard(actor=request.user, item_id=item.pk, reason=data["reason"]),
    )


@require_POST
@role_required(*TRIAGERS)
def item_hold(request, pk: int):
    return _item_form_action(
        request, pk, HoldForm, "hold_form", done="is on hold",
        act=lambda item, data: item_actions.item_hold(actor=request.user, item_id=item.pk, **data),
    )


@require_POST
@role_required(*TRIAGERS)
def item_release(request, pk: int):
    item = _item(request, pk)
    try:
        item = item_actions.item_release(actor=request.user, item_id=item.pk)
    except DomainError as exc:
        show_domain_error(request, exc)
    else:
        messages.success(request, f"Item {item.pk} released; it is {item.get_status_display().lower()} again.")
    return redirect("item-detail", pk=item.pk)
