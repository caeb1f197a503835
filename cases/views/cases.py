"""Cases and their items: list and create cases, log items into a case, propose items for referral."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import F, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cases import selectors as case_selectors
from cases.actions import cases as case_actions
from cases.actions import items as item_actions
from cases.forms import CaseForm, ItemLogForm
from core.access import LOGGERS, UNIT_STAFF, role_required, show_domain_error
from core.errors import DomainError
from core.paging import NEWEST_FIRST, keyset_page
from core.roles import LIAISONS, PROPOSERS, SUPERVISORS, has_role

PROPOSABLE = ("logged", "returned")


@require_safe
@login_required
def home(request):
    """Send each role to where its work is."""
    user = request.user
    if user.role in UNIT_STAFF:
        return redirect("case-list")
    if has_role(user, LIAISONS):
        return redirect("referral-list")
    raise PermissionDenied("Your account has no role; ask an administrator.")


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(*UNIT_STAFF)
def case_list(request):
    can_create = request.user.role in LOGGERS
    form = CaseForm()
    if request.method == "POST":
        if not can_create:
            raise PermissionDenied("Only analysts and supervisors may open a case.")
        form = CaseForm(request.POST)
        if form.is_valid():
            try:
                case = case_actions.case_create(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                show_domain_error(request, exc, form)
            else:
                messages.success(request, f"Case {case.pk} “{case.title}” opened.")
                return redirect("case-detail", pk=case.pk)
    page = keyset_page(request, case_selectors.cases_for(request.user).select_related("created_by"))
    return render(request, "referral/case_list.html", {"page": page, "form": form, "can_create": can_create})


def _case_items(request, case):
    """One page of the case's items with everything the table shows, in a fixed number of queries."""
    referrals = (case_selectors.related_model("referrals").objects.only("id", "item_id", "status", "instrument")
                 .order_by("id"))
    items = (
        case_selectors.items_for(request.user)
        .filter(case=case)
        .select_related("logged_by", "assignee")
        .annotate(duplicate_case_id=F("duplicate_of__case_id"))
        # The selector's own prefetch loads only referral ids; this table also shows their statuses.
        .prefetch_related(None)
        .prefetch_related(Prefetch("referrals", queryset=referrals))
    )
    return keyset_page(request, items)


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(*UNIT_STAFF)
def case_detail(request, pk: int):
    case = get_object_or_404(case_selectors.cases_with_summary(request.user).select_related("created_by", "assignee"),
                             pk=pk)
    can_log = request.user.role in LOGGERS
    form = None
    if request.method == "POST":
        if not can_log:
            raise PermissionDenied("Only analysts and supervisors may log items.")
        form = ItemLogForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                item = item_actions.item_log(
                    actor=request.user, case=case, url=data["url"], kind=data["kind"],
                    categories=data["categories"], language=data["language"], notes=data["notes"],
                    platform_slug=data["platform"] or None,
                )
            except DomainError as exc:
                show_domain_error(request, exc, form)
            else:
                note = f" It repeats item {item.duplicate_of_id}." if item.duplicate_of_id else ""
                where = item.platform.name if item.platform else "no platform matched"
                messages.success(request, f"Item {item.pk} logged ({where}).{note}")
                return redirect("case-detail", pk=case.pk)
    elif can_log:
        form = ItemLogForm()
    context = {
        "case": case,
        "page": _case_items(request, case),
        "form": form,
        "can_log": can_log,
        "can_propose": has_role(request.user, PROPOSERS),
        "proposable": PROPOSABLE,
        "timeline": case_selectors.case_timeline(case, before=_cursor(request, "events_before")),
        "events_first_query": _without(request, "events_before"),
        "can_close": has_role(request.user, SUPERVISORS),
        "assignees": _assignees() if can_log else [],
        "summary": case_selectors.case_summary(case),
    }
    if context["timeline"].older_cursor:
        query = request.GET.copy()
        query["events_before"] = str(context["timeline"].older_cursor)
        context["events_older_query"] = query.urlencode()
    return render(request, "referral/case_detail.html", context)


def _assignees():
    from accounts.models import User

    staff = User.objects.filter(is_active=True, role__in=LOGGERS).order_by("username")
    return list(staff.values_list("pk", "username"))


def _cursor(request, name: str) -> int | None:
    cursor = NEWEST_FIRST.decode(request.GET.get(name, ""))
    return cursor[0] if cursor else None


def _without(request, name: str) -> str:
    query = request.GET.copy()
    query.pop(name, None)
    return query.urlencode()


# Closing a case is a supervisor's decision (analysts ask for it): a closed case takes no new items, and its
# timeline stays as it was. Either can be undone by the other verb; both are audited.
@require_POST
@role_required(*SUPERVISORS)
def case_close(request, pk: int):
    return _case_move(request, pk, case_actions.case_close, "closed")


@require_POST
@role_required(*LOGGERS)
def case_assign(request, pk: int):
    case = get_object_or_404(case_selectors.cases_for(request.user), pk=pk)
    raw = request.POST.get("assignee", "")
    try:
        case_actions.case_assign(actor=request.user, case_id=case.pk, assignee_id=int(raw) if raw.isdigit() else None)
    except DomainError as exc:
        show_domain_error(request, exc)
    else:
        messages.success(request, f"Case {case.pk} assigned." if raw else f"Case {case.pk} unassigned.")
    return redirect("case-detail", pk=case.pk)


@require_POST
@role_required(*SUPERVISORS)
def case_reopen(request, pk: int):
    return _case_move(request, pk, case_actions.case_reopen, "reopened")


def _case_move(request, pk: int, move, done: str):
    case = get_object_or_404(case_selectors.cases_for(request.user), pk=pk)
    try:
        move(actor=request.user, case_id=case.pk)
    except DomainError as exc:
        show_domain_error(request, exc)
    else:
        messages.success(request, f"Case {case.pk} {done}.")
    return redirect("case-detail", pk=case.pk)


@require_POST
@role_required(*PROPOSERS)
def item_propose(request, pk: int):
    item = get_object_or_404(case_selectors.items_for(request.user).prefetch_related(None), pk=pk)
    try:
        item_actions.item_propose(actor=request.user, item_id=item.pk)
    except DomainError as exc:
        show_domain_error(request, exc)
    else:
        messages.success(request, f"Item {item.pk} proposed for referral.")
    # The item page sends its own address as `next`; only a path on this site is followed.
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                                require_https=request.is_secure()):
        return redirect(back)
    return redirect("case-detail", pk=item.case_id)
