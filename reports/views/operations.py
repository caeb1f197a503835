"""Operations (Referral Action Days): the list and creation, the live board (its rows refreshed by htmx every 10 s),
closing, and the report as HTML, CSV, JSON and PDF. Unit staff read; supervisors create and close."""

import json

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.access import UNIT_STAFF, role_required, show_domain_error
from core.errors import DomainError
from core.roles import SUPERVISORS, has_role
from reports import actions, exports
from reports import operations as selectors
from reports.forms import OperationForm
from reports.pdf import operation_pdf


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(*UNIT_STAFF)
def operation_list(request):
    can_create = has_role(request.user, SUPERVISORS)
    form = OperationForm(request.POST if request.method == "POST" and can_create else None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            operation = actions.operation_create(actor=request.user, name=data["name"], starts_at=data["starts_at"],
                                                 ends_at=data["ends_at"], case_ids=data["cases"], units=data["units"])
        except DomainError as exc:
            show_domain_error(request, exc, form)
        else:
            return redirect("operation-board", pk=operation.pk)
    return render(request, "reports/operations.html", {
        "operations": selectors.operations(request.user)[:200], "form": form if can_create else None})


def _operation(request, pk):
    return get_object_or_404(selectors.operations(request.user), pk=pk)


@require_safe
@role_required(*UNIT_STAFF)
def operation_board(request, pk: int):
    operation = _operation(request, pk)
    return render(request, "reports/operation_board.html", {
        "operation": operation, "board": selectors.board(request.user, operation),
        "can_close": operation.closed_at is None and has_role(request.user, SUPERVISORS)})


@require_safe
@role_required(*UNIT_STAFF)
def operation_board_rows(request, pk: int):
    """The board's table alone, for htmx's refresh."""
    operation = _operation(request, pk)
    return render(request, "reports/_operation_rows.html", {"operation": operation,
                                                            "board": selectors.board(request.user, operation)})


@require_POST
@role_required(*UNIT_STAFF)
def operation_close(request, pk: int):
    try:
        actions.operation_close(actor=request.user, operation_id=pk)
    except DomainError as exc:
        show_domain_error(request, exc)
    else:
        messages.success(request, "The operation is closed; its report is final.")
    return redirect("operation-report", pk=pk)


@require_safe
@role_required(*UNIT_STAFF)
def operation_report(request, pk: int):
    operation = _operation(request, pk)
    board = selectors.board(request.user, operation)
    kind = request.GET.get("format", "html")
    name = f"operation-{operation.pk}"
    if kind == "json":
        body = {"operation": {"id": operation.pk, "name": operation.name, "starts_at": operation.starts_at.isoformat(),
                              "ends_at": operation.ends_at.isoformat(), "units": operation.units.splitlines(),
                              "closed_at": operation.closed_at.isoformat() if operation.closed_at else None},
                **board}
        return HttpResponse(json.dumps(body, indent=2), content_type="application/json")
    if kind == "csv":
        header, rows = exports.operation_rows(board)
        return exports.csv_response(f"{name}.csv", header, rows)
    if kind == "pdf":
        response = HttpResponse(operation_pdf(operation, board), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
        return response
    return render(request, "reports/operation_report.html", {"operation": operation, "board": board})
