"""Pages of the unit's numbers. Every view checks the role on the server (core/access.py)."""

from django.urls import path

from .views import dashboard, operations, period

urlpatterns = [
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/per-day.csv", dashboard.dashboard_daily_csv, name="dashboard-daily-csv"),
    path("dashboard/per-platform.csv", dashboard.dashboard_platforms_csv, name="dashboard-platforms-csv"),
    path("reports/referrals/", period.report_page, name="report-referrals"),
    path("reports/referrals.csv", period.report_csv, name="report-referrals-csv"),
    path("operations/", operations.operation_list, name="operation-list"),
    path("operations/<int:pk>/", operations.operation_board, name="operation-board"),
    path("operations/<int:pk>/rows/", operations.operation_board_rows, name="operation-board-rows"),
    path("operations/<int:pk>/close/", operations.operation_close, name="operation-close"),
    path("operations/<int:pk>/report/", operations.operation_report, name="operation-report"),
]
