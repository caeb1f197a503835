"""The period report's printable page and its CSV (unit staff only; the API's JSON is reports/api.py)."""

from django.shortcuts import render
from django.views.decorators.http import require_safe

from core.access import UNIT_STAFF, role_required
from core.form_rendering import FAST_RENDERER
from reports import exports
from reports.forms import PeriodForm
from reports.period import period_report


@require_safe
@role_required(*UNIT_STAFF)
def report_page(request):
    form = PeriodForm(request.GET, renderer=FAST_RENDERER)  # no days given: the last 30
    report = None
    if form.is_valid():
        report = period_report(request.user, form.cleaned_data["from"], form.cleaned_data["to"])
    return render(request, "reports/period.html", {"form": form, "report": report,
                                                   "query": request.GET.urlencode()})


@require_safe
@role_required(*UNIT_STAFF)
def report_csv(request):
    form = PeriodForm(request.GET, required=True)
    if not form.is_valid():
        return render(request, "reports/period.html", {"form": form, "report": None}, status=400)
    report = period_report(request.user, form.cleaned_data["from"], form.cleaned_data["to"])
    header, rows = exports.report_rows(report)
    return exports.csv_response(f"referral-report-{report['from']}-{report['to']}.csv", header, rows)
