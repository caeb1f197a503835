"""Pages of the unit's numbers. Every view checks the role on the server (core/access.py)."""

from django.urls import path

from .views import dashboard, period

urlpatterns = [
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/per-day.csv", dashboard.dashboard_daily_csv, name="dashboard-daily-csv"),
    path("dashboard/per-platform.csv", dashboard.dashboard_platforms_csv, name="dashboard-platforms-csv"),
    path("reports/referrals/", period.report_page, name="report-referrals"),
    path("reports/referrals.csv", period.report_csv, name="report-referrals-csv"),
]
