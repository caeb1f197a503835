"""Review: the supervisors' queue of proposed items, a dense keyset-paged table in Review's order (a threat to life
first, then priority, then the oldest proposal), with filters, the proposals waiting per platform, and decisions
per row or on the checked rows: approve (choosing the instrument), return or reject (with a reason). Every decision
goes through the review actions (referral/actions/approval.py), which check the role and four-eyes themselves.

After a decision the page keeps its place: posted with htmx, the answer is the same page (same filters, same
cursor) with the decided rows gone and the outcome above the table, swapped in place; without JavaScript the
answer redirects back to that same page. Deciding on every proposal matching the filter is a ReviewJob
(referral/views/review_jobs.py).
"""

from datetime import timedelta

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST, require_safe

from cases import selectors as case_selectors
from cases.forms import TriageChoices
from core.access import role_required, show_domain_error
from core.errors import DomainError
from core.form_rendering import FAST_RENDERER
from core.roles import DECIDERS
from core.table_cells import NONE, href_format, html_row
from evidence.actions import PIL_FORMATS
from referral.actions import approval
from referral.forms import ApproveForm, RejectForm, ReturnForm, ReviewDecisionForm, ReviewFilterForm, ReviewJobForm
from referral.models import Instrument


# One item at a time (the row's buttons, and the item URLs the API's users know): (form, action, past tense).
def _approve_one(*, actor, item_id: int, instrument: str, statement_of_reasons: str = "", reason: str = ""):
    """A row's approval: a removal order's statement of reasons is its own field or the action bar's reason."""
    order = ({"statement_of_reasons": statement_of_reasons or reason}
             if instrument == Instrument.REMOVAL_ORDER else None)
    return approval.item_approve(actor=actor, item_id=item_id, instrument=instrument, order=order)


DECISIONS = {
    "approve": (ApproveForm, _approve_one, "approved"),
    "return": (ReturnForm, approval.item_return, "returned"),
    "reject": (RejectForm, approval.item_reject, "rejected"),
}
# The checked rows: (bulk action given (actor, ids, cleaned data), its answer's key).
BULK = {
    "approve": (lambda actor, ids, d: approval.item_approve_many(
        actor=actor, item_ids=ids, instrument=d["instrument"],
        order={"statement_of_reasons": d["reason"]} if d["instrument"] == Instrument.REMOVAL_ORDER else None),
        "approved"),
    "return": (lambda actor, ids, d: approval.items_return_many(actor=actor, item_ids=ids, reason=d["reason"]),
               "returned"),
    "reject": (lambda actor, ids, d: approval.items_reject_many(actor=actor, item_ids=ids, reason=d["reason"]),
               "rejected"),
}
FOUR_EYES = 403  # item_approve_many's status code for one's own proposal
SHOWN_IDS = 20  # item numbers listed in an outcome line

# A row of Review (static/js/review.js reads tr.review-row, data-item-id and the items checkbox), filled in one
# pass (core/table_cells.html_row). The URL is text, never a link to the content.
ROW = (
    '<tr id="r-item-{pk}" class="review-row{ttl_class}" data-item-id="{pk}" tabindex="-1">\n'
    '      <td class="select"><label class="visually-hidden" for="sel-{pk}">Select item {pk}</label>'
    '<input type="checkbox" name="items" value="{pk}" id="sel-{pk}"></td>\n'
    '      <th scope="row"><a href="{href}">Item {pk}</a></th>\n'
    '      <td class="num priority priority-{priority}">{priority}{ttl_label}</td>\n'
    '      <td class="url">{url}</td>\n'
    "      <td>{platform}</td>\n"
    "      <td>{categories}</td>\n"
    "      <td>{group}</td>\n"
    "      <td>{proposer}</td>\n"
    "      <td>{age}</td>\n"
    '      <td class="evidence-cell">{evidence}</td>\n'
    '      <td class="row-actions">{approve}'
    '<button type="submit" class="secondary small" formaction="{return_href}" data-decision="return">'
    'Return<span class="visually-hidden"> item {pk}</span></button>'
    '<button type="submit" class="danger small" formaction="{reject_href}" data-decision="reject">'
    'Reject<span class="visually-hidden"> item {pk}</span></button></td>\n'
    "    </tr>"
)
APPROVE = ('<button type="submit" class="small" formaction="{href}" data-decision="approve">'
           'Approve<span class="visually-hidden"> item {pk}</span></button>')
OWN_PROPOSAL = mark_safe('<span class="own-proposal" title="You proposed this item yourself, so you cannot approve '  # noqa: S308
                         'it: another supervisor must (four-eyes rule).">Yours</span>')
TTL_LABEL = mark_safe(' <strong class="ttl-label">Threat to life</strong>')  # noqa: S308  (a constant)
NO_PLATFORM = mark_safe('<span class="warning-text">No platform matched</span>')  # noqa: S308  (a constant)
THUMB = ('<a class="review-thumb" href="{href}" title="Evidence: blurred preview (open the evidence page to look)">'
         '<img src="{src}" alt="Blurred preview of the evidence of item {pk}" width="48" height="36" '
         'loading="lazy"></a>')
HAS_EVIDENCE = '<a class="has-evidence" href="{href}">Has evidence</a>'  # no picture to preview (a PDF, a video…)
AGE = '<time datetime="{iso}" title="Proposed {iso}">{age}</time>'


def _age(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


def _rows(rows, user_pk: int) -> list[SafeString]:
    item_url, evidence_url, preview_url = (href_format("item-detail"), href_format("item-evidence"),
                                           href_format("evidence-preview"))
    decide = {action: href_format(f"item-{action}") for action in DECISIONS}
    now, out = timezone.now(), []
    for row in rows:
        pk, ttl, proposed_at = row["id"], row["threat_to_life"], row["proposed_at"]
        if row["preview_id"]:
            evidence = html_row(THUMB, {"href": evidence_url.format(pk), "src": preview_url.format(row["preview_id"]),
                                        "pk": pk})
        elif row["evidence_id"]:
            evidence = html_row(HAS_EVIDENCE, {"href": evidence_url.format(pk)})
        else:
            evidence = NONE
        out.append(html_row(ROW, {
            "pk": pk, "href": item_url.format(pk), "priority": row["priority"],
            "ttl_class": " threat-to-life" if ttl else "", "ttl_label": TTL_LABEL if ttl else "",
            "url": row["url"], "platform": (row["platform__name"] if row["platform_id"] else "") or NO_PLATFORM,
            "categories": ", ".join(row["categories"] or []) or "—",
            "group": (row["group__name"] if row["group_id"] else "") or "—",
            "proposer": row["proposed_by__username"] or "—",
            "age": html_row(AGE, {"iso": proposed_at.isoformat(), "age": _age(now - proposed_at)})
            if proposed_at else NONE,
            "evidence": evidence,
            "approve": OWN_PROPOSAL if row["proposed_by_id"] == user_pk else html_row(
                APPROVE, {"href": decide["approve"].format(pk), "pk": pk}),
            "return_href": decide["return"].format(pk), "reject_href": decide["reject"].format(pk),
        }))
    return out


def _context(request, query: QueryDict, outcome=(), bound=None) -> dict:
    """Review for `query` (filters and the cursor `after`); `outcome` = [(level, text)] of the last decision,
    `bound` = {action, pk, form, href} of a single decision whose input was refused, shown with its errors."""
    choices = TriageChoices()
    form = ReviewFilterForm(query, choices=choices, renderer=FAST_RENDERER)
    if form.is_valid():
        page = case_selectors.review_queue(request.user, form.filters(), query.get("after"),
                                           preview_mimes=list(PIL_FORMATS))
    else:
        page = case_selectors.ReviewPage(rows=[], next_cursor=None)
    first = query.copy()
    first.pop("after", None)
    next_query = ""
    if page.next_cursor:
        following = first.copy()
        following["after"] = page.next_cursor
        next_query = following.urlencode()
    counts = case_selectors.review_counts_by_platform(request.user)
    return {
        "filter_form": form, "page": page, "rows": _rows(page.rows, request.user.pk),
        "counts": counts, "waiting": sum(n for *_, n in counts),
        "is_first": not query.get("after"), "first_query": first.urlencode(), "next_query": next_query,
        "back": query.urlencode(), "filter_query": first.urlencode(),
        "decision_form": ReviewDecisionForm(auto_id="review-%s", renderer=FAST_RENDERER),
        "job_form": ReviewJobForm(auto_id="job-%s", renderer=FAST_RENDERER) if form.is_valid() else None,
        "outcome": outcome, "bound": bound,
    }


@require_safe
@role_required(*DECIDERS)
def review_list(request):
    return render(request, "referral/review.html", _context(request, request.GET))


def _back(request) -> QueryDict:
    """The query of the page the decision came from (filters and cursor), as the form's hidden `back` holds it."""
    return QueryDict((request.POST.get("back") or "").replace("\r", "").replace("\n", ""))


def _answer(request, outcome: list[tuple[str, str]], bound=None):
    """The page the decision came from, at the same place: the table itself for htmx (swapped in place), a
    redirect back to it otherwise (the outcome as messages); the page with the refused form when `bound`."""
    back = _back(request)
    if request.headers.get("HX-Request") == "true":
        return render(request, "referral/_review_results.html", _context(request, back, outcome, bound))
    if bound is not None:
        return render(request, "referral/review.html", _context(request, back, outcome, bound))
    for level, text in outcome:
        messages.add_message(request, messages.ERROR if level == "error" else messages.SUCCESS, text)
    query = back.urlencode()
    return redirect(reverse("review-list") + (f"?{query}" if query else ""))


def _listed(ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:SHOWN_IDS])
    return shown + ("…" if len(ids) > SHOWN_IDS else "")


def _outcome(action: str, done: list[int], errors: list[dict]) -> list[tuple[str, str]]:
    lines = []
    if done:
        n = len(done)
        lines.append(("success", f"{n} item{'s' if n != 1 else ''} {BULK[action][1]} "
                                 f"(item{'s' if n != 1 else ''} {_listed(done)})."))
    own = [e["item"] for e in errors if action == "approve" and e["status_code"] == FOUR_EYES]
    if own:
        lines.append(("error", f"{len(own)} skipped: your own proposal{'s' if len(own) != 1 else ''} (four-eyes: "
                               f"another supervisor must approve them): item{'s' if len(own) != 1 else ''} "
                               f"{_listed(own)}."))
    refused = [e for e in errors if not (action == "approve" and e["status_code"] == FOUR_EYES)]
    if refused:
        reasons = "; ".join(f"item {e['item']}: {e['detail']}" for e in refused[:SHOWN_IDS])
        more = f"; and {len(refused) - SHOWN_IDS} more" if len(refused) > SHOWN_IDS else ""
        lines.append(("error", f"{len(refused)} refused: {reasons}{more}"))
    return lines


@require_POST
@role_required(*DECIDERS)
def review_decide(request):
    """The action bar: one decision on the checked rows, through the bulk review actions."""
    form = ReviewDecisionForm(request.POST)
    if not form.is_valid():
        problems = " ".join(f"{form[name].label}: {' '.join(errs)}" if name in form.fields else " ".join(errs)
                            for name, errs in form.errors.items())
        return _answer(request, [("error", f"Nothing was changed. {problems}")])
    data = form.cleaned_data
    if not data["items"]:
        return _answer(request, [("error", "Nothing was changed: select at least one item (x, or its checkbox).")])
    bulk, key = BULK[data["action"]]
    try:
        result = bulk(request.user, data["items"], data)
    except DomainError as exc:
        return _answer(request, [("error", exc.message)])
    return _answer(request, _outcome(data["action"], result[key], result["errors"]))


def _single_form(request, pk: int, action: str):
    """The decision's form, from the item's own prefixed fields (`approve-7-instrument`) or else from the
    page's action bar (`instrument`, `reason`), as the row's buttons post them."""
    form_class = DECISIONS[action][0]
    prefix = f"{action}-{pk}"
    if any(name.startswith(f"{prefix}-") for name in request.POST):
        return form_class(request.POST, prefix=prefix, renderer=FAST_RENDERER)
    form = form_class(request.POST, renderer=FAST_RENDERER)
    if action == "approve" and not request.POST.get("instrument"):
        form = form_class({"instrument": "referral"}, renderer=FAST_RENDERER)
    elif action == "approve":  # the action bar's reason is a removal order's statement of reasons
        form = form_class({"instrument": request.POST["instrument"],
                           "statement_of_reasons": request.POST.get("statement_of_reasons")
                           or request.POST.get("reason", "")}, renderer=FAST_RENDERER)
    return form


@require_POST
@role_required(*DECIDERS)
def item_decide(request, pk: int, action: str):
    """One item: /items/<id>/approve|return|reject/ (a row's buttons)."""
    _, decide, done = DECISIONS[action]
    form = _single_form(request, pk, action)
    if not form.is_valid():
        problems = " ".join(f"{form[name].label}: {' '.join(errors)}" if name in form.fields else " ".join(errors)
                            for name, errors in form.errors.items())
        bound = {"action": action, "pk": pk, "form": form, "href": reverse(f"item-{action}", args=[pk])}
        return _answer(request, [("error", f"Item {pk} was not {done}. {problems}")], bound=bound)
    try:
        decide(actor=request.user, item_id=pk, **form.cleaned_data)
    except DomainError as exc:
        if request.headers.get("HX-Request") == "true":
            return _answer(request, [("error", f"Item {pk}: {exc.message}")])
        show_domain_error(request, exc)
        query = _back(request).urlencode()
        return redirect(reverse("review-list") + (f"?{query}" if query else ""))
    details = "; its referral is queued for delivery" if action == "approve" else ""
    return _answer(request, [("success", f"Item {pk} {done}{details}.")])
