"""Bulk intake pages (referral/views/intake.py)."""

from django.urls import path

from intake import views as intake

urlpatterns = [
    path("cases/<int:pk>/import/", intake.case_import, name="case-import"),
    path("imports/<uuid:pk>/", intake.import_detail, name="import-detail"),
    path("imports/<uuid:pk>/progress/", intake.import_progress, name="import-progress"),
    path("imports/<uuid:pk>/start/", intake.import_start, name="import-start"),
    path("imports/<uuid:pk>/report.csv", intake.import_report, name="import-report"),
]
