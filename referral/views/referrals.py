"""Referrals: the unit sees all of them, a platform liaison only their own platform's (others are 404)."""

import csv

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_safe

from core.access import REFERRAL_READERS, UNIT_STAFF, role_required, show_domain_error
from core.errors import DomainError
from core.form_rendering import FAST_RENDERER
from core.paging import keyset_page
from core.roles import DECIDERS, TRIAGERS, has_role
from core.table_cells import NONE, href_format, html_row, status_html, time_html
from liveness.selectors import liveness_panel
from referral import order_document, tco_report
from referral import selectors as referral_selectors
from referral.actions.withdrawal import WITHDRAWABLE
from referral.forms import BulkWithdrawForm, ClarifyForm, ReferralFilterForm, WithdrawForm
from referral.models import AWAITING_OUTCOME, Instrument, ReferralStatus

LIST_COLUMNS = ("id", "item__url", "platform__name", "instrument", "status", "due_at", "sent_at", "outcome_at",
                "platform_reference")  # the id first: keyset_page's cursor


# A row of the referrals table, filled in one pass by _rows (core/table_cells.html_row): a template's {{ }} per
# cell costs more than all of it.
ROW = (
    "<tr>\n"
    "      {select}"
    '<th scope="row"><a href="{href}">Referral {pk}</a></th>\n'
    '      <td class="url">{url}</td>\n'
    "      <td>{platform}</td>\n"
    "      <td>{instrument}</td>\n"
    "      <td>{status}</td>\n"
    "      <td>\n"
    "        {due}\n"
    "        {overdue}\n"
    "      </td>\n"
    "      <td>{sent}</td>\n"
    "      <td>{outcome}</td>\n"
    "      <td>{reference}</td>\n"
    "    </tr>"
)
# A supervisor's rows start with a checkbox of the bulk withdrawal form (outside the table: form="bulk-withdraw").
SELECT = ('<td><input type="checkbox" id="select-{pk}" name="referrals" value="{pk}" form="bulk-withdraw">'
          '<label for="select-{pk}" class="visually-hidden">Select referral {pk}</label></td>\n      ')
OVERDUE = mark_safe('<strong class="overdue">Overdue</strong>')  # noqa: S308  (a constant)
OUTCOME = "{label}, {at}"
EMPTY_CELL = mark_safe("<td></td>\n      ")  # noqa: S308  (a constant)
NO_CELL = mark_safe("")  # noqa: S308  (a constant)


def _rows(values, selectable: bool = False) -> list[SafeString]:
    """The table's rows (ROW) from value rows, in one pass (see core/table_cells.py); `selectable`: with the
    checkbox of the bulk withdrawal (SELECT) where the referral can still be withdrawn."""
    href, now, tz = href_format("referral-detail"), timezone.now(), timezone.get_current_timezone()
    instruments, statuses = dict(Instrument.choices), dict(ReferralStatus.choices)
    rows = []
    for pk, url, platform, instrument, status, due_at, sent_at, outcome_at, reference in values:
        label = statuses.get(status, status)
        rows.append(html_row(ROW, {
            "select": html_row(SELECT, {"pk": pk}) if selectable and status in WITHDRAWABLE
            else EMPTY_CELL if selectable else NO_CELL,
            "pk": pk, "href": href.format(pk), "url": url, "platform": platform,
            "instrument": instruments.get(instrument, instrument), "status": status_html(status, label),
            "due": time_html(due_at, tz), "sent": time_html(sent_at, tz),
            # Referral.is_overdue_at, on the row's values
            "overdue": OVERDUE if status in AWAITING_OUTCOME and due_at is not None and due_at < now else "",
            "outcome": html_row(OUTCOME, {"label": label, "at": time_html(outcome_at, tz)}) if outcome_at else NONE,
            "reference": reference or "—",
        }))
    return rows


@require_safe
@role_required(*REFERRAL_READERS)
def referral_list(request):
    referrals = referral_selectors.referrals_for(request.user)
    filters = ReferralFilterForm(request.GET, renderer=FAST_RENDERER)
    if filters.is_valid() and filters.cleaned_data["status"]:
        referrals = referrals.filter(status=filters.cleaned_data["status"])
    page = keyset_page(request, referrals.values_list(*LIST_COLUMNS))
    can_withdraw = has_role(request.user, DECIDERS)
    context = {"page": page, "rows": _rows(page.rows, selectable=can_withdraw), "filters": filters,
               "can_withdraw": can_withdraw, "withdraw_form": BulkWithdrawForm(renderer=FAST_RENDERER) if can_withdraw
               else None, "here": request.GET.urlencode()}
    return render(request, "referral/referral_list.html", context)


@require_safe
@role_required(*REFERRAL_READERS)
def referral_detail(request, pk: int):
    referral = get_object_or_404(referral_selectors.referrals_for(request.user).select_related("approved_by"), pk=pk)
    # The contact point's signing secrets are never shown: leave them in the database. The payload bytes are
    # not shown either (the attempts carry their SHA-256).
    deliveries = referral_selectors.deliveries_with_attempts(referral).defer(
        "payload", "contact_point__secret", "contact_point__previous_secret"
    )
    needs_info = referral.status == ReferralStatus.NEEDS_INFO
    context = {
        "referral": referral,
        "liveness": liveness_panel(referral) if request.user.is_unit_staff else None,
        "deliveries": deliveries,
        "is_unit_staff": request.user.is_unit_staff,
        "withdraw_form": WithdrawForm() if has_role(request.user, DECIDERS) and referral.status in WITHDRAWABLE
        else None,
        "clarify_form": ClarifyForm() if has_role(request.user, TRIAGERS) and needs_info else None,
    }
    return render(request, "referral/referral_detail.html", context)


@require_safe
@role_required(*REFERRAL_READERS)
def referral_order(request, pk: int):
    """A removal order's Annex I form, printable (the PDF beside it: /api/v1/referrals/<id>/order/)."""
    referral = get_object_or_404(referral_selectors.referrals_for(request.user)
                                 .select_related("order__signatory", "platform__legal", "item"), pk=pk)
    order = getattr(referral, "order", None)
    if order is None:
        raise Http404("Not a removal order.")
    language = request.GET.get("language") or order_document.language_for(referral.platform)
    language = language if language in order_document.LANGUAGES else "en"
    return render(request, "referral/order.html", {
        "referral": referral, "order": order, "language": language, "title": order_document.title(language),
        "sections": order_document.sections(order, language), "answers": order_document.answers(order),
        "order_referrals": referral_selectors.order_referrals(order, request.user),
        # The unit's own record (who drafted, approved, sent; every answer, pause and decision): not the platform's.
        "record": referral_selectors.order_record(order) if request.user.is_unit_staff else None})


@require_safe
@role_required(*UNIT_STAFF)
def orders_report(request):
    """The TCO Art 8 report for a period: a printable page, or CSV with ?download=csv."""
    today = timezone.localdate()
    start = request.GET.get("from") or today.replace(month=1, day=1).isoformat()
    end = request.GET.get("to") or today.isoformat()
    context = {"start": start, "end": end, "rows": None}
    try:
        period = tco_report.parse_period(start, end)
    except DomainError as exc:
        show_domain_error(request, exc)
        return render(request, "referral/orders_report.html", context, status=400)
    report = tco_report.tco_report(request.user, period)
    rows = tco_report.report_rows(report)
    if request.GET.get("download") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="tco-report-{period.start}-{period.end}.csv"'})
        writer = csv.writer(response)
        writer.writerow(["measure", "value"])
        writer.writerows((label.strip(), value) for label, value in rows)
        return response
    context.update(rows=rows, report=report)
    return render(request, "referral/orders_report.html", context)
