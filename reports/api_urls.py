"""API v1 paths of the unit's numbers (included by config/api_urls.py)."""

from django.urls import path

from . import api

urlpatterns = [
    path("reports/referrals/", api.ReferralReport.as_view(), name="report-referrals"),
]
