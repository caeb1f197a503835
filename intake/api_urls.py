"""Bulk intake: /api/v1/imports/ (see referral/api/imports.py)."""

from django.urls import path

from intake import api as imports

urlpatterns = [
    path("imports/", imports.ImportCreate.as_view(), name="import-create"),
    path("imports/<uuid:pk>/", imports.ImportDetail.as_view(), name="import-detail"),
    path("imports/<uuid:pk>/report/", imports.ImportReport.as_view(), name="import-report"),
]
