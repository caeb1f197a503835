"""API v1 (/api/v1/): every app's paths under one namespace, "api"."""

from django.urls import include, path

app_name = "api"

urlpatterns = [
    path("", include("platforms.api_urls")),
    path("", include("cases.api_urls")),
    path("", include("referral.api.urls")),
    path("", include("reports.api_urls")),
    path("", include("liveness.api_urls")),
    path("", include("intake.api_urls")),
    path("", include("evidence.api_urls")),
    path("", include("search.api_urls")),
]
