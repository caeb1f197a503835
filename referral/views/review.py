"""The supervisor's review queue: approve (choosing the instrument), return or reject proposed items."""

from django.contrib import messages
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.defaultfilters import linebreaksbr
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST, require_safe

from cases import selectors as case_selectors
from cases.models import ItemKind, ItemStatus
from core.access import role_required, show_domain_error
from core.errors import DomainError
from core.form_rendering import FAST_RENDERER
from core.paging import keyset_page
from core.roles import DECIDERS
from core.table_cells import href_format, html_row
from referral.actions import approval
from referral.forms import ApproveForm, RejectForm, ReturnForm

DECISIONS = {
    # action: (form class, workflow function, past tense, what the success message adds)
    "approve": (ApproveForm, approval.item_approve, "approved", "; its referral is queued for delivery"),
    "return": (ReturnForm, approval.item_return, "returned", " to the analyst"),
    "reject": (RejectForm, approval.item_reject, "rejected", ""),
}
# What an entry shows, in one query (the joins are columns); the id first: keyset_page's cursor.
ENTRY_COLUMNS = ("id", "url", "canonical_url", "case_id", "case__title", "platform_id", "platform__name", "kind",
                 "categories", "language", "notes", "duplicate_of_id", "duplicate_of__case_id", "logged_by__username",
                 "proposed_by_id", "proposed_by__username")
_PK = "__item_pk__"  # stands for the item's id in the decision forms rendered once per page
# An entry of the review queue, filled in one pass by _rows (core/table_cells.html_row): a template's {{ }} per
# field and a form render per decision cost more than all of it.
ENTRY = """<section class="review-item" id="item-{pk}" aria-labelledby="item-{pk}-title">
  <h2 id="item-{pk}-title">Item {pk}: <span class="url">{url}</span></h2>
  <dl class="details">
    <dt>Case</dt><dd><a href="{case_href}#item-{pk}">Case {case_id}: {case_title}</a></dd>
    <dt>Canonical URL</dt><dd class="url">{canonical_url}</dd>
    <dt>Platform</dt><dd>{platform}</dd>
    <dt>Kind</dt><dd>{kind}</dd>
    <dt>Categories</dt><dd>{categories}</dd>
    <dt>Language</dt><dd>{language}</dd>
    <dt>Notes</dt><dd>{notes}</dd>
    <dt>Duplicate of</dt><dd>{duplicate}</dd>
    <dt>Logged by</dt><dd>{logged_by}</dd>
    <dt>Proposed by</dt><dd>{proposed_by}{you}</dd>
  </dl>

  <div class="decisions">
    {approve}
    <form method="post" action="{return_href}" class="stacked decision">
      {csrf}
      <h3>Return to the analyst</h3>
      {return_form}
      <button type="submit" class="secondary">Return<span class="visually-hidden"> item {pk}</span></button>
    </form>
    <form method="post" action="{reject_href}" class="stacked decision">
      {csrf}
      <h3>Reject</h3>
      {reject_form}
      <button type="submit" class="danger">Reject<span class="visually-hidden"> item {pk}</span></button>
    </form>
  </div>
</section>"""
APPROVE = """<form method="post" action="{approve_href}" class="stacked decision">
      {csrf}
      <h3>Approve</h3>
      {approve_form}
      <button type="submit">Approve<span class="visually-hidden"> item {pk}</span></button>
    </form>"""
OWN_PROPOSAL = mark_safe("""<p class="notice own-proposal">You proposed this item yourself, so you cannot approve it: \
another supervisor must
      (four-eyes rule).</p>""")  # noqa: S308  (a constant)
NO_PLATFORM = mark_safe('<span class="warning-text">No platform matched</span>: it cannot be approved until a '  # noqa: S308
                        "platform claims the URL's host")
DUPLICATE = '<a href="{href}#item-{pk}">Item {pk}</a>'
CSRF = '<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'


def _blank_forms() -> dict[str, str]:
    """Each decision form rendered once with a placeholder for the item's id in its prefix: an entry's three forms
    differ from the next entry's only in their prefix (names and ids), so 50 entries cost 3 form renders."""
    return {action: str(cls(prefix=f"{action}-{_PK}", renderer=FAST_RENDERER))
            for action, (cls, *_) in DECISIONS.items()}


def _rows(request, values, bound_item_id=None, bound=None) -> list[SafeString]:
    """One entry (ENTRY) per proposed item with its three forms, in one pass; `bound` = (action, form) that failed
    validation on the item `bound_item_id`, shown with its errors."""
    blank = _blank_forms()
    case_href = href_format("case-detail")
    decide_href = {action: href_format(f"item-{action}") for action in DECISIONS}
    kinds, user_pk = dict(ItemKind.choices), request.user.pk
    csrf = html_row(CSRF, {"token": get_token(request)})  # one token for the page's forms, as {% csrf_token %}
    rows = []
    for (pk, url, canonical_url, case_id, case_title, platform_id, platform, kind, categories, language, notes,
         duplicate_of, duplicate_case, logged_by, proposed_by_id, proposed_by) in values:
        forms = {action: mark_safe(html.replace(_PK, str(pk))) for action, html in blank.items()}  # noqa: S308  (an int)
        if pk == bound_item_id and bound is not None:
            forms[bound[0]] = bound[1].render()
        own = proposed_by_id == user_pk
        approve = OWN_PROPOSAL if own else html_row(APPROVE, {
            "approve_href": decide_href["approve"].format(pk), "csrf": csrf, "approve_form": forms["approve"],
            "pk": pk})
        rows.append(html_row(ENTRY, {
            "pk": pk, "url": url, "canonical_url": canonical_url, "case_id": case_id, "case_title": case_title,
            "case_href": case_href.format(case_id), "platform": platform if platform_id is not None else NO_PLATFORM,
            "kind": kinds.get(kind, kind), "categories": ", ".join(categories or []) or "—",
            "language": language or "—", "notes": linebreaksbr(notes, autoescape=True) if notes else "—",
            "duplicate": html_row(DUPLICATE, {"href": case_href.format(duplicate_case), "pk": duplicate_of})
            if duplicate_of else "—",
            "logged_by": logged_by, "proposed_by": proposed_by or "—", "you": " (you)" if own else "",
            "approve": approve, "csrf": csrf,
            "return_href": decide_href["return"].format(pk), "return_form": forms["return"],
            "reject_href": decide_href["reject"].format(pk), "reject_form": forms["reject"],
        }))
    return rows


def _render_queue(request, bound_item_id=None, bound=None):
    items = (
        case_selectors.items_for(request.user)
        .filter(status=ItemStatus.PROPOSED)
        .prefetch_related(None)
        .values_list(*ENTRY_COLUMNS)
    )
    page = keyset_page(request, items, newest_first=False)  # a queue: oldest proposal first
    rows = _rows(request, page.rows, bound_item_id, bound)
    return render(request, "referral/review.html", {"page": page, "rows": rows})


@require_safe
@role_required(*DECIDERS)
def review_list(request):
    return _render_queue(request)


@require_POST
@role_required(*DECIDERS)
def item_decide(request, pk: int, action: str):
    form_class, decide, done, details = DECISIONS[action]
    form = form_class(request.POST, prefix=f"{action}-{pk}", renderer=FAST_RENDERER)
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
