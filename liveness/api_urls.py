"""API v1 paths of the desk's own checks (included by config/api_urls.py)."""

from django.urls import path

from . import api

urlpatterns = [
    path("referrals/<int:pk>/reminder/", api.ReferralRemind.as_view(), name="referral-reminder"),
]
