from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    # The admin signs in through the desk's own form: the password, then the second factor (accounts/views.py).
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("admin/", admin.site.urls),
    # The pages, app by app. Every view checks the role on the server (core/access.py).
    path("", include("accounts.urls")),
    path("", include("cases.urls")),
    path("", include("referral.urls")),
    path("", include("liveness.urls")),
    path("", include("reports.urls")),
    path("", include("alerts.urls")),
    path("", include("intake.urls")),
    path("", include("evidence.urls")),
    path("", include("search.urls")),
    path("", include("notifications.urls")),
]
