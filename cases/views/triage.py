"""The triage queue: filter, sort by priority or age, keyset pages, and bulk actions on the checked rows.

Analysts and supervisors work it; administrators read it. Every action goes through a workflow bulk function and
comes back as messages: how many were done, which were refused and why.
"""

import unicodedata

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.views.decorators.http import require_POST, require_safe

from cases import selectors as case_selectors
from cases.actions import assessment as assessment_actions
from cases.actions import items as item_actions
from cases.forms import BulkActionForm, QueueFilterForm, TriageChoices
from cases.memo import HtmlMemo
from cases.models import ItemKind, ItemStatus
from core.access import LOGGERS, UNIT_STAFF, role_required, show_domain_error
from core.errors import DomainError
from core.form_rendering import FAST_RENDERER
from core.roles import PROPOSERS
from core.table_cells import NONE, href_format, html_row

TRIAGERS = LOGGERS  # analysts and supervisors act on the queue; administrators read it
ACTION_DONE = {"assign": "assigned", "propose": "proposed", "discard": "discarded", "hold": "put on hold",
               "move": "moved"}


# A row of the queue's table (static/js/triage.js reads tr.queue-row, data-item-id and the items checkbox). The
# view fills it in one pass (core/table_cells.html_row): a template's {{ }} per cell costs more than all of it.
ROW = (
    '<tr id="q-item-{pk}" class="queue-row{ttl_class}" data-item-id="{pk}" tabindex="-1">\n'
    "      {select}\n"
    '      <th scope="row"><a href="{href}">Item {pk}</a></th>\n'
    '      <td class="num priority priority-{priority}">{priority}{ttl_label}</td>\n'
    '      <td><span class="status status-{status}">{status_label}</span></td>\n'
    '      <td class="url">{url}</td>\n'
    "      <td>{platform}</td>\n"
    "      <td>{kind}</td>\n"
    "      <td>{categories}</td>\n"
    "      <td>{group}</td>\n"
    "      <td>{language}</td>\n"
    '      <td><a href="{case_href}">Case {case_id}</a></td>\n'
    "      <td>{assignee}</td>\n"
    "      <td>{duplicate}</td>\n"
    "      <td>{evidence}</td>\n"
    "    </tr>"
)
SELECT = ('<td class="select"><label class="visually-hidden" for="sel-{pk}">Select item {pk}</label>'
          '<input type="checkbox" name="items" value="{pk}" id="sel-{pk}"></td>')
DUPLICATE = '<a href="{href}">Item {pk}</a>'
TTL_LABEL = mark_safe(' <strong class="ttl-label">Threat to life</strong>')  # noqa: S308  (a constant)
NO_PLATFORM = mark_safe('<span class="warning-text">No platform matched</span>')  # noqa: S308  (a constant)
EVIDENCE = {True: "Yes", False: mark_safe('<span class="none">No</span>')}  # noqa: S308  (a constant)
URL_CHARS = 80  # the URL cell shows this many characters, as truncatechars:80 did
FILTER_FIELDS, BULK_FIELDS = HtmlMemo(), HtmlMemo()


def _truncate(text: str, length: int = URL_CHARS) -> str:
    """truncatechars:`length` (Django's Truncator), without building a Truncator for the short ones."""
    normal = unicodedata.normalize("NFC", text)
    return normal if len(normal) <= length else Truncator(text).chars(length)


def _rows(items, can_act: bool) -> list[SafeString]:
    """The table's rows, worked out once in Python (see ROW)."""
    item_url, case_url = href_format("item-detail"), href_format("case-detail")
    kinds, statuses = dict(ItemKind.choices), dict(ItemStatus.choices)
    rows = []
    for item in items:
        pk, duplicate_of, ttl, status, kind = (item["id"], item["duplicate_of_id"], item["threat_to_life"],
                                               item["status"], item["kind"])
        rows.append(html_row(ROW, {
            "pk": pk, "href": item_url.format(pk), "priority": item["priority"],
            "ttl_class": " threat-to-life" if ttl else "", "ttl_label": TTL_LABEL if ttl else "",
            "select": html_row(SELECT, {"pk": pk}) if can_act else "",
            "status": status, "status_label": statuses.get(status, status), "url": _truncate(item["url"]),
            "platform": (item["platform__name"] if item["platform_id"] else "") or NO_PLATFORM,
            "kind": kinds.get(kind, kind), "categories": ", ".join(item["categories"] or []) or "—",
            "group": (item["group__name"] if item["group_id"] else "") or "—", "language": item["language"] or "—",
            "case_id": item["case_id"], "case_href": case_url.format(item["case_id"]),
            "assignee": (item["assignee__username"] if item["assignee_id"] else "") or "—",
            "duplicate": html_row(DUPLICATE, {"href": item_url.format(duplicate_of), "pk": duplicate_of})
            if duplicate_of else NONE,
            "evidence": EVIDENCE[bool(item["has_evidence"])],
        }))
    return rows


def _filter_fields(form: QueueFilterForm, query, choices: TriageChoices) -> SafeString:
    """The filter form's fields: the same markup for the same submitted values and choice lists (cases/memo.py)."""
    key = (tuple((name, tuple(query.getlist(name))) for name in form.fields), tuple(choices.platforms),
           tuple(choices.groups), tuple(choices.people))
    return FILTER_FIELDS.get(key, lambda: render_to_string("referral/_queue_filter_fields.html", {"filter_form": form}))


def _bulk_fields(choices: TriageChoices) -> SafeString:
    """The bulk actions' fields: never bound on the page (a refused action answers as a message), so the same
    markup for the same assignees."""
    def render():
        form = BulkActionForm(choices=choices, auto_id="bulk_%s", renderer=FAST_RENDERER)
        return render_to_string("referral/_queue_bulk_fields.html", {"bulk_form": form})

    return BULK_FIELDS.get(tuple(choices.people), render)


def _queue_context(request, query, outcome=()) -> dict:
    """The queue for `query` (filters, sort and the cursor `after`); `outcome` = [(level, text)] of the last bulk
    action when it is answered in place (htmx)."""
    choices = TriageChoices().preload()  # the page shows all three lists: one query, not three
    form = QueueFilterForm(query, choices=choices, renderer=FAST_RENDERER)
    if form.is_valid():
        sort = form.cleaned_data.get("sort") or "priority"
        page = case_selectors.triage_queue(request.user, form.filters(), sort, query.get("after"))
    else:
        page = case_selectors.QueuePage(rows=[], next_cursor=None, sort="priority")
    first = query.copy()
    first.pop("after", None)
    next_query = ""
    if page.next_cursor:
        following = first.copy()
        following["after"] = page.next_cursor
        next_query = following.urlencode()
    can_act = request.user.role in TRIAGERS
    return {
        "filter_form": form,
        "page": page,
        "rows": _rows(page.rows, can_act),
        "is_first": not query.get("after"),
        "first_query": first.urlencode(),
        "next_query": next_query,
        "can_act": can_act,
        "can_propose": request.user.role in PROPOSERS,
        "filter_fields": _filter_fields(form, query, choices),
        "bulk_fields": _bulk_fields(choices) if can_act and page.rows else "",
        "back": query.urlencode(),
        "outcome": outcome,
    }


@require_safe
@role_required(*UNIT_STAFF)
def queue(request):
    return render(request, "referral/queue.html", _queue_context(request, request.GET))


def _report(action: str, result: dict) -> list[tuple[str, str]]:
    done, errors = result["done"], result["errors"]
    lines = []
    if done:
        ids = ", ".join(str(i) for i in done[:20]) + ("…" if len(done) > 20 else "")
        lines.append(("success", f"{len(done)} item{'s' if len(done) != 1 else ''} {ACTION_DONE[action]} "
                                 f"(item{'s' if len(done) != 1 else ''} {ids})."))
    if errors:
        reasons = "; ".join(f"item {e['item']}: {e['detail']}" for e in errors[:20])
        more = f"; and {len(errors) - 20} more" if len(errors) > 20 else ""
        lines.append(("error", f"{len(errors)} refused: {reasons}{more}"))
    return lines


def _answer(request, back: str, outcome: list[tuple[str, str]]):
    """Back to the page the action came from (filters, sort, cursor): with htmx, that page itself, whose results
    the form swaps in place (the cursor row stays); without, a redirect to it, the outcome as messages."""
    if request.headers.get("HX-Request") == "true":
        return render(request, "referral/queue.html", _queue_context(request, QueryDict(back), outcome))
    for level, text in outcome:
        messages.add_message(request, messages.ERROR if level == "error" else messages.SUCCESS, text)
    return redirect(reverse("triage-queue") + (f"?{back}" if back else ""))


@require_POST
@role_required(*TRIAGERS)
def queue_bulk(request):
    """One form for every bulk action: the checked items, the action, and what that action needs."""
    back = (request.POST.get("back") or "").replace("\r", "").replace("\n", "")
    form = BulkActionForm(request.POST, choices=TriageChoices())
    if not form.is_valid():
        problems = " ".join(
            f"{form[name].label}: {' '.join(errs)}" if name in form.fields else " ".join(errs)
            for name, errs in form.errors.items()
        )
        return _answer(request, back, [("error", f"Nothing was changed. {problems}")])
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
        if request.headers.get("HX-Request") == "true":
            return _answer(request, back, [("error", exc.message)])
        show_domain_error(request, exc)
        return _answer(request, back, [])
    return _answer(request, back, _report(action, result))

