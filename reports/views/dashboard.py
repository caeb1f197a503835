"""The dashboard (/dashboard/): the unit's referrals per day by outcome and per platform, with CSV downloads.
Unit staff only, checked here and again in every selector."""

from django.shortcuts import render
from django.views.decorators.http import require_safe

from core.access import UNIT_STAFF, role_required
from core.form_rendering import FAST_RENDERER
from reports import buckets, exports
from reports import selectors as report_selectors
from reports.forms import DashboardFilterForm


def _filters(request):
    form = DashboardFilterForm(request.GET or None, renderer=FAST_RENDERER)
    return form, form.filters()


@require_safe
@role_required(*UNIT_STAFF)
def dashboard(request):
    form, filters = _filters(request)
    platforms = report_selectors.per_platform(request.user, filters)
    for row in platforms:
        for key in ("ack_median", "ack_p90", "removal_median", "removal_p90", "offline_median"):
            row[f"{key}_label"] = buckets.bound_label(row[key])
    days = report_selectors.referrals_per_day(request.user, filters)
    series = [key for key, _, _ in report_selectors.OUTCOME_SERIES]
    for row in days:  # the table's cells in order: one loop in the template, no lookup per cell
        row["cells"] = [row[key] for key in series]
    context = {
        "form": form, "filters": filters, "query": request.GET.urlencode(), "days": days,
        "series": report_selectors.OUTCOME_SERIES,
        "platforms": platforms,
        "overdue": report_selectors.overdue_now(request.user, filters),
        "dead_letters": report_selectors.dead_letters_now(request.user, filters),
    }
    return render(request, "reports/dashboard.html", context)


@require_safe
@role_required(*UNIT_STAFF)
def dashboard_daily_csv(request):
    _, filters = _filters(request)
    header, rows = exports.daily_rows(report_selectors.referrals_per_day(request.user, filters))
    return exports.csv_response(f"referrals-per-day-{filters.date_from}-{filters.date_to}.csv", header, rows)


@require_safe
@role_required(*UNIT_STAFF)
def dashboard_platforms_csv(request):
    _, filters = _filters(request)
    header, rows = exports.platform_rows(report_selectors.per_platform(request.user, filters))
    return exports.csv_response(f"referrals-per-platform-{filters.date_from}-{filters.date_to}.csv", header, rows)
