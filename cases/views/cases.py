"""Cases and their items: list and create cases, log items into a case, propose items for referral."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cases import case_page
from cases import selectors as case_selectors
from cases.actions import cases as case_actions
from cases.actions import items as item_actions
from cases.compiled import CompiledQuery
from cases.forms import CaseForm, ItemLogForm, platform_choices
from cases.memo import HtmlMemo
from cases.models import CaseStatus, ItemKind, ItemStatus
from core.access import LOGGERS, UNIT_STAFF, role_required, show_domain_error
from core.errors import DomainError
from core.form_rendering import FAST_RENDERER
from core.paging import NEWEST_FIRST, Page, keyset_page
from core.roles import LIAISONS, PROPOSERS, SUPERVISORS, has_role
from core.table_cells import NONE, href_format, html_row, status_html, time_html

PROPOSABLE = ("logged", "returned")
LOG_FIELDS = HtmlMemo()
# A row of the cases table, filled in one pass (core/table_cells.html_row): a template's {{ }} per cell costs more.
CASE_ROW = (
    "<tr>\n"
    '        <td><a href="{href}">Case {pk}</a></td>\n'
    '        <th scope="row"><a href="{href}">{title}</a></th>\n'
    "        <td>{status}</td>\n"
    "        <td>{created_by}</td>\n"
    "        <td>{created}</td>\n"
    "      </tr>"
)


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
    form = CaseForm(renderer=FAST_RENDERER)
    if request.method == "POST":
        if not can_create:
            raise PermissionDenied("Only analysts and supervisors may open a case.")
        form = CaseForm(request.POST, renderer=FAST_RENDERER)
        if form.is_valid():
            try:
                case = case_actions.case_create(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                show_domain_error(request, exc, form)
            else:
                messages.success(request, f"Case {case.pk} “{case.title}” opened.")
                return redirect("case-detail", pk=case.pk)
    page = keyset_page(request, case_selectors.cases_for(request.user).values_list(
        "id", "title", "status", "created_by__username", "created_at"))  # the id first: keyset_page's cursor
    href, statuses, tz = href_format("case-detail"), dict(CaseStatus.choices), timezone.get_current_timezone()
    rows = [html_row(CASE_ROW, {"pk": pk, "href": href.format(pk), "title": title, "created_by": created_by,
                                "status": status_html(status, statuses.get(status, status)),
                                "created": time_html(created_at, tz)})
            for pk, title, status, created_by, created_at in page.rows]
    return render(request, "referral/case_list.html",
                  {"page": page, "rows": rows, "form": form, "can_create": can_create})


# A row of the case's items table, filled in one pass by _item_rows (core/table_cells.html_row): a template's
# {{ }} per cell costs more than all of it.
ITEM_ROW = (
    '<tr id="item-{pk}">\n'
    '        <th scope="row"><a href="{href}">Item {pk}</a></th>\n'
    '        <td class="url">{url}</td>\n'
    '        <td class="url">{canonical_url}</td>\n'
    "        <td>{platform}</td>\n"
    "        <td>{kind}</td>\n"
    "        <td>{categories}</td>\n"
    "        <td>\n"
    '          <span class="status status-{status}">{status_label}</span>\n'
    "          {reason}\n"
    "        </td>\n"
    '        <td class="num">{priority}{ttl_label}</td>\n'
    "        <td>{assignee}</td>\n"
    "        <td>{duplicate}</td>\n"
    "        <td>\n"
    "          {referrals}\n"
    "        </td>{propose}\n"
    "      </tr>"
)
REASON = '<div class="reason">Reason: {reason}</div>'
DUPLICATE = '<a href="{href}#item-{pk}">Item {pk}</a>'
REFERRAL = '<a href="{href}">Referral {pk}</a>:\n            <span class="status status-{status}">{label}</span>'
PROPOSE_CELL = "\n        <td>{form}</td>"
PROPOSE_FORM = (
    '\n          <form method="post" action="{action}" class="inline">\n'
    '            <input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">\n'
    '            <button type="submit">Propose<span class="visually-hidden"> item {pk}</span></button>\n'
    "          </form>\n        "
)
TTL_LABEL = mark_safe(' <strong class="ttl-label">Threat to life</strong>')  # noqa: S308  (a constant)
NO_PLATFORM = mark_safe('<span class="warning-text">No platform matched</span>')  # noqa: S308  (a constant)
def _case_items(request, case) -> tuple[Page, dict]:
    """One page of the case's items with their referrals (two queries), and its links as keyset_page makes them."""
    cursor = NEWEST_FIRST.decode(request.GET.get("before", ""))
    rows, more, referrals = case_page.case_items_page(request.user, case.pk, cursor[0] if cursor else None)
    page = Page(rows=rows, next_cursor=NEWEST_FIRST.encode((rows[-1][0],)) if more else None,
                is_first=cursor is None)
    first = request.GET.copy()
    first.pop("before", None)
    page.first_query = first.urlencode()
    if page.next_cursor is not None:
        following = request.GET.copy()
        following["before"] = page.next_cursor
        page.next_query = following.urlencode()
    return page, referrals


def _item_rows(request, page, referrals, can_propose: bool) -> list[SafeString]:
    """The items table's rows (ITEM_ROW), in one pass."""
    item_href, case_href = href_format("item-detail"), href_format("case-detail")
    referral_href, propose_href = href_format("referral-detail"), href_format("item-propose")
    kinds, statuses = dict(ItemKind.choices), dict(ItemStatus.choices)
    referral_statuses = dict(case_selectors.related_model("referrals")._meta.get_field("status").flatchoices)
    csrf = get_token(request) if can_propose else ""  # one token for the page's forms, as {% csrf_token %} does
    rows = []
    for (pk, url, canonical_url, platform_id, platform, kind, categories, status, reason, priority, ttl, assignee,
         duplicate_of, duplicate_case) in page.rows:
        links = [html_row(REFERRAL, {"href": referral_href.format(rid), "pk": rid, "status": rstatus,
                                     "label": referral_statuses.get(rstatus, rstatus)})
                 for rid, rstatus in referrals.get(pk, ())]
        propose = ""
        if can_propose:
            form = html_row(PROPOSE_FORM, {"action": propose_href.format(pk), "csrf": csrf, "pk": pk}) \
                if status in PROPOSABLE else ""
            propose = html_row(PROPOSE_CELL, {"form": form})
        rows.append(html_row(ITEM_ROW, {
            "pk": pk, "href": item_href.format(pk), "url": url, "canonical_url": canonical_url,
            "platform": (platform if platform_id else "") or NO_PLATFORM, "kind": kinds.get(kind, kind),
            "categories": ", ".join(categories or []) or "—", "status": status,
            "status_label": statuses.get(status, status),
            "reason": html_row(REASON, {"reason": reason}) if reason else "",
            "priority": priority, "ttl_label": TTL_LABEL if ttl else "", "assignee": assignee or "—",
            "duplicate": html_row(DUPLICATE, {"href": case_href.format(duplicate_case), "pk": duplicate_of})
            if duplicate_of else NONE,
            "referrals": mark_safe("<br>\n            ".join(links)) if links else NONE,  # noqa: S308  (built escaped)
            "propose": propose,
        }))
    return rows


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(*UNIT_STAFF)
def case_detail(request, pk: int):
    case = case_page.case_with_summary(request.user, pk)
    if case is None:
        raise Http404("No such case.")
    can_log = request.user.role in LOGGERS
    form = None
    if request.method == "POST":
        if not can_log:
            raise PermissionDenied("Only analysts and supervisors may log items.")
        form = ItemLogForm(request.POST, renderer=FAST_RENDERER)
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
    page, referrals = _case_items(request, case)
    can_propose = has_role(request.user, PROPOSERS)
    context = {
        "case": case,
        "page": page,
        "rows": _item_rows(request, page, referrals, can_propose),
        "form": form,
        "can_log": can_log,
        "can_propose": can_propose,
        "timeline": case_selectors.case_timeline(case, before=_cursor(request, "events_before")),
        "events_first_query": _without(request, "events_before"),
        "can_close": has_role(request.user, SUPERVISORS),
        "assignees": _assignees() if can_log else [],
        "summary": _printable(case_page.case_summary(case)),
        "log_fields": _log_fields(form, case) if can_log and case.status == CaseStatus.OPEN else "",
    }
    if context["timeline"].older_cursor:
        query = request.GET.copy()
        query["events_before"] = str(context["timeline"].older_cursor)
        context["events_older_query"] = query.urlencode()
    return render(request, "referral/case_detail.html", context)


SUMMARY_ROW = '<tr><th scope="row">{label}</th><td class="num">{n}</td></tr>'
NO_CATEGORIES = mark_safe('<tr><td colspan="2" class="none">No categories assessed.</td></tr>')  # noqa: S308
NO_PLATFORM_NAME = mark_safe('<span class="warning-text">No platform</span>')  # noqa: S308  (a constant)


def _summary_rows(pairs) -> SafeString:
    """A summary table's rows (SUMMARY_ROW) in one pass; the counts as str, which a template would localise."""
    return mark_safe("".join(html_row(SUMMARY_ROW, {"label": label, "n": str(n)})  # noqa: S308  (built escaped)
                             for label, n in pairs))


def _printable(summary: dict) -> dict:
    """The summary with its three tables' rows written (status, category, platform): 70-odd rows of a template's
    loop cost more than the rest of the summary."""
    return {"total": summary["total"],
            "status_rows": _summary_rows(summary["status"].items()),
            "category_rows": _summary_rows(summary["category"].items()) or NO_CATEGORIES,
            "platform_rows": _summary_rows((name or NO_PLATFORM_NAME, n) for name, n in summary["platform"])}


def _log_fields(form: ItemLogForm | None, case) -> SafeString:
    """The log form's fields: a posted form with its values and errors, or else the empty form, the same markup for
    the same case and platform list, rendered once for them (cases/memo.py)."""
    template = "referral/_item_log_fields.html"
    if form is not None:
        return render_to_string(template, {"form": form, "case": case})
    platforms = platform_choices()
    return LOG_FIELDS.get((case.pk, tuple(platforms)), lambda: render_to_string(
        template, {"form": ItemLogForm(platforms=platforms, renderer=FAST_RENDERER), "case": case}))


def _staff_query():
    from accounts.models import User

    return User.objects.filter(is_active=True, role__in=LOGGERS).order_by("username").values_list("pk", "username")


_STAFF = CompiledQuery(_staff_query)


def _assignees() -> list[tuple[int, str]]:
    return _STAFF.rows()[1]


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
